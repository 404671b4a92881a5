"""What a person can ask of the service about themselves, on any channel: erase my conversation,
stop writing to me, a code word and a quiet time for safe contact.

These run in the pipeline's transactions and publish the same events as messages do, so open
consoles drop an erased conversation at once.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot import commands
from lotsa.events import CONSOLE_TOPIC, QUEUE_TOPIC, Event, conversation_topic
from lotsa.models import (
    Author,
    Contact,
    Conversation,
    ConversationState,
    Message,
    OutboxItem,
    utcnow,
)
from lotsa.retention import reduce_to_statistics

if TYPE_CHECKING:
    from lotsa.pipeline import Pipeline

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
    """Mixed into `Pipeline`: the person's own requests."""

    async def erase_contact(self: Pipeline, channel: str, contact_key: str) -> Erased:
        """Erase every transcript of this person, keep the anonymous statistics, and unlink them:
        the next message starts afresh, not recognised as a returning person."""
        erased = Erased()
        async with self.db.write() as session:
            contact = (await session.execute(select(Contact).where(Contact.key == contact_key))).scalar()
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
            _, closed = await reduce_to_statistics(session, conversations, utcnow(), {"erased_by_contact": True})
            erased.conversations = len(conversations)
            contact.key = f"erased:{secrets.token_hex(16)}"
            contact.reply_address = None
            contact.prefs = {}
        for conversation in closed:
            event = Event("state", conversation.id, {"state": ConversationState.CLOSED, "erased": True})
            self.events.publish(conversation_topic(conversation.id), event)
            self.events.publish(QUEUE_TOPIC, event)
            self.events.publish(CONSOLE_TOPIC, event)
        return erased

    async def opt_out(self: Pipeline, channel: str, contact_key: str, language: str | None, *,
                      receipt: bool = True) -> bool:
        """STOP: close the open conversation (with a receipt, unless the provider sends its own);
        nothing more is written unasked. Returns False when there was no conversation."""
        async with self.db.write() as session:
            conversation = await self._open_conversation(session, contact_key)
            if conversation is None:
                return False
            messages = [self._outgoing(session, conversation, Author.BOT,
                                       commands.text("stopped", conversation.language or language))
                        ] if receipt else []
            conversation.state = ConversationState.CLOSED
            conversation.closed_at = utcnow()
            await session.flush()
        self._publish([(conversation, messages, True)])
        return True

    async def set_preference(self: Pipeline, contact_key: str, name: str, value: str,
                             language: str | None) -> str | None:
        """A code word or quiet time. Returns the answer to give directly when there is no open
        conversation to answer in (else it goes out through the outbox)."""
        answer, prefs_change = self._preference(name, value, language)
        async with self.db.write() as session:
            contact = (await session.execute(select(Contact).where(Contact.key == contact_key))).scalar()
            if contact is not None:
                prefs = dict(contact.prefs or {})
                for key, new in prefs_change.items():
                    if new is None:
                        prefs.pop(key, None)
                    else:
                        prefs[key] = new
                contact.prefs = prefs
            conversation = await self._open_conversation(session, contact_key)
            if conversation is None:
                return answer
            message = self._outgoing(session, conversation, Author.BOT, answer)
            await session.flush()
        self._publish([(conversation, [message], False)])
        return None

    def _preference(self: Pipeline, name: str, value: str, language: str | None
                    ) -> tuple[str, dict[str, Any]]:
        if name in ("kodord", "codeword"):
            word = " ".join(value.split())[:40]
            if not word or word.lower() in OFF_WORDS:
                return commands.text("code_word_cleared", language), {"code_word": None}
            return (commands.text("code_word_set", language),
                    {"code_word": self.keyring.encrypt_address(word).decode()})
        if value.strip().lower() in OFF_WORDS:
            return commands.text("quiet_cleared", language), {"quiet": None}
        window = parse_quiet(value)
        if window is None:
            return commands.text("quiet_bad", language), {}
        start, end = window
        return commands.text("quiet_set", language).format(start=f"{start:02d}", end=f"{end:02d}"), {
            "quiet": [start, end]}

    async def _open_conversation(self: Pipeline, session: Any, contact_key: str) -> Conversation | None:
        return (await session.execute(
            select(Conversation).join(Contact).where(Contact.key == contact_key,
                                                     Conversation.state != ConversationState.CLOSED)
            .order_by(Conversation.id.desc()).limit(1).with_for_update(of=Conversation))).scalar()
