"""One read of the queue per change, shared by every console of this process.

Every open console shows the same waiting and active conversations, filtered and labelled for its
counsellor. When a conversation changes state, each console used to read all of it from the
database for itself; with ten consoles a burst of changes became a burst of identical reads that
held up message delivery (SQLite most of all). `QueueSnapshots` reads once per change (a new
version of the queue topic) and hands the same rows to every console that asks until the next one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from handoff.claims import QueueRow, active_rows, waiting_rows
from handoff.supervision import chat_counts
from lotsa.coalesce import PUSH_SECONDS
from lotsa.db import Database
from lotsa.events import EventPublisher
from lotsa.models import StaffUser
from lotsa.shared_read import SharedRead


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


class QueueSnapshots:
    """The current snapshot: read again after each queue event, or when older than `max_age`
    (changes made by another worker process are published only there)."""

    def __init__(self, db: Database, events: EventPublisher, max_age: float = PUSH_SECONDS) -> None:
        self._shared = SharedRead(lambda version: read_snapshot(db, version), events, max_age)

    @property
    def reads(self) -> int:
        """How many times the database was read (tests and diagnostics)."""
        return self._shared.reads

    async def get(self, fresh: bool = False) -> QueueSnapshot:
        """The snapshot of the queue's current version; callers asking while it is read share the
        read. `fresh`: read again whatever is cached (a console that just connected stamped its
        presence without an event)."""
        return await self._shared.get(fresh)
