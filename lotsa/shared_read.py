"""One database read per change, shared by every caller in this process.

Consoles (the queue) and waiting pages (the line) all want the same rows after each change. A
`SharedRead` starts one read per version of the queue topic and hands its result to every caller
until the next event, or until it is older than `max_age` (another worker's changes are published
only there). Callers asking while a read runs await the same read.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from lotsa.coalesce import PUSH_SECONDS
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
        """The result at the queue topic's current version. `fresh`: read again whatever is cached."""
        if fresh or not self._usable():
            self._version = self._events.version(QUEUE_TOPIC)
            self._started = time.monotonic()
            self.reads += 1
            self._read = asyncio.ensure_future(self._reader(self._version))
            self._read.add_done_callback(_retrieve)
        assert self._read is not None
        return await asyncio.shield(self._read)

    def _usable(self) -> bool:
        read = self._read
        if read is None or self._version != self._events.version(QUEUE_TOPIC):
            return False
        if not read.done():
            return True
        return not read.cancelled() and read.exception() is None and time.monotonic() - self._started < self.max_age
