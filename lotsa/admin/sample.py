"""The sample table: messages an admin pastes, each run as a person who writes it and answers the
questions the way the classifier reads them, under the draft and under the active version, side by
side. Nothing is written anywhere."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handoff.queues import QueueDirectory
from lotsa.models import TriageRecord
from lotsa.pipeline import merged, outcome
from triage.assess import Assessment, Assessor
from triage.runner import HUMAN, Found, TriageRunner, Turn
from triage.script import Step
from triage.vocabulary import risk_for

MAX_MESSAGES = 100
MAX_TURNS = 12


@dataclass(frozen=True)
class Setup:
    """One version of what decides a message's way: the script, the classifier (with its phrase book)
    and the queues."""

    runner: TriageRunner
    assessor: Assessor
    queues: QueueDirectory


def _pick(step: Step, state: dict[str, Any], assessment: Assessment) -> str:
    """The choice a person who wrote the message would make: the one that sets their language or the
    group the classifier sees, else the first."""
    for choice in step.choices:
        value = choice.set.get("language")
        if value is not None and value == (assessment.language or state["language"]):
            return choice.id
        if choice.set.get("group") == assessment.group:
            return choice.id
    return step.choices[0].id if step.choices else HUMAN


def walk(runner: TriageRunner, queues: QueueDirectory, text: str, assessment: Assessment) -> dict[str, Any]:
    """Where the message's writer ends: group, flags, risk and queue (or closed by the script)."""
    found = merged(TriageRecord(), assessment)
    turn: Turn = runner.start(assessment.language, channel="webchat")
    told = False
    for _ in range(MAX_TURNS):
        if turn.done:
            break
        if risk_for(assessment.flags) == "acute":
            turn = runner.hand_off_now(turn.state, "acute")
            break
        step = runner.spec.steps[turn.state["step"]]
        if step.free_text is not None and not told:
            turn, told = runner.answer(turn.state, text=text, found=Found.from_triage(found)), True
        else:
            turn = runner.answer(turn.state, choice=_pick(step, turn.state, assessment),
                                 found=Found.from_triage(found))
    if turn.result is None:
        return {"group": assessment.group, "flags": list(assessment.flags), "risk": risk_for(assessment.flags),
                "queue": "", "end": "closed" if turn.closed else "unfinished"}
    result, queue, _ = outcome(turn, found, queues)
    return {"group": result.group, "flags": list(result.flags), "risk": result.risk, "queue": queue,
            "end": "handoff"}


def table(texts: list[str], draft: Setup, active: Setup) -> list[dict[str, Any]]:
    """One row per message: the draft's way and the active version's, and whether they differ."""
    draft_found = draft.assessor.assess_many(texts)
    active_found = active.assessor.assess_many(texts) if active.assessor is not draft.assessor else draft_found
    rows = []
    for text, mine, theirs in zip(texts, draft_found, active_found, strict=True):
        a = walk(draft.runner, draft.queues, text, mine)
        b = walk(active.runner, active.queues, text, theirs)
        rows.append({"text": text, "draft": a, "active": b, "changed": a != b})
    return rows
