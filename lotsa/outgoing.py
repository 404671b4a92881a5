"""Writing a message to a person: stored, put in the outbox for provider channels, and held back
when a phone someone else may read has been quiet for a while ("is it ok to write now?").

Runs inside the caller's transaction; `lotsa.conversations.Change` is the caller.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lotsa import direct_writes, sqlite_direct
from lotsa.crypto import Keyring
from lotsa.db import affected
from lotsa.models import Author, Contact, Conversation, Message, OutboxItem, OutboxState, utcnow
from lotsa.safe_contact import hold_until
from lotsa.sqlite_direct import Prepared, connection_of
from lotsa.texts import Catalogue

SAFE_CONTACT_CHANNELS = frozenset({"sms", "telegram"})
"""Channels that reach a phone someone else may read: the "is it safe to write now?" rule applies."""


_OUTBOX = cast(Table, OutboxItem.__table__)
_RELEASE = (update(_OUTBOX)
            .where(_OUTBOX.c.conversation_id == bindparam("held_in"),
                   _OUTBOX.c.state.in_([OutboxState.HELD, OutboxState.PENDING]))
            .values(state=OutboxState.PENDING, next_attempt_at=bindparam("released_at")))
"""Built once: it runs on every inbound SMS and Telegram message. A Core statement on the session's
connection, not an ORM-enabled one (whose bookkeeping cost about a millisecond per message): outbox
items loaded in the session are not brought up to date, and no caller reads their state afterwards."""
_DIRECT_RELEASE = Prepared(update(_OUTBOX).where(
    _OUTBOX.c.conversation_id == bindparam("held_in"),
    or_(_OUTBOX.c.state == OutboxState.HELD, _OUTBOX.c.state == OutboxState.PENDING))
    .values(state=OutboxState.PENDING, next_attempt_at=bindparam("released_at")))
"""The same by sqlite3 (`lotsa.sqlite_direct`; its statements are compiled once, so without IN's
expanding parameters)."""


class Outgoing:
    def __init__(self, keyring: Keyring, texts: Catalogue, *, outbox_channels: Iterable[str] = (),
                 safe_contact_after: timedelta = timedelta(minutes=30)) -> None:
        self.keyring = keyring
        self.texts = texts
        self.safe_contact_after = safe_contact_after
        self.deliver_through(outbox_channels)

    def deliver_through(self, channels: Iterable[str]) -> None:
        """The channels whose messages leave through the outbox (known once channels are built)."""
        self.outbox_channels = frozenset(channels)
        self.safe_contact_channels = SAFE_CONTACT_CHANNELS & self.outbox_channels

    def add(self, session: AsyncSession, conversation: Conversation, author: str, text: str,
            meta: dict[str, Any] | None = None, author_id: int | None = None, *, held: bool = False,
            send_at: datetime | None = None) -> Message:
        """Store one outgoing message and, for a provider channel, its outbox item (staged:
        written before the session's next statement, `lotsa.direct_writes`)."""
        meta = dict(meta or {})
        if held:
            meta["held"] = True
        message = direct_writes.new_message(conversation_id=conversation.id, channel=conversation.channel,
                                            direction="out", author=author, author_id=author_id, text=text,
                                            meta=meta, provider_message_id=None)
        outbox = None
        if conversation.channel in self.outbox_channels:
            now = utcnow()
            outbox = {"conversation_id": conversation.id, "channel": conversation.channel,
                      "idempotency_key": uuid.uuid4().hex,
                      "state": OutboxState.HELD if held else OutboxState.PENDING, "attempts": 0,
                      "next_attempt_at": send_at or now, "created_at": now}
        direct_writes.stage(session, message, outbox)
        return message

    async def safe_check(self, session: AsyncSession, conversation: Conversation) -> list[Message] | None:
        """Before writing to a phone someone else may read after a pause, ask "is it safe to write
        now?" (the person's code word, if they chose one) and hold the message until they answer.
        Returns the check message(s) sent, or None when the message may go out at once."""
        if conversation.channel not in self.safe_contact_channels:
            return None
        already_held = await session.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.conversation_id == conversation.id, OutboxItem.state == OutboxState.HELD))
        if already_held:
            return []
        last_in: datetime | None = await session.scalar(select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation.id, Message.direction == "in"))
        contact = await session.get(Contact, conversation.contact_id)
        prefs = contact.prefs if contact is not None else {}
        send_at = hold_until(utcnow(), last_in, self.safe_contact_after, prefs.get("quiet"))
        if send_at is None:
            return None
        code_word = self.keyring.decrypt_address(prefs["code_word"].encode()) if prefs.get("code_word") else None
        check = self.add(session, conversation, Author.SYSTEM,
                         code_word or self.texts.text("commands.safe_check", conversation.language),
                         {"safe_check": True}, send_at=send_at)
        return [check]

    async def release_held(self, session: AsyncSession, conversation: Conversation) -> int:
        """The person wrote: what waited for them to say it is safe to write goes out now."""
        if conversation.channel not in self.safe_contact_channels:
            return 0
        await direct_writes.write(session)   # items staged in this change are released too
        values = {"held_in": conversation.id, "released_at": utcnow()}
        direct = await sqlite_direct.of(session)
        if direct is not None:
            return _DIRECT_RELEASE.execute(direct, values).rowcount
        return affected(await (await connection_of(session)).execute(_RELEASE, values))
