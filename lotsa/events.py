"""Publish/subscribe of conversation events to the open consoles and chats.

`EventPublisher` is the interface every part uses; `EventBus` is the in-process implementation
(one worker, SQLite). Another implementation (PostgreSQL LISTEN/NOTIFY for several workers) can
replace it without touching callers. Events carry ids and small payloads: the database stays the
truth, and a subscriber that falls too far behind is dropped and catches up from it.
"""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

QUEUE_TOPIC = "queue"
CONSOLE_TOPIC = "console"
SESSION_TOPIC = "session"
"""Staff sessions that ended (log-out, expiry, account disabled): every console socket listens."""


def conversation_topic(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


@dataclass(frozen=True)
class Event:
    kind: str  # "message", "state", "typing", "note", "presence", "session_ended"
    conversation_id: int
    data: dict[str, Any] = field(default_factory=dict)


class Subscription:
    def __init__(self, topics: set[str], size: int) -> None:
        self.topics = topics
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(size)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        event = await self.queue.get()
        if event is None:
            raise StopAsyncIteration
        return event


class EventPublisher(ABC):
    """Where every change is announced, after its transaction committed."""

    @abstractmethod
    def publish(self, topic: str, event: Event) -> None:
        """Deliver `event` to every subscriber of `topic`; never blocks, never raises."""

    @abstractmethod
    def subscribe(self, *topics: str) -> AbstractAsyncContextManager[Subscription]:
        """An async context manager yielding a subscription to `topics` (async-iterate it)."""

    @abstractmethod
    def version(self, topic: str) -> int:
        """How many events were published on `topic` so far: what was read from the database
        before a publish may be out of date after it (see handoff.queue_state)."""

    @abstractmethod
    def close(self) -> None:
        """End every subscription (at shutdown)."""

    @abstractmethod
    async def start(self) -> None:
        """Connect what reaches other workers, if anything (the service's start)."""

    @abstractmethod
    async def stop(self) -> None:
        """Disconnect it, after `close` (the service's end)."""


class EventBus(EventPublisher):
    """The in-process publisher: subscribers in this process get a bounded queue each."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self._size = queue_size
        self._versions: dict[str, int] = {}

    def version(self, topic: str) -> int:
        return self._versions.get(topic, 0)

    async def start(self) -> None:
        """Nothing to connect: one process."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    @asynccontextmanager
    async def subscribe(self, *topics: str) -> AsyncIterator[Subscription]:
        sub = Subscription(set(topics), self._size)
        for topic in topics:
            self._subs.setdefault(topic, set()).add(sub)
        try:
            yield sub
        finally:
            self._remove(sub)

    def _remove(self, sub: Subscription) -> None:
        for topic in sub.topics:
            subs = self._subs.get(topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[topic]

    def publish(self, topic: str, event: Event) -> None:
        self._versions[topic] = self._versions.get(topic, 0) + 1
        for sub in list(self._subs.get(topic, ())):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("event subscriber fell behind and was dropped", extra={"topic": topic})
                self._remove(sub)
                sub.queue.get_nowait()
                sub.queue.put_nowait(None)

    def close(self) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                self._remove(sub)
                if sub.queue.full():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)
