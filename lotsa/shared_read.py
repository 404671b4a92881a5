"""One database read per change, shared by every caller in this process.

Consoles (the queue) and waiting pages (the line) all want the same rows after each change. A
`SharedRead` starts one read per version of the queue topic and hands its result to every caller
until the next event, or until it is older than `max_age`. Callers asking while a read runs await
the same read, if it started after the last event they must see.

One read at a time: a caller that needs a newer version than the running read waits for it to end
and then starts the next one, which every caller arriving meanwhile shares. During a burst of
changes (150 contacts arriving on 3 workers, each one an event) consoles used to start a read each
(every push saw a version newer than the running read); the reads competed for the same loop and
took 236 ms at the median instead of 99 (benchmarks/RESULTS.md, issue 15).
"""
from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from lotsa import coalesce
from lotsa.coalesce import PUSH_SECONDS, Coalescer
from lotsa.events import QUEUE_TOPIC, EventPublisher

T = TypeVar("T")


def _retrieve(read: asyncio.Future[T]) -> None:
    """Mark a failed read's exception as seen: every caller that awaited it got it already."""
    if not read.cancelled():
        read.exception()


class SharedRead(Generic[T]):
    def __init__(self, read: Callable[[int], Awaitable[T]], events: EventPublisher,
                 max_age: float = PUSH_SECONDS) -> None:
        self._reader = read
        self._events = events
        self.max_age = max_age
        self._read: asyncio.Future[T] | None = None
        self._version = -1
        self._started = 0.0
        self.reads = 0
        """How many times the database was read (tests and diagnostics)."""

    async def get(self, fresh: bool = False) -> T:
        """The result of a read that started at (or after) the queue topic's current version.
        `fresh`: of a read that started after this call, whatever is cached."""
        wanted = self._events.version(QUEUE_TOPIC)
        after = self.reads if fresh else -1
        while True:
            read = self._read
            if read is not None and self._serves(read, wanted, after):
                return await asyncio.shield(read)
            if read is not None and not read.done():
                await asyncio.wait([read])   # one read at a time: the next starts when this one ended
                continue
            self._version = self._events.version(QUEUE_TOPIC)
            self._started = time.monotonic()
            self.reads += 1
            self._read = asyncio.ensure_future(self._reader(self._version))
            self._read.add_done_callback(_retrieve)

    def _serves(self, read: asyncio.Future[T], wanted: int, after: int) -> bool:
        """`read` (the last one started) shows version `wanted` and started after read number `after`;
        once done, it is also the newest version, not too old and not failed."""
        if self.reads <= after or self._version < wanted:
            return False
        if not read.done():
            return True
        return (not read.cancelled() and read.exception() is None
                and self._version == self._events.version(QUEUE_TOPIC) and time.monotonic() - self._started < self.max_age)


class FollowedRead(ABC, Generic[T]):
    """A `SharedRead` that also reads by itself while anyone watches: after a burst of the queue
    topic's `changes` (coalesced: at once, then at most once per `coalesce.PUSH_SECONDS`) it reads
    and hands the result to its watchers (`_hand_out`). One follower task per process, started by
    the first watcher; subclasses keep their watchers and say whether there are any (`_watched`)."""

    changes: frozenset[str]
    """The queue topic's event kinds that change what the watchers show."""
    name: str

    def __init__(self, read: Callable[[int], Awaitable[T]], events: EventPublisher,
                 max_age: float = PUSH_SECONDS) -> None:
        self._events = events
        self._shared = SharedRead(read, events, max_age)
        self._follower: asyncio.Task[None] | None = None

    @abstractmethod
    def _watched(self) -> bool:
        """Anyone watching (no read when nobody is)."""

    @abstractmethod
    def _hand_out(self, value: T) -> None:
        """Give a new read to every watcher (each must return at once)."""

    def _follow_changes(self) -> None:
        if self._follower is None or self._follower.done():
            self._follower = asyncio.create_task(self._follow(), name=self.name)

    async def _follow(self) -> None:
        """Until the publisher closes (or drops this subscriber: the next watcher starts again)."""
        async with self._events.subscribe(QUEUE_TOPIC) as sub, \
                Coalescer(self._push, coalesce.PUSH_SECONDS, name=self.name) as pushes:
            async for event in sub:
                if event.kind in self.changes:
                    pushes.trigger()

    async def _push(self) -> None:
        if self._watched():
            self._hand_out(await self._shared.get())

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)

    @property
    def reads(self) -> int:
        """How many times the database was read (tests and diagnostics)."""
        return self._shared.reads
