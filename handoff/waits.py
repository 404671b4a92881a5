"""What a waiting person is told: their place in line and an honest estimate of the wait.

The estimate comes from how fast this queue's conversations were taken lately: the time per claim
over the recent claims (at most MAX_CLAIMS within WINDOW), times the person's position. With fewer
than MIN_CLAIMS recent claims there is no honest basis, and the page says it cannot estimate.
Out of hours there is no estimate either; the page says when the queue opens.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from handoff.queues import QueueDirectory
from lotsa.models import utcnow
from lotsa.waiting_line import CLAIMS_WINDOW as WINDOW
from lotsa.waiting_line import MAX_CLAIMS

MIN_CLAIMS = 3


def estimate_wait(position: int, claim_times: list[datetime], now: datetime) -> timedelta | None:
    """`position` (1 = next) times the recent time per claim; None without enough recent claims."""
    recent = sorted(t for t in claim_times if now - WINDOW <= t <= now)[-MAX_CLAIMS:]
    if len(recent) < MIN_CLAIMS or position < 1:
        return None
    per_claim = (now - recent[0]) / len(recent)
    return per_claim * position


class WaitInfo:
    """The `wait` frame of the web chat for a waiting conversation, from its place in the shared
    waiting line (lotsa.waiting_line): no query of its own."""

    def __init__(self, queues: QueueDirectory) -> None:
        self.queues = queues

    def describe(self, queue_id: str, position: int | None, claim_times: Sequence[datetime],
                 now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        queue = self.queues.get(queue_id)
        is_open = queue is None or queue.hours.is_open(now)
        opens_at = None
        minutes = None
        if is_open and position is not None:
            estimate = estimate_wait(position, list(claim_times), now)
            minutes = max(1, math.ceil(estimate.total_seconds() / 60)) if estimate is not None else None
        elif queue is not None:
            opening = queue.hours.next_opening(now)
            opens_at = opening.isoformat() if opening else None
        return {"type": "wait", "position": position, "minutes": minutes, "open": is_open,
                "opens_at": opens_at, "emergency": "112"}
