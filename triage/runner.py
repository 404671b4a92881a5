"""The scripted triage dialogue: given where a conversation is, what the bot says next."""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from triage.result import TriageResult
from triage.script import Rule, Step, TriageScript, plain
from triage.vocabulary import risk_for

HUMAN = "human"


def numbered(choices: tuple[tuple[str, str], ...]) -> list[tuple[str, str, str]]:
    """(digit, choice id, label) for a keypad or a numbered text: the choices 1..n in their order,
    and "talk to someone" always 0, last."""
    numbered_choices = [(str(n), cid, label)
                        for n, (cid, label) in enumerate((c for c in choices if c[0] != HUMAN), start=1)]
    return numbered_choices + [("0", cid, label) for cid, label in choices if cid == HUMAN]
MAX_NOT_UNDERSTOOD = 2
MAX_BRANCHES = 20


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
    answer: str | None = None
    """The choice id the person's message was understood as, if any."""
    closed: bool = False
    """The script ended with self-help information: no hand-off, the conversation closes."""

    @property
    def done(self) -> bool:
        return self.result is not None or self.closed


@dataclass(frozen=True)
class Found:
    """What the classifier has found in the conversation so far (for branch conditions)."""

    flags: tuple[str, ...] = ()
    group: str | None = None
    needs: tuple[str, ...] = ()

    @classmethod
    def from_triage(cls, triage: Mapping[str, Any]) -> Found:
        detected = triage.get("detected") or {}
        return cls(tuple(triage.get("flags", ())), detected.get("group"), tuple(triage.get("detected_needs", ())))


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip().rstrip(".!")
    return " ".join(text.split())


class TriageRunner:
    """Runs one script. State is plain JSON so it can be stored on the conversation."""

    def __init__(self, script: TriageScript) -> None:
        self.script = script
        self.spec = script.spec

    @property
    def languages(self) -> list[str]:
        return self.spec.languages + self.spec.partial_languages

    def language_for(self, requested: str | None) -> str:
        return requested if requested in self.languages else self.spec.languages[0]

    def start(self, language: str | None = None, fields: Mapping[str, Any] | None = None,
              channel: str | None = None) -> Turn:
        """`channel`: where the conversation runs; its text variants are used (see triage.script)."""
        lang = self.language_for(language)
        state: dict[str, Any] = {"step": None, "fields": dict(fields or {}), "language": lang, "misses": 0}
        if channel:
            state["channel"] = channel
        return self._go(state, self.spec.start, Found())

    def answer(self, state: dict[str, Any], *, text: str | None = None, choice: str | None = None,
               found: Found | None = None) -> Turn:
        state = {**state, "fields": dict(state.get("fields", {}))}
        found = found or Found()
        step = self.spec.steps[state["step"]]
        picked = choice if choice is not None else self._match(step, text or "")
        if picked == HUMAN:
            return self._human(state, "human")
        chosen = next((c for c in step.choices if c.id == picked), None)
        if chosen is not None:
            self._apply(state, chosen.set)
            state["misses"] = 0
            turn = self._go(state, chosen.next, found)
            turn.answer = chosen.id
            return turn
        if step.free_text is not None and (text or "").strip():
            state["fields"]["told"] = True
            state["misses"] = 0
            return self._go(state, step.free_text.next, found)
        state["misses"] = state.get("misses", 0) + 1
        if state["misses"] >= MAX_NOT_UNDERSTOOD:
            # Never trap a person in a loop with the bot: a human takes over.
            return self._human(state, "not_understood")
        lang, channel = state["language"], state.get("channel")
        return Turn([Reply(self.spec.text(self.spec.not_understood, lang, channel),
                           self._prompt(step, lang, channel).choices)], state)

    def hand_off_now(self, state: dict[str, Any], reason: str) -> Turn:
        """End triage at once (an acute red flag): emergency information first, then a human."""
        lang = state.get("language") or self.spec.languages[0]
        turn = self._handoff({**state, "fields": dict(state.get("fields", {}))}, reason)
        turn.replies.insert(0, Reply(self.spec.text(self.spec.acute_handoff, lang, state.get("channel"))))
        return turn

    def _human(self, state: dict[str, Any], reason: str) -> Turn:
        turn = self._handoff(state, reason)
        if self.spec.human_handoff:
            turn.replies.append(Reply(self.spec.text(self.spec.human_handoff, state["language"],
                                                     state.get("channel"))))
        return turn

    def prompt_for(self, state: dict[str, Any]) -> Reply:
        """The question the conversation is waiting on (to show again after a reconnect)."""
        return self._prompt(self.spec.steps[state["step"]], state["language"], state.get("channel"))

    def step_languages(self, state: dict[str, Any]) -> dict[str, str]:
        """Choice id → the language that choice sets, for the question the conversation waits on
        (a language menu is said with each option in its own language)."""
        step = self.spec.steps[state["step"]]
        return {c.id: str(c.set["language"]) for c in step.choices if "language" in c.set}

    def _apply(self, state: dict[str, Any], values: Mapping[str, str | list[str]]) -> None:
        for key, value in values.items():
            if key == "language":
                state["language"] = str(value)
            elif key == "needs":
                more = [value] if isinstance(value, str) else list(value)
                state["fields"]["needs"] = sorted(set(state["fields"].get("needs", [])) | set(more))
            else:
                state["fields"][key] = value

    def _go(self, state: dict[str, Any], step_id: str, found: Found) -> Turn:
        lang, channel = state["language"], state.get("channel")
        for _ in range(MAX_BRANCHES):
            step = self.spec.steps[step_id]
            if step.free_text is not None and channel == "voice" and "voice" not in step.text:
                # A keypad cannot tell in its own words: the phone goes on without this question.
                step_id = step.free_text.next
                continue
            if not step.branch:
                break
            step_id = next((r.next for r in step.branch if self._holds(r, state, found)), step.otherwise or "")
        else:
            return self._handoff(state, "branch_loop")
        if step.end == "handoff":
            turn = self._handoff(state, "script", queue=step.queue)
            turn.replies.insert(0, Reply(self.spec.text(step.text, lang, channel)))
            return turn
        if step.end == "close":
            state["step"] = None
            return Turn([Reply(self.spec.text(step.text, lang, channel))], state, closed=True)
        state["step"] = step_id
        return Turn([self._prompt(step, lang, channel)], state)

    def _holds(self, rule: Rule, state: dict[str, Any], found: Found) -> bool:
        fields = state["fields"]
        facts: dict[str, set[str]] = {
            "group": {fields.get("group") or found.group or "other"},
            "need": set(fields.get("needs", ())) | set(found.needs),
            "flag": set(found.flags),
            "risk": {risk_for(found.flags)},
            "language": {state["language"]},
            "consent": {str(fields.get("consent", ""))},
            "source": {str(fields.get("source", ""))},
        }
        for key, wanted in rule.when.items():
            values = {wanted} if isinstance(wanted, str) else set(wanted)
            if not values & facts[key]:
                return False
        return True

    def _prompt(self, step: Step, lang: str, channel: str | None = None) -> Reply:
        choices = tuple((c.id, self.spec.text(c.label, lang, channel)) for c in step.choices)
        choices += ((HUMAN, self.spec.text(self.spec.talk_to_someone, lang, channel)),)
        return Reply(self.spec.text(step.text, lang, channel), choices)

    def _match(self, step: Step, text: str) -> str | None:
        said = _fold(text)
        if not said:
            return None
        if any(said == _fold(label) for label in plain(self.spec.talk_to_someone).values()):
            return HUMAN
        by_digit = {digit: cid for digit, cid, _ in numbered(self._prompt(step, "sv").choices)}
        if said in by_digit:
            return by_digit[said]
        for choice in step.choices:
            if said == choice.id or any(said == _fold(v) for v in plain(choice.label).values()):
                return choice.id
        return None

    def _handoff(self, state: dict[str, Any], reason: str, queue: str | None = None) -> Turn:
        fields = state["fields"]
        state["step"] = None
        state["handoff"] = reason
        if queue:
            state["queue"] = queue
        result = TriageResult(
            group=str(fields.get("group", "other")),
            needs=tuple(fields.get("needs", ())),
            language=state["language"],
            source=fields.get("source"),
        )
        return Turn([], state, result)
