"""One database read at a time, shared by every caller that may have it (lotsa.shared_read)."""
from __future__ import annotations

import asyncio

from lotsa.events import QUEUE_TOPIC, Event, EventBus
from lotsa.shared_read import SharedRead


class SlowReader:
    """A read that takes `seconds` and returns the version it started at; counts overlaps."""

    def __init__(self, seconds: float = 0.1) -> None:
        self.seconds = seconds
        self.running = 0
        self.most_at_once = 0
        self.started: list[float] = []

    async def __call__(self, version: int) -> int:
        self.started.append(asyncio.get_running_loop().time())
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.seconds)
            return version
        finally:
            self.running -= 1


async def test_callers_after_a_change_wait_for_the_running_read_then_share_the_next() -> None:
    bus, reader = EventBus(), SlowReader()
    shared = SharedRead(reader, bus, max_age=10)
    first = asyncio.ensure_future(shared.get())
    await asyncio.sleep(0.01)
    also_first = asyncio.ensure_future(shared.get())       # same version: the same read
    await asyncio.sleep(0)
    later = []
    for n in range(5):                                      # a burst of changes while it runs
        bus.publish(QUEUE_TOPIC, Event("state", n))
        later.append(asyncio.ensure_future(shared.get()))
        await asyncio.sleep(0.005)
    assert await first == 0 and await also_first == 0
    # Each later caller gets a read that started after the change it must see: one read, for all.
    assert await asyncio.gather(*later) == [5] * 5
    assert shared.reads == 2 and reader.most_at_once == 1
    assert await shared.get() == 5 and shared.reads == 2   # nothing changed since: no read


async def test_a_fresh_caller_gets_a_read_that_started_after_it_asked() -> None:
    bus, reader = EventBus(), SlowReader()
    shared = SharedRead(reader, bus, max_age=10)
    running = asyncio.ensure_future(shared.get())
    await asyncio.sleep(0.01)
    asked = asyncio.get_running_loop().time()
    await shared.get(fresh=True)
    await running
    assert shared.reads == 2 and reader.most_at_once == 1   # it waited for the running read to end
    assert reader.started[1] >= asked
