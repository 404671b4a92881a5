"""Flood defence that never turns a real person away.

New conversations are counted per client address (a keyed digest: see `lotsa.client_address`)
and across the service, in memory only, over the last minute. A newcomer beyond either limit is
still taken: they are told that many are writing right now and go in line *behind* everyone who
came before them, whatever their risk (`LINE_SURGE`), so a flood of fake acute contacts cannot
push a real person down the line. While that happens the service is in a "surge" that
supervisors see, and where one of them can *hold the acute lane* (`acute_held`): conversations
opened meanwhile that are flagged acute before they answered a second question are ranked with
routine ones until they answer it (lotsa.pipeline), so the acute lane is kept for those who did.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque

from lotsa.events import QUEUE_TOPIC, EventPublisher

log = logging.getLogger(__name__)

ACUTE_HOLD = "acute_hold"
"""The event a supervisor's hold (or release) of the acute lane makes: every worker follows it."""

WINDOW = 60.0
SURGE_SHOWN = 5 * 60.0
"""How long supervisors see the surge after the last newcomer beyond a limit."""
MAX_ADDRESSES = 50_000


class NewConversations:
    def __init__(self, per_address_per_minute: int, per_minute: int) -> None:
        self.per_address = per_address_per_minute
        self.per_minute = per_minute
        self._all: deque[float] = deque()
        self._by_address: OrderedDict[str, deque[float]] = OrderedDict()
        self._last_surge = float("-inf")
        self.surged = 0
        """Newcomers put behind so far (tests and diagnostics)."""
        self.acute_held = False
        """A supervisor holds the acute lane (in memory; every worker follows a hold: `follow_hold`)."""

    def admit(self, address: str | None, now: float | None = None) -> bool:
        """Count a new conversation; False when it is beyond a limit (a surge newcomer). Only the
        admitted count towards the overall limit: one address flooding uses up its own allowance,
        not everyone else's."""
        now = time.monotonic() if now is None else now
        within = True
        if address is not None:
            seen = self._by_address.pop(address, None) or deque()
            _trim(seen, now)
            within = len(seen) < self.per_address
            seen.append(now)
            self._by_address[address] = seen
            while len(self._by_address) > MAX_ADDRESSES:
                self._by_address.popitem(last=False)
        _trim(self._all, now)
        if within and len(self._all) >= self.per_minute:
            within = False
        if within:
            self._all.append(now)
            return True
        if now - self._last_surge > SURGE_SHOWN:
            log.warning("surge of new conversations: newcomers go behind those waiting")
        self._last_surge = now
        self.surged += 1
        return False

    def surging(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now - self._last_surge <= SURGE_SHOWN


def _trim(times: deque[float], now: float) -> None:
    while times and now - times[0] > WINDOW:
        times.popleft()


class RecentMessages:
    """Each contact's inbound messages over the last minute, in memory: the per-contact flood
    limit without a COUNT query per message. Exact on one SQLite worker, whose single writer stores
    every inbound message (lotsa.group_commit); a restart forgets the counts, which only gives a
    flooding contact a fresh minute. Several PostgreSQL workers count in the database instead."""

    def __init__(self) -> None:
        self._by_contact: OrderedDict[int, deque[float]] = OrderedDict()

    def count(self, contact_id: int, now: float | None = None) -> int:
        times = self._by_contact.get(contact_id)
        if times is None:
            return 0
        _trim(times, time.monotonic() if now is None else now)
        return len(times)

    def add(self, contact_id: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        times = self._by_contact.pop(contact_id, None) or deque()
        _trim(times, now)
        times.append(now)
        self._by_contact[contact_id] = times
        while len(self._by_contact) > MAX_ADDRESSES:
            self._by_contact.popitem(last=False)


async def follow_hold(events: EventPublisher, flood: NewConversations) -> None:
    """Hold or free this worker's acute lane when a supervisor did on any worker (this one's own
    click comes back too, with the same value). A worker started later begins with it free."""
    while True:
        async with events.subscribe(QUEUE_TOPIC) as sub:
            async for event in sub:
                if event.kind == ACUTE_HOLD:
                    flood.acute_held = bool(event.data["held"])
        await asyncio.sleep(1.0)   # the publisher ended the subscription (shutting down, or fell behind)
