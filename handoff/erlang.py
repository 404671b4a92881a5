"""Erlang C: how long people wait for one of `servers` counsellors when contacts arrive at random
(Poisson) at a steady rate and chats last an exponentially distributed time, nobody gives up and
everyone is answered in turn.

`traffic` is the offered load in erlangs: arrivals per unit of time × mean handling time in the same
unit (100 contacts per 30 minutes × 3 minutes = 10 erlangs). With `servers` ≤ `traffic` the line
grows without end: every function says so with P(wait) 1 and an infinite wait.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def erlang_b(traffic: float, servers: int) -> float:
    """The blocking probability with no waiting room (the stable recursion, no factorials)."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(traffic: float, servers: int) -> float:
    """P(wait): the share of contacts that find every counsellor busy."""
    if traffic <= 0:
        return 0.0
    if servers <= traffic:
        return 1.0
    blocking = erlang_b(traffic, servers)
    return servers * blocking / (servers - traffic * (1 - blocking))


@dataclass(frozen=True)
class Load:
    """A steady load: arrivals per second, mean handling time in seconds, counsellors."""

    per_second: float
    handle_seconds: float
    servers: int

    @property
    def traffic(self) -> float:
        return self.per_second * self.handle_seconds

    @property
    def overloaded(self) -> bool:
        return self.per_second > 0 and self.servers <= self.traffic

    @property
    def p_wait(self) -> float:
        return erlang_c(self.traffic, self.servers)

    @property
    def drain_rate(self) -> float:
        """How fast the waiting line empties (per second): (servers − traffic) / handling time."""
        return (self.servers - self.traffic) / self.handle_seconds

    def p_wait_longer(self, seconds: float) -> float:
        """P(a contact waits more than `seconds`)."""
        if self.overloaded:
            return 1.0
        return self.p_wait * math.exp(-self.drain_rate * seconds)

    def service_level(self, target_seconds: float) -> float:
        """The share answered within `target_seconds`."""
        return 1.0 - self.p_wait_longer(target_seconds)

    def mean_wait(self) -> float:
        """The average speed of answer, in seconds, over every contact (those not waiting count 0)."""
        if self.overloaded:
            return math.inf
        return self.p_wait / self.drain_rate


def mixture_p_wait_longer(loads: Sequence[tuple[float, Load]], seconds: float) -> float:
    """P(wait > seconds) over several periods, each weighted (by its share of the arrivals)."""
    return sum(weight * load.p_wait_longer(seconds) for weight, load in loads)


def mixture_quantile(loads: Sequence[tuple[float, Load]], q: float) -> float:
    """The wait that a share `q` of contacts do not exceed, over weighted periods (inf when the
    periods that overflow hold more than 1 − q of the arrivals)."""
    if mixture_p_wait_longer(loads, 0.0) <= 1 - q:
        return 0.0
    if sum(w for w, load in loads if load.overloaded) > 1 - q:
        return math.inf
    low, high = 0.0, 1.0
    while mixture_p_wait_longer(loads, high) > 1 - q:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if mixture_p_wait_longer(loads, middle) > 1 - q else (low, middle)
    return high
