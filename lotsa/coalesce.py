"""Coalescing of pushes that a burst of events would otherwise repeat many times over.

A change to the queue is told to every open console and every waiting chat; each of them then
reads the database and sends a fresh frame. A burst of changes (a red flag re-routing several
conversations, a supervisor reassigning) would make every connection read and send once per
change. A `Coalescer` runs a connection's push at once for the first change and merges the later
ones within `interval` into one trailing push, which reads the state after the last of them.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType

log = logging.getLogger(__name__)

PUSH_SECONDS = 0.25
"""A connection sends at most one queue (or position) frame this often."""


class Coalescer:
    """Runs `push` after `trigger()`: at most once per `interval` seconds, never skipping the last
    trigger. A trigger that arrives while a push runs gets a push of its own after it (the running
    one may have read the state before that change)."""

    def __init__(self, push: Callable[[], Awaitable[None]], interval: float, name: str = "push") -> None:
        self._push = push
        self.interval = interval
        self._name = name
        self._wanted = asyncio.Event()
        self._last = float("-inf")
        self._task: asyncio.Task[None] | None = None

    def trigger(self) -> None:
        """Ask for a push; returns at once (the push runs in the coalescer's own task)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)
        self._wanted.set()

    def pushed(self) -> None:
        """Count a push made by the caller itself (the first frame after connecting) towards the interval."""
        self._last = asyncio.get_running_loop().time()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wanted.wait()
            await asyncio.sleep(max(0.0, self._last + self.interval - loop.time()))
            self._wanted.clear()
            self._last = loop.time()
            try:
                await self._push()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("coalesced push failed", extra={"push": self._name})

    async def close(self) -> None:
        """Stop pushing (pending triggers are dropped)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def __aenter__(self) -> Coalescer:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()
