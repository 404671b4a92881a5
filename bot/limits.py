"""Outbound rate limits per address (a chat, a sending number), as the providers require."""
from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter

MAX_TRACKED = 10_000


class PerAddressLimiter:
    """One limiter per address, the least recently used forgotten beyond `MAX_TRACKED`."""

    def __init__(self, per_second: float) -> None:
        self.period = 1 / per_second
        self._limiters: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def limit(self, address: str) -> AsyncLimiter:
        limiter = self._limiters.pop(address, None) or AsyncLimiter(1, self.period)
        self._limiters[address] = limiter
        while len(self._limiters) > MAX_TRACKED:
            self._limiters.popitem(last=False)
        return limiter
