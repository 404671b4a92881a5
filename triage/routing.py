"""Which queue a triage result goes to."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from triage.result import TriageResult


@dataclass(frozen=True)
class QueueRule:
    """The part of a queue's configuration that routing needs."""

    id: str
    groups: frozenset[str]
    languages: frozenset[str] = frozenset()
    acute: bool = False


def pick_queue(result: TriageResult, queues: Sequence[QueueRule]) -> str:
    """Acute risk goes to the acute queue; otherwise the first queue serving the group (and the
    language, when the queue names languages); otherwise the first queue serving 'other'."""
    if result.risk == "acute":
        for queue in queues:
            if queue.acute:
                return queue.id
    candidates = [q for q in queues if not q.acute and result.group in q.groups]
    for queue in candidates:
        if not queue.languages or result.language in queue.languages:
            return queue.id
    if candidates:
        return candidates[0].id
    for queue in queues:
        if "other" in queue.groups and not queue.acute:
            return queue.id
    return queues[0].id
