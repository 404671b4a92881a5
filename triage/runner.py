"""The scripted triage dialogue: given where a conversation is, what the bot says next."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from triage.result import TriageResult
from triage.script import Step, TriageScript

HUMAN = "human"
MAX_NOT_UNDERSTOOD = 2


@dataclass(frozen=True)
class Reply:
    """One bot message; `choices` are (id, label) pairs shown as buttons or numbered lines."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()


@dataclass
class Turn:
    replies: list[Reply]
    state: dict[str, Any]
    result: TriageResult | None = None
    answer: str | None = field(default=None)
    """The choice id the person's message was understood as, if any."""

    @property
    def done(self) -> bool:
        return self.result is not None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip().rstrip(".!")
    return " ".join(text.split())


class TriageRunner:
    """Runs one script. State is plain JSON so it can be stored on the conversation."""

    def __init__(self, script: TriageScript) -> None:
        self.script = script
        self.spec = script.spec

    def language_for(self, requested: str | None) -> str:
        return requested if requested in self.spec.languages else self.spec.languages[0]

    def start(self, language: str | None = None) -> Turn:
        lang = self.language_for(language)
        state = {"step": self.spec.start, "fields": {}, "language": lang, "misses": 0}
        return Turn([self._prompt(self.spec.start, lang)], state)

    def answer(self, state: dict[str, Any], *, text: str | None = None,
               choice: str | None = None) -> Turn:
        state = {**state, "fields": dict(state.get("fields", {}))}
        step_id = state["step"]
        step = self.spec.steps[step_id]
        lang = state["language"]
        picked = choice if choice is not None else self._match(step, text or "")
        if picked == HUMAN:
            return self._handoff(state, "human")
        chosen = next((c for c in step.choices if c.id == picked), None)
        if chosen is None:
            state["misses"] = state.get("misses", 0) + 1
            if state["misses"] >= MAX_NOT_UNDERSTOOD:
                # Never trap a person in a loop with the bot: a human takes over.
                return self._handoff(state, "not_understood")
            reply = Reply(self.spec.not_understood[lang], self._prompt(step_id, lang).choices)
            return Turn([reply], state)
        state["misses"] = 0
        for key, value in chosen.set.items():
            if key == "language":
                state["language"] = lang = str(value)
            elif key == "needs":
                values = [value] if isinstance(value, str) else list(value)
                state["fields"]["needs"] = sorted(set(state["fields"].get("needs", [])) | set(values))
            else:
                state["fields"][key] = value
        state["step"] = chosen.next
        nxt = self.spec.steps[chosen.next]
        if nxt.end == "handoff":
            turn = self._handoff(state, "script")
            turn.replies.insert(0, Reply(nxt.text[lang]))
            turn.answer = chosen.id
            return turn
        return Turn([self._prompt(chosen.next, lang)], state, answer=chosen.id)

    def hand_off_now(self, state: dict[str, Any], reason: str) -> Turn:
        """End triage at once (an acute red flag): emergency information first, then a human."""
        lang = state.get("language") or self.spec.languages[0]
        turn = self._handoff({**state, "fields": dict(state.get("fields", {}))}, reason)
        turn.replies.insert(0, Reply(self.spec.acute_handoff[lang]))
        return turn

    def prompt_for(self, state: dict[str, Any]) -> Reply:
        """The question the conversation is waiting on (to show again after a reconnect)."""
        return self._prompt(state["step"], state["language"])

    def _prompt(self, step_id: str, lang: str) -> Reply:
        step = self.spec.steps[step_id]
        choices = tuple((c.id, c.label[lang]) for c in step.choices)
        if choices:
            choices += ((HUMAN, self.spec.talk_to_someone[lang]),)
        return Reply(step.text[lang], choices)

    def _match(self, step: Step, text: str) -> str | None:
        said = _fold(text)
        if not said:
            return None
        if said == "0" or any(said == _fold(label) for label in self.spec.talk_to_someone.values()):
            return HUMAN
        for number, choice in enumerate(step.choices, start=1):
            if said in (str(number), choice.id) or any(said == _fold(v) for v in choice.label.values()):
                return choice.id
        return None

    def _handoff(self, state: dict[str, Any], reason: str) -> Turn:
        fields = state["fields"]
        state["step"] = None
        state["handoff"] = reason
        result = TriageResult(
            group=str(fields.get("group", "other")),
            needs=tuple(fields.get("needs", ())),
            language=state["language"],
            source=fields.get("source"),
        )
        return Turn([], state, result)
