"""The outbox relay: delivers stored outgoing messages to provider channels, with retries.

Each round leases due items (one UPDATE pushes their `next_attempt_at` forward in the transaction that
chose them; on PostgreSQL rows another worker holds are skipped), sends them, conversations side by
side and each one's items in order, and marks each outcome: sent, a retry with exponential backoff,
or a dead letter. Outcomes are marked together (`Marks`): one write transaction takes every outcome
that arrived while the previous one was committing, so a round sent at full speed costs a couple of
commits instead of one (and, on SQLite, one fsync and one turn of the single writer) per item, while
an item sent alone is still marked as soon as the provider took it.

An item is marked sent only after the provider accepted it. A crash between sending and marking
leaves it leased: after the lease it is sent again, flagged `in_doubt_since`; a channel that can ask
its provider what arrived (Twilio SMS) does not send it twice, the others (Telegram) may: delivery is
at least once.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from lotsa.channels import Channel, DeliveryError, OutboundMessage, PermanentDeliveryError
from lotsa.crypto import Keyring
from lotsa.db import Database
from lotsa.models import Contact, Conversation, Message, OutboxItem, OutboxState, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
BATCH = 50


MAX_BACKOFF = 60


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 … seconds, at most a minute: a person should not wait long after a provider is back."""
    return timedelta(seconds=min(2 ** attempts, MAX_BACKOFF))


_OUTBOX = cast(Table, OutboxItem.__table__)
_ITEM = _OUTBOX.c.id == bindparam("item")
_LEASE = (update(_OUTBOX).where(_OUTBOX.c.id.in_(bindparam("items", expanding=True)))
          .values(next_attempt_at=bindparam("until"), leased_until=bindparam("until")))
_SENT = update(_OUTBOX).where(_ITEM).values(
    state=OutboxState.SENT, sent_at=bindparam("at"), provider_message_id=bindparam("provider_id"),
    leased_until=None, last_error=None)
_RETRY = update(_OUTBOX).where(_ITEM).values(
    attempts=bindparam("tries"), last_error=bindparam("error"), next_attempt_at=bindparam("at"), leased_until=None)
_DEAD = update(_OUTBOX).where(_ITEM).values(
    state=OutboxState.DEAD, attempts=bindparam("tries"), last_error=bindparam("error"), leased_until=None)
_DEFER = update(_OUTBOX).where(_ITEM).values(next_attempt_at=bindparam("at"), leased_until=None)
_BACK = (update(_OUTBOX)
         .where(_OUTBOX.c.channel == bindparam("back"), _OUTBOX.c.state == OutboxState.PENDING,
                _OUTBOX.c.next_attempt_at > bindparam("now"), _OUTBOX.c.leased_until.is_(None))
         .values(next_attempt_at=bindparam("now")))
"""Built once, Core statements on the transaction's connection: the relay marks many items a second."""


@dataclass(frozen=True)
class Leased:
    """An item this relay holds until it is marked (or its lease runs out)."""

    id: int
    conversation_id: int
    channel: str
    attempts: int
    outbound: OutboundMessage | None
    """None when there is no reply address (erased, or the key to decrypt it is gone)."""


@dataclass
class _Batch:
    sent: list[dict[str, Any]] = field(default_factory=list)
    retry: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    defer: list[dict[str, Any]] = field(default_factory=list)
    back: set[str] = field(default_factory=set)
    """Channels that delivered again after a temporary failure."""

    def __bool__(self) -> bool:
        return bool(self.sent or self.retry or self.dead or self.defer or self.back)


class Marks:
    """A round's outcomes, written in as few transactions as the writer allows: a store takes
    everything gathered until it holds the write lock, and the next one what came in meanwhile."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._batch = _Batch()
        self._added = 0
        self._stored = 0
        self._writing = asyncio.Lock()
        self._soon: set[asyncio.Task[None]] = set()
        self.back: set[str] = set()
        """Channels released from backoff by a stored batch (the relay wakes for them)."""

    def sent(self, item: Leased, provider_id: str | None, back: bool) -> None:
        self._batch.sent.append({"item": item.id, "at": utcnow(), "provider_id": provider_id})
        if back:
            self._batch.back.add(item.channel)
        self._added += 1

    def retry(self, item: Leased, error: str, at: datetime, later: list[Leased]) -> None:
        """A temporary failure: the item and the conversation's items after it wait until `at`."""
        self._batch.retry.append({"item": item.id, "tries": item.attempts + 1, "error": error, "at": at})
        self._batch.defer.extend({"item": i.id, "at": at} for i in later)
        self._added += 1

    def dead(self, item: Leased, error: str) -> None:
        self._batch.dead.append({"item": item.id, "tries": item.attempts + 1, "error": error})
        self._added += 1

    def store_soon(self) -> None:
        """Store what was added without waiting for it (the sender goes on with its next item)."""
        if not any(not task.done() for task in self._soon):
            self._soon.add(asyncio.create_task(self._store_all(), name="outbox-marks"))

    async def _store_all(self) -> None:
        while self._stored < self._added:
            await self.store()

    async def settle(self) -> None:
        """Store everything added; raises the first failure of any store of this round."""
        try:
            await self.store()
        finally:
            failures = await asyncio.gather(*self._soon, return_exceptions=True)
        for failure in failures:
            if isinstance(failure, BaseException):
                raise failure

    def abandon(self) -> None:
        """The round was cancelled (the service stops): what is not stored yet is sent again, in
        doubt, after the lease."""
        for task in self._soon:
            task.cancel()

    async def store(self) -> None:
        """Returns when every outcome added before the call is committed (raises if its commit failed:
        the items stay leased and are sent again, in doubt, after the lease)."""
        target = self._added
        await asyncio.sleep(0)     # sends finishing in the same turn of the loop add theirs first
        async with self._writing:
            if self._stored >= target:
                return
            async with self.db.write() as session:
                # Taken once the write lock is ours: what arrived while waiting for it goes too.
                batch, upto = self._batch, self._added
                self._batch = _Batch()
                if not batch:       # a store before this one failed and took them: nothing to write
                    self._stored = upto
                    return
                connection = await session.connection()
                now = utcnow()
                for channel in batch.back:
                    await connection.execute(_BACK, {"back": channel, "now": now})
                for statement, rows in ((_SENT, batch.sent), (_RETRY, batch.retry), (_DEAD, batch.dead),
                                        (_DEFER, batch.defer)):
                    if rows:
                        await connection.execute(statement, rows)
            self._stored = upto
        self.back |= batch.back
        for row in batch.dead:
            log.warning("outbox item dead-lettered", extra={"outbox": row["item"], "attempts": row["tries"]})
        for row in batch.retry:
            log.info("outbox delivery failed; retrying", extra={"outbox": row["item"], "attempts": row["tries"]})


@dataclass(frozen=True)
class _Outcome:
    provider_id: str | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None


class OutboxRelay:
    def __init__(self, db: Database, keyring: Keyring, channels: Mapping[str, Channel],
                 idle_poll: float = 1.0, lease: timedelta = LEASE) -> None:
        self.db = db
        self.keyring = keyring
        self.channels = dict(channels)
        self.idle_poll = idle_poll
        self.lease = lease
        self._wake = asyncio.Event()
        self._stopping = False
        self._failing: set[str] = set()
        """Channels whose last delivery failed for a temporary reason."""
        self.on_attempt: Callable[[str, str], None] = lambda channel, outcome: None
        """Told of every delivery to a provider: (channel, sent | temporary | permanent)."""
        self._due = self._due_statement()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the round under way, then return from `run`."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                busy = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox round failed; trying again")
                busy = False
            if busy or self._stopping:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.idle_poll)
            except TimeoutError:
                pass
            self._wake.clear()

    async def deliver_due(self) -> int:
        """One round; returns how many items it attempted. Conversations are delivered side by
        side, each one's messages in order: a message that must wait holds back those after it.
        Returns once every outcome of the round is stored."""
        leased = await self._lease()
        by_conversation: dict[int, list[Leased]] = {}
        for item in leased:
            by_conversation.setdefault(item.conversation_id, []).append(item)
        marks = Marks(self.db)
        try:
            await asyncio.gather(*(self._deliver_in_order(items, marks) for items in by_conversation.values()))
        except asyncio.CancelledError:
            marks.abandon()
            raise
        await marks.settle()
        if marks.back:
            self._wake.set()      # what waited in backoff for a provider that is back goes now
        return len(leased)

    async def _deliver_in_order(self, items: list[Leased], marks: Marks) -> None:
        for index, item in enumerate(items):
            outcome = await self._send(item)
            if outcome.error is None:
                back = item.channel in self._failing
                self._failing.discard(item.channel)
                marks.sent(item, outcome.provider_id, back)
            elif outcome.permanent or item.attempts + 1 >= MAX_ATTEMPTS:
                marks.dead(item, outcome.error)
            else:
                self._failing.add(item.channel)
                delay = timedelta(seconds=outcome.retry_after) if outcome.retry_after else backoff(item.attempts + 1)
                marks.retry(item, outcome.error, utcnow() + delay, items[index + 1:])
                marks.store_soon()
                return
            marks.store_soon()

    def _due_statement(self) -> Any:
        """Due items of this relay's channels whose conversation has nothing earlier waiting."""
        earlier = _OUTBOX.alias("earlier")
        now: Any = bindparam("now")
        blocked = select(earlier.c.id).where(
            earlier.c.conversation_id == _OUTBOX.c.conversation_id, earlier.c.id < _OUTBOX.c.id,
            (earlier.c.state == OutboxState.HELD)
            | ((earlier.c.state == OutboxState.PENDING) & (earlier.c.next_attempt_at > now))).exists()
        messages, conversations, contacts = (cast(Table, m.__table__) for m in (Message, Conversation, Contact))
        return (select(_OUTBOX.c.id, _OUTBOX.c.conversation_id, _OUTBOX.c.channel, _OUTBOX.c.attempts,
                       _OUTBOX.c.idempotency_key, _OUTBOX.c.leased_until, messages.c.text, messages.c.meta,
                       contacts.c.reply_address)
                .join(messages, _OUTBOX.c.message_id == messages.c.id)
                .join(conversations, _OUTBOX.c.conversation_id == conversations.c.id)
                .join(contacts, conversations.c.contact_id == contacts.c.id)
                .where(_OUTBOX.c.state == OutboxState.PENDING, _OUTBOX.c.next_attempt_at <= now,
                       _OUTBOX.c.channel.in_(self.channels), ~blocked)
                .order_by(_OUTBOX.c.id).limit(BATCH)
                .with_for_update(skip_locked=True, of=_OUTBOX))

    async def _lease(self) -> list[Leased]:
        now = utcnow()
        async with self.db.write() as session:
            connection = await session.connection()
            rows = (await connection.execute(self._due, {"now": now})).all()
            if rows:
                await connection.execute(_LEASE, {"items": [row.id for row in rows], "until": now + self.lease})
        leased = []
        for row in rows:
            in_doubt = row.leased_until - self.lease if row.leased_until is not None else None
            if in_doubt is not None:
                log.warning("outbox item in doubt after an interrupted send", extra={"outbox": row.id})
            plain = self.keyring.decrypt_address(row.reply_address) if row.reply_address else None
            outbound = None if plain is None else OutboundMessage(
                row.idempotency_key, row.channel, plain, row.text,
                tuple(tuple(c) for c in (row.meta or {}).get("choices", ())), in_doubt_since=in_doubt)
            leased.append(Leased(row.id, row.conversation_id, row.channel, row.attempts, outbound))
        return leased

    async def _send(self, item: Leased) -> _Outcome:
        """Hand one item to its channel; a failure is an outcome, never an exception."""
        outbound = item.outbound
        if outbound is None:
            return _Outcome(error="no reply address (erased or undecryptable)", permanent=True)
        try:
            outcome = _Outcome(provider_id=await self.channels[outbound.channel].send(outbound))
        except PermanentDeliveryError as e:
            outcome = _Outcome(error=f"permanent: {type(e).__name__}: {e}"[:255], permanent=True)
        except DeliveryError as e:
            outcome = _Outcome(error=f"temporary: {e}"[:255], retry_after=e.retry_after)
        except Exception as e:  # a bug or network fault in an adapter must not stop the relay
            outcome = _Outcome(error=f"temporary: {type(e).__name__}")
        self.on_attempt(outbound.channel, "sent" if outcome.error is None
                        else "permanent" if outcome.permanent else "temporary")
        return outcome


async def mark_undelivered(db: Database, provider_message_id: str, reason: str) -> bool:
    """The provider reported that a message it took was never delivered: a dead letter for
    supervisors. False when no message of ours has that id."""
    async with db.write() as session:
        item = (await session.execute(
            select(OutboxItem).where(OutboxItem.provider_message_id.contains(provider_message_id)))).scalar()
        if item is None:
            return False
        item.state = OutboxState.DEAD
        item.last_error = reason.strip()[:255]
    log.warning("message not delivered by the network", extra={"outbox": item.id})
    return True
