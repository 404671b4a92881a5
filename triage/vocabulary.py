"""The triage vocabulary: the values every other part relies on (a contract: reports, the
classify command's output and the console use exactly these)."""
from __future__ import annotations

from collections.abc import Iterable

GROUPS = ("sells", "buys", "relative", "professional", "other")
FLAGS = ("minor", "immediate_danger", "suicide", "trafficking")
RISKS = ("acute", "elevated", "routine")
NEEDS = ("talk", "exit", "safety", "health", "legal", "economy", "return", "interpreter", "information")

ACUTE_FLAGS = frozenset({"minor", "immediate_danger", "suicide"})
ELEVATED_FLAGS = frozenset({"trafficking"})


def risk_for(flags: Iterable[str]) -> str:
    """Default mapping: acute if minor, immediate danger or suicide; elevated if trafficking."""
    found = set(flags)
    if found & ACUTE_FLAGS:
        return "acute"
    if found & ELEVATED_FLAGS:
        return "elevated"
    return "routine"
