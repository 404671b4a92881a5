"""What a person can ask of the service about themselves, on any channel: erase my conversation,
stop writing to me, a code word and a quiet time for safe contact.

Each runs as one `Change`, so its events are published like any other: open consoles drop an
erased conversation at once.
"""
from __future__ import annotations

import re
import secrets
from copy import copy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from lotsa.conversations import Conversations, contact_by_key, open_conversation
from lotsa.crypto import Keyring
from lotsa.models import (
    Author,
    Callback,
    Conversation,
    ConversationState,
    Message,
    OutboxItem,
    TriageRecord,
    utcnow,
)
from lotsa.retention import reduce_to_statistics

QUIET = re.compile(r"^(\d{1,2})\s*[-–:]\s*(\d{1,2})$")
OFF_WORDS = {"av", "off", "nej", "no", "stop", "-"}


@dataclass
class Erased:
    """What was erased, for the adapter to clean up on the provider's side too."""

    conversations: int = 0
    language: str | None = None
    provider_ids: list[str] = field(default_factory=list)
    """Ids the provider gave our outgoing messages (e.g. Telegram message ids)."""
    inbound: list[dict[str, Any]] = field(default_factory=list)
    """The provider details kept on the person's own messages (e.g. {"tg": message id})."""

    def inbound_meta(self, key: str) -> list[Any]:
        return [meta[key] for meta in self.inbound if key in meta]


def parse_quiet(value: str) -> tuple[int, int] | None:
    """'22-07' → (22, 7); None when it is not two hours of the day."""
    match = QUIET.match(value.strip())
    if not match:
        return None
    start, end = int(match.group(1)), int(match.group(2))
    if start > 23 or end > 23 or start == end:
        return None
    return start, end


class ContactRequests:
    """The person's own requests, whatever channel they come from."""

    def __init__(self, conversations: Conversations, keyring: Keyring) -> None:
        self.conversations = conversations
        self.keyring = keyring
        self.texts = conversations.outgoing.texts

    async def erase_contact(self, channel: str, contact_key: str) -> Erased:
        """Erase every transcript of this person, keep the anonymous statistics, and unlink them:
        the next message starts afresh, not recognised as a returning person."""
        erased = Erased()
        async with self.conversations.change() as change:
            session = change.session
            contact = await contact_by_key(session, contact_key)
            if contact is None:
                return erased
            conversations = (await session.execute(
                select(Conversation).where(Conversation.contact_id == contact.id)
                .order_by(Conversation.id))).scalars().all()
            ids = [c.id for c in conversations]
            if ids:
                erased.provider_ids = [pid for (value,) in (await session.execute(
                    select(OutboxItem.provider_message_id).where(
                        OutboxItem.conversation_id.in_(ids), OutboxItem.provider_message_id.is_not(None))))
                    for pid in (value or "").split(",") if pid]
                erased.inbound = [meta for (meta,) in (await session.execute(
                    select(Message.meta).where(Message.conversation_id.in_(ids), Message.direction == "in")))]
            erased.language = next((c.language for c in reversed(conversations) if c.language), None)
            await reduce_to_statistics(change, conversations, utcnow(), {"erased_by_contact": True})
            erased.conversations = len(conversations)
            contact.key = f"erased:{secrets.token_hex(16)}"
            contact.reply_address = None
            contact.prefs = {}
        return erased

    async def opt_out(self, channel: str, contact_key: str, language: str | None, *,
                      receipt: bool = True) -> bool:
        """STOP: close the open conversation (with a receipt, unless the provider sends its own);
        nothing more is written unasked. Returns False when there was no conversation."""
        async with self.conversations.change() as change:
            conversation = await open_conversation(change.session, contact_key, lock=True)
            if conversation is None:
                return False
            if receipt:
                change.say(conversation, Author.BOT,
                           self.texts.text("commands.stopped", conversation.language or language))
            change.close(conversation)
        return True

    async def set_preference(self, contact_key: str, name: str, value: str,
                             language: str | None) -> str | None:
        """A code word or quiet time. Returns the answer to give directly when there is no open
        conversation to answer in (else it goes out through the outbox)."""
        answer, prefs_change = self._preference(name, value, language)
        async with self.conversations.change() as change:
            session = change.session
            contact = await contact_by_key(session, contact_key)
            if contact is not None:
                prefs = dict(contact.prefs or {})
                for key, new in prefs_change.items():
                    if new is None:
                        prefs.pop(key, None)
                    else:
                        prefs[key] = new
                contact.prefs = prefs
            conversation = await open_conversation(session, contact_key, lock=True)
            if conversation is None:
                return answer
            change.say(conversation, Author.BOT, answer)
        return None

    def _preference(self, name: str, value: str, language: str | None
                    ) -> tuple[str, dict[str, Any]]:
        if name in ("kodord", "codeword"):
            word = " ".join(value.split())[:40]
            if not word or word.lower() in OFF_WORDS:
                return self.texts.text("commands.code_word_cleared", language), {"code_word": None}
            return (self.texts.text("commands.code_word_set", language),
                    {"code_word": self.keyring.encrypt_address(word).decode()})
        if value.strip().lower() in OFF_WORDS:
            return self.texts.text("commands.quiet_cleared", language), {"quiet": None}
        window = parse_quiet(value)
        if window is None:
            return self.texts.text("commands.quiet_bad", language), {}
        start, end = window
        return self.texts.text("commands.quiet_set", language, start=f"{start:02d}", end=f"{end:02d}"), {
            "quiet": [start, end]}

    async def ask_callback(self, contact_key: str, window: str) -> bool:
        """A caller on hold would rather be called back in `window`: kept on the conversation and
        told to the counsellors. False when the caller has no open conversation."""
        async with self.conversations.change() as change:
            conversation = await open_conversation(change.session, contact_key, lock=True)
            if conversation is None:
                return False
            triage = copy(conversation.triage or TriageRecord())
            triage["callback"] = Callback(window=window, asked_at=utcnow().isoformat())
            conversation.triage = triage
            change.update(conversation)
            when = self.texts.text(f"voice.window_{window}", conversation.language)
            await change.say_system(conversation, "voice.callback_note", window=when)
        return True

    async def hang_up(self, contact_key: str) -> None:
        """The call ended. A caller still waiting (without a callback asked for) leaves the queue; a
        call a counsellor took stays theirs to wrap up."""
        async with self.conversations.change() as change:
            conversation = await open_conversation(change.session, contact_key, lock=True)
            if conversation is None:
                return
            waiting = conversation.state in (ConversationState.TRIAGE, ConversationState.QUEUED)
            if waiting and "callback" in (conversation.triage or {}):
                return
            await change.say_system(conversation, "voice.caller_hung_up" if waiting else "voice.call_ended")
            if waiting:
                change.close(conversation)
