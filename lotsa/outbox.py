"""The outbox relay: delivers stored outgoing messages to provider channels, with retries.

Each round leases due items (pushes `next_attempt_at` forward in the same transaction, and on
PostgreSQL skips rows another worker holds), sends them, then marks them sent or schedules a retry
with exponential backoff. A crash between sending and marking re-sends after the lease with the same
idempotency key, which the channel uses to drop the duplicate.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import aliased

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
        side, each one's messages in order: a message that must wait holds back those after it."""
        leased = await self._lease()
        by_conversation: dict[int, list[tuple[int, OutboundMessage | None]]] = {}
        for conversation_id, item_id, outbound in leased:
            by_conversation.setdefault(conversation_id, []).append((item_id, outbound))
        await asyncio.gather(*(self._deliver_in_order(items) for items in by_conversation.values()))
        return len(leased)

    async def _deliver_in_order(self, items: list[tuple[int, OutboundMessage | None]]) -> None:
        for index, (item_id, outbound) in enumerate(items):
            retry_at = await self._deliver(item_id, outbound)
            if retry_at is not None and index + 1 < len(items):
                async with self.db.write() as session:
                    await session.execute(update(OutboxItem).where(
                        OutboxItem.id.in_([i for i, _ in items[index + 1:]])).values(next_attempt_at=retry_at, leased_until=None))
                return

    async def _lease(self) -> list[tuple[int, int, OutboundMessage | None]]:
        now = utcnow()
        earlier = aliased(OutboxItem)
        blocked = select(earlier.id).where(
            earlier.conversation_id == OutboxItem.conversation_id, earlier.id < OutboxItem.id,
            (earlier.state == OutboxState.HELD)
            | ((earlier.state == OutboxState.PENDING) & (earlier.next_attempt_at > now))).exists()
        async with self.db.write() as session:
            rows = (await session.execute(
                select(OutboxItem, Message.text, Message.meta, Contact.reply_address)
                .join(Message, OutboxItem.message_id == Message.id)
                .join(Conversation, OutboxItem.conversation_id == Conversation.id)
                .join(Contact, Conversation.contact_id == Contact.id)
                .where(OutboxItem.state == OutboxState.PENDING, OutboxItem.next_attempt_at <= now,
                       OutboxItem.channel.in_(self.channels), ~blocked)
                .order_by(OutboxItem.id).limit(BATCH)
                .with_for_update(skip_locked=True, of=OutboxItem))).all()
            leased = []
            for item, text, meta, address in rows:
                in_doubt = item.leased_until - self.lease if item.leased_until is not None else None
                if in_doubt is not None:
                    log.warning("outbox item in doubt after an interrupted send", extra={"outbox": item.id})
                item.next_attempt_at = item.leased_until = now + self.lease
                plain = self.keyring.decrypt_address(address) if address else None
                outbound = None if plain is None else OutboundMessage(
                    item.idempotency_key, item.channel, plain, text,
                    tuple(tuple(c) for c in meta.get("choices", ())), in_doubt_since=in_doubt)
                leased.append((item.conversation_id, item.id, outbound))
        return leased

    async def _deliver(self, item_id: int, outbound: OutboundMessage | None) -> datetime | None:
        """Send one item; returns when to try again after a temporary failure (else None)."""
        provider_id, error, permanent, retry_after = None, None, False, None
        if outbound is None:
            error, permanent = "no reply address (erased or undecryptable)", True
        else:
            try:
                provider_id = await self.channels[outbound.channel].send(outbound)
            except PermanentDeliveryError as e:
                error, permanent = f"permanent: {type(e).__name__}: {e}"[:255], True
            except DeliveryError as e:
                error, retry_after = f"temporary: {e}"[:255], e.retry_after
            except Exception as e:  # a bug or network fault in an adapter must not stop the relay
                error = f"temporary: {type(e).__name__}"
        if outbound is not None:
            self.on_attempt(outbound.channel, "sent" if error is None else "permanent" if permanent else "temporary")
        async with self.db.write() as session:
            item = await session.get(OutboxItem, item_id)
            if item is None:
                return None
            now = utcnow()
            item.leased_until = None
            if error is None:
                item.state, item.sent_at, item.provider_message_id = OutboxState.SENT, now, provider_id
                item.last_error = None
                if item.channel in self._failing:
                    # The provider is back: what waits in backoff for it goes now, not minutes later.
                    self._failing.discard(item.channel)
                    await session.execute(update(OutboxItem).where(
                        OutboxItem.channel == item.channel, OutboxItem.state == OutboxState.PENDING,
                        OutboxItem.next_attempt_at > now,
                        OutboxItem.leased_until.is_(None))
                        .values(next_attempt_at=now))
                    self._wake.set()
                return None
            item.attempts += 1
            item.last_error = error
            if permanent or item.attempts >= MAX_ATTEMPTS:
                item.state = OutboxState.DEAD
                log.warning("outbox item dead-lettered", extra={"outbox": item_id, "attempts": item.attempts})
                return None
            if not permanent:
                self._failing.add(item.channel)
            delay = timedelta(seconds=retry_after) if retry_after else backoff(item.attempts)
            item.next_attempt_at = now + delay
            log.info("outbox delivery failed; retrying", extra={"outbox": item_id, "attempts": item.attempts})
            return item.next_attempt_at


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
