"""The waiting order, read once per change and shared by every waiting person's page.

A waiting chat shows its place in line and a wait estimate. When anyone's conversation moved,
each waiting socket used to count, on its own, who was ahead of it: with n people waiting a move
cost n queries of O(n) each. `WaitingLine` reads the whole waiting order once per change (a new
version of the queue topic) with the recent claim times per queue, and hands the same `Line` to
every socket that asks until the next change; each socket looks up its own place in it.

Waiting sockets do not follow the queue topic themselves either (a thousand subscribers woken by
every change is O(n) tasks per change): they `watch` their conversation here; one follower per
process reads the line after a burst of changes (at most once per PUSH_SECONDS) and calls each
watcher with it, a dictionary look-up for those whose place did not change.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from lotsa.coalesce import PUSH_SECONDS
from lotsa.conversations import waiting_order
from lotsa.db import Database
from lotsa.events import RESYNC, EventPublisher
from lotsa.models import Conversation, ConversationState, utcnow
from lotsa.shared_read import FollowedRead

CLAIMS_WINDOW = timedelta(hours=2)
MAX_CLAIMS = 20
"""Recent claims per queue kept for the wait estimate (handoff.waits uses at most this many)."""


@dataclass(frozen=True)
class Place:
    queue: str
    position: int
    """1 is next, within the conversation's queue."""


@dataclass(frozen=True)
class Line:
    """The waiting order as one read saw it; shared: read, never change."""

    version: int
    places: dict[int, Place]
    """Every waiting conversation by id."""
    claims: dict[str, list[datetime]]
    """Per queue, its most recent claim times (newest first, within CLAIMS_WINDOW)."""
    read_at: datetime

    def place(self, conversation_id: int) -> Place | None:
        return self.places.get(conversation_id)


async def read_line(db: Database, version: int) -> Line:
    """Two queries whatever the number waiting: the order, and the recent claims."""
    now = utcnow()
    async with db.read() as session:
        rows = (await session.execute(
            select(Conversation.id, Conversation.queue)
            .where(Conversation.state == ConversationState.QUEUED, Conversation.queued_at.is_not(None))
            .order_by(*waiting_order()))).all()
        claimed = (await session.execute(
            select(Conversation.queue, Conversation.claimed_at)
            .where(Conversation.claimed_at >= now - CLAIMS_WINDOW)
            .order_by(Conversation.claimed_at.desc()))).all()
    counts: dict[str, int] = defaultdict(int)
    places: dict[int, Place] = {}
    for conversation_id, queue in rows:
        counts[queue or ""] += 1
        places[conversation_id] = Place(queue or "", counts[queue or ""])
    claims: dict[str, list[datetime]] = defaultdict(list)
    for queue, claimed_at in claimed:
        if claimed_at is not None and len(claims[queue or ""]) < MAX_CLAIMS:
            claims[queue or ""].append(claimed_at)
    return Line(version, places, dict(claims), now)


class WaitingLine(FollowedRead[Line]):
    """The current `Line`: read again after each queue event, or when older than `max_age`
    (another worker's changes are published only there)."""

    changes = frozenset({"state", RESYNC})
    name = "waiting-line"

    def __init__(self, db: Database, events: EventPublisher, max_age: float = PUSH_SECONDS) -> None:
        super().__init__(lambda version: read_line(db, version), events, max_age)
        self._watchers: dict[int, set[Callable[[Line], None]]] = {}

    def watch(self, conversation_id: int, callback: Callable[[Line], None]) -> None:
        """Call `callback` with the new line after changes while the conversation waits (it must
        return at once: a look-up, at most starting a push of its own)."""
        self._watchers.setdefault(conversation_id, set()).add(callback)
        self._follow_changes()

    def unwatch(self, conversation_id: int, callback: Callable[[Line], None]) -> None:
        callbacks = self._watchers.get(conversation_id)
        if callbacks is not None:
            callbacks.discard(callback)
            if not callbacks:
                del self._watchers[conversation_id]

    @property
    def watched(self) -> int:
        return len(self._watchers)

    def _watched(self) -> bool:
        return bool(self._watchers)

    def _hand_out(self, value: Line) -> None:
        for callbacks in list(self._watchers.values()):
            for callback in list(callbacks):
                callback(value)

    async def get(self) -> Line:
        """The line at the queue's current version; callers asking while it is read share the read."""
        return await self._shared.get()
