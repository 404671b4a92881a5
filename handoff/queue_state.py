"""One read of the queue per change, shared by every console of this process.

Every open console shows the same waiting and active conversations, filtered and labelled for its
counsellor. When a conversation changes state, each console used to read all of it from the
database for itself; with ten consoles a burst of changes became a burst of identical reads that
held up message delivery (SQLite most of all). `QueueSnapshots` reads once per change (a new
version of the queue topic) and hands the same rows to every console that asks until the next one.

It also reads by itself: after a change (coalesced: at once, then at most once per
`coalesce.PUSH_SECONDS`) it reads the queue and hands the snapshot to every console watching, which
sends its frame from it at once. Each console used to wait for its own interval after the change
and then for a read; during a burst of arrivals the two waits added up to more than a second on
3 workers sharing 2 cores (benchmarks/RESULTS.md, issue 15).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from handoff.claims import QueueRow, active_rows, waiting_rows
from handoff.supervision import chat_counts
from lotsa.coalesce import PUSH_SECONDS
from lotsa.db import Database
from lotsa.events import RESYNC, EventPublisher
from lotsa.models import StaffUser
from lotsa.shared_read import FollowedRead

CHANGES = frozenset({"state", "presence", RESYNC})
"""The queue topic's events that change what a queue frame shows (an alert does not)."""


@dataclass(frozen=True)
class QueueSnapshot:
    """The queue as one read saw it. Shared by every console: read, never change, its rows."""

    version: int
    """The queue topic's version before the read: newer events may not be in it."""
    waiting: list[QueueRow]
    active: list[QueueRow]
    staff: dict[int, StaffUser]
    """Every staff member (active or not) by id, in name order."""
    counts: dict[int, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", chat_counts(self.active))


async def read_snapshot(db: Database, version: int) -> QueueSnapshot:
    async with db.read() as session:
        waiting = await waiting_rows(session)
        active = await active_rows(session)
        staff = (await session.execute(select(StaffUser).order_by(StaffUser.name))).scalars().all()
    return QueueSnapshot(version, waiting, active, {u.id: u for u in staff})


class QueueSnapshots(FollowedRead[QueueSnapshot]):
    """The current snapshot: read again after each queue event, or when older than `max_age`
    (changes made by another worker process are published only there)."""

    changes = CHANGES
    name = "queue-snapshots"

    def __init__(self, db: Database, events: EventPublisher, max_age: float = PUSH_SECONDS) -> None:
        super().__init__(lambda version: read_snapshot(db, version), events, max_age)
        self._watchers: set[Callable[[QueueSnapshot], None]] = set()

    def watch(self, callback: Callable[[QueueSnapshot], None]) -> None:
        """Call `callback` with each snapshot read after a change (it must return at once)."""
        self._watchers.add(callback)
        self._follow_changes()

    def unwatch(self, callback: Callable[[QueueSnapshot], None]) -> None:
        self._watchers.discard(callback)

    def _watched(self) -> bool:
        return bool(self._watchers)

    def _hand_out(self, value: QueueSnapshot) -> None:
        for callback in list(self._watchers):
            callback(value)

    async def get(self, fresh: bool = False) -> QueueSnapshot:
        """The snapshot of the queue's current version; callers asking while it is read share the
        read. `fresh`: read again whatever is cached (a console that just connected stamped its
        presence without an event)."""
        return await self._shared.get(fresh)
