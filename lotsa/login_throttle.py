"""Log-in throttling that slows an attacker down without locking anyone out.

Failed log-ins are counted per account name and per client address (its keyed digest: see
`lotsa.client_address`), in memory only. After a few free failures each further attempt for that
name, or from that address, waits a growing delay (doubling, up to a cap) before its password is
checked: an attacker's attempts are spread out, while the real person, who knows the password,
still gets in, at worst after the account's cap. The same counting applies to names that exist and
names that do not, and the answer never says "locked": nothing tells which names exist.

A burst of failures across the service is logged once a minute (a count, no names or addresses)
and shown to supervisors on their consoles.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

FREE_FAILURES = 3
BASE_DELAY = 0.5
ACCOUNT_CAP = 5.0
"""The most a name's own failures make anyone wait: the real person always gets in."""
ADDRESS_CAP = 30.0
WINDOW = 15 * 60.0
"""Failures older than this (since the last one) are forgotten."""
MAX_KEYS = 20_000
BURST = 50
"""Failures within a minute, across the service, that are logged as a burst."""
BURST_SHOWN = 10 * 60.0
"""How long supervisors see a burst after it was noted."""


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    next_at: float = 0.0


def backoff(failures: int, cap: float) -> float:
    """The delay after `failures` failures: none for the first few, then doubling up to `cap`."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(cap, BASE_DELAY * 2 ** min(failures - FREE_FAILURES, 16))


class LoginThrottle:
    def __init__(self, on_burst: Callable[[], None] = lambda: None) -> None:
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._recent: deque[float] = deque()
        self._burst_logged = float("-inf")
        self.on_burst = on_burst
        """Called when a burst starts (the app tells the consoles: supervisors see it)."""

    def burst(self) -> bool:
        """A burst of failures was seen within the last BURST_SHOWN seconds."""
        return time.monotonic() - self._burst_logged <= BURST_SHOWN

    def _record(self, key: str, now: float) -> _Record:
        record = self._records.get(key)
        if record is None or now - record.last > WINDOW:
            record = _Record(last=now)
            self._records[key] = record
            while len(self._records) > MAX_KEYS:
                self._records.popitem(last=False)
        self._records.move_to_end(key)
        return record

    def _reserve(self, key: str, cap: float, now: float) -> float:
        """How long this attempt waits: attempts for one key are spaced by the current delay (so
        parallel attempts queue up instead of going at once), never more than `cap`."""
        record = self._record(key, now)
        start = max(now, record.next_at)
        record.next_at = start + backoff(record.failures, cap)
        return min(start - now, cap)

    def wait_for(self, name: str, address: str) -> float:
        """Seconds this attempt waits before its password is checked."""
        now = time.monotonic()
        return max(self._reserve("name:" + name.casefold(), ACCOUNT_CAP, now),
                   self._reserve("addr:" + address, ADDRESS_CAP, now))

    async def wait(self, name: str, address: str) -> None:
        delay = self.wait_for(name, address)
        if delay > 0:
            await asyncio.sleep(delay)

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        for key in ("name:" + name.casefold(), "addr:" + address):
            record = self._record(key, now)
            record.failures += 1
            record.last = now
        self._note_burst(now)

    def succeeded(self, name: str, address: str) -> None:
        for key in ("name:" + name.casefold(), "addr:" + address):
            self._records.pop(key, None)

    def failures(self, name: str, address: str) -> tuple[int, int]:
        """(the name's, the address's) counted failures: for tests and diagnostics."""
        name_record = self._records.get("name:" + name.casefold())
        address_record = self._records.get("addr:" + address)
        return (name_record.failures if name_record else 0, address_record.failures if address_record else 0)

    def _note_burst(self, now: float) -> None:
        self._recent.append(now)
        while self._recent and now - self._recent[0] > 60:
            self._recent.popleft()
        if len(self._recent) >= BURST and now - self._burst_logged > 60:
            self._burst_logged = now
            log.warning("burst of failed staff log-ins", extra={"count": len(self._recent)})
            self.on_burst()
