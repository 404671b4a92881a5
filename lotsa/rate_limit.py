"""A token bucket per connection: short bursts are fine, floods are refused (or dropped)."""
from __future__ import annotations

import time


class RateLimit:
    """A token bucket per connection: short bursts are fine, floods are refused."""

    def __init__(self, burst: int = 20, per_second: float = 2.0) -> None:
        self.capacity = burst
        self.tokens = float(burst)
        self.rate = per_second
        self.last = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
