"""The simulator: a draft triage script run as a chat, through the real runner and classifier and the
real routing, with nothing written anywhere. The page keeps the dialogue's state and what triage has
found so far, and sends them back with each answer."""
from __future__ import annotations

from typing import Any, cast

from handoff.queues import QueueDirectory
from lotsa.errors import Refused
from lotsa.models import TriageRecord
from lotsa.pipeline import merged, outcome
from triage.assess import Assessment, Assessor
from triage.runner import Found, TriageRunner, Turn
from triage.vocabulary import risk_for

CHANNEL = "webchat"


def verdict(assessment: Assessment) -> dict[str, Any]:
    """What the classifier made of one message, with the words that fired."""
    return {"group": assessment.group, "confidence": round(assessment.confidence, 2),
            "flags": list(assessment.flags), "flag_words": list(assessment.flag_words),
            "possible_flags": list(assessment.possible_flags), "risk": risk_for(assessment.flags),
            "needs": list(assessment.needs), "language": assessment.language,
            "reasons": [r.to_json() for r in assessment.reasons]}


def _state(runner: TriageRunner, state: Any) -> dict[str, Any]:
    """The page's copy of the dialogue state, checked before the runner reads it."""
    if not isinstance(state, dict) or not isinstance(state.get("fields"), dict) \
            or state.get("language") not in runner.languages or state.get("step") not in runner.spec.steps:
        raise Refused("bad_state", "The simulation has ended or its state is not this script's: start again.")
    return state


def start(runner: TriageRunner, language: str | None) -> dict[str, Any]:
    return _frame(runner.start(language, channel=CHANNEL), TriageRecord(), None, None)


def answer(runner: TriageRunner, assessor: Assessor | None, queues: QueueDirectory, state: Any, record: Any,
           text: str, choice: str | None) -> dict[str, Any]:
    """The person's next message (free text or a button) and what the bot would say and do."""
    state = _state(runner, state)
    found = cast(TriageRecord, record if isinstance(record, dict) else {})
    said = None
    if text.strip() and assessor is not None:
        assessment = assessor.assess(text)
        said = verdict(assessment)
        found = merged(found, assessment)
    if risk_for(tuple(found.get("flags", []))) == "acute":
        turn = runner.hand_off_now(state, "acute")
    else:
        turn = runner.answer(state, text=text or None, choice=choice, found=Found.from_triage(found))
    return _frame(turn, found, said, queues)


def _frame(turn: Turn, found: TriageRecord, said: dict[str, Any] | None,
           queues: QueueDirectory | None) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "replies": [{"text": r.text, "choices": [list(c) for c in r.choices]} for r in turn.replies],
        "state": turn.state, "record": found, "verdict": said, "end": None}
    if turn.result is not None and queues is not None:
        result, queue, source = outcome(turn, found, queues)
        frame["end"] = {"kind": "handoff", "queue": queue, "group": result.group, "group_source": source,
                        "risk": result.risk, "flags": list(result.flags), "needs": list(result.needs),
                        "language": result.language, "reason": turn.state.get("handoff")}
    elif turn.closed:
        frame["end"] = {"kind": "closed"}
    return frame
