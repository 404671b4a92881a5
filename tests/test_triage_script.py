"""Unit tests: triage script validation, versions and the scripted dialogue."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from lotsa.settings import default_config_dir
from triage.result import TriageResult
from triage.routing import QueueRule, pick_queue
from triage.runner import HUMAN, TriageRunner
from triage.script import ScriptError, TriageScript, load_scripts

DEFAULT = default_config_dir() / "triage" / "default.yaml"


@pytest.fixture
def content() -> dict:
    return yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


@pytest.fixture
def runner() -> TriageRunner:
    return TriageRunner(TriageScript.load(DEFAULT))


def _write(tmp_path: Path, content: dict) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


def test_default_scripts_load() -> None:
    scripts = load_scripts(default_config_dir() / "triage")
    assert "default" in scripts
    assert len(scripts["default"].version) == 64


def test_version_is_a_content_hash(content: dict) -> None:
    a = TriageScript.from_content(content)
    assert TriageScript.from_content(copy.deepcopy(content)).version == a.version
    content["steps"]["who"]["text"]["en"] = "Who are you?"
    assert TriageScript.from_content(content).version != a.version


@pytest.mark.parametrize("break_it, expected", [
    (lambda c: c["steps"]["who"]["choices"][0].update(next="nowhere"),
     "steps.who.choices.sells.next: no step named 'nowhere'"),
    (lambda c: c["steps"]["route"].update(otherwise="nowhere"), "steps.route.otherwise: no step named 'nowhere'"),
    (lambda c: c["steps"]["route"]["branch"][0]["if"].update(flag="drunk"), "if.flag: ['drunk']"),
    (lambda c: c["steps"]["tell"].update(end="handoff"), "a step has choices and/or free_text"),
    (lambda c: c["steps"]["language"]["choices"][0]["set"].update(mood="sad"), "set: unknown field 'mood'"),
    (lambda c: c["steps"]["who"]["text"].pop("sv"), "steps.who.text: no text for language 'sv'"),
    (lambda c: c["steps"]["who"]["choices"][0]["set"].update(group="pimps"), "set.group: 'pimps'"),
    (lambda c: c.update(start="missing"), "start: no step named 'missing'"),
    (lambda c: c.update(colour="red"), "colour"),
    (lambda c: c["acute_handoff"]["voice"].pop("ro"),
     "acute_handoff.voice: no text for language 'ro' (the voice would fall back to a text written for another"),
    (lambda c: c["steps"]["language"]["text"]["voice"].pop("sv"), "steps.language.text.voice: no text for language 'sv'"),
    (lambda c: c["steps"]["who"]["text"].update(fax={"sv": "Faxa oss"}), "steps.who.text.fax: not a language text"),
])
def test_validation_errors_name_file_and_key(tmp_path: Path, content: dict, break_it, expected: str) -> None:
    break_it(content)
    path = _write(tmp_path, content)
    with pytest.raises(ScriptError) as err:
        TriageScript.load(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_yaml_syntax_error_names_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ScriptError, match="bad.yaml"):
        TriageScript.load(path)


def test_dialogue_by_buttons(runner: TriageRunner) -> None:
    turn = runner.start("sv")
    assert turn.replies[0].choices[-1][0] == HUMAN
    turn = runner.answer(turn.state, choice="en")
    assert turn.state["language"] == "en" and turn.state["step"] == "who"
    turn = runner.answer(turn.state, choice="buys")
    assert not turn.done and turn.state["step"] == "tell"
    turn = runner.answer(turn.state, choice="skip")
    assert turn.done and turn.result.group == "buys" and turn.result.language == "en"
    assert "112" in turn.replies[0].text


@pytest.mark.parametrize("said, group", [("1", "sells"), ("2", "buys"), ("I am a relative or friend", "relative"),
                                         ("  jag jobbar med de här frågorna. ", "professional"), ("OTHER", "other")])
def test_dialogue_by_typed_answers(runner: TriageRunner, said: str, group: str) -> None:
    turn = runner.answer(runner.start("sv").state, text="svenska")
    turn = runner.answer(turn.state, text=said)
    turn = runner.answer(turn.state, text="hoppa över")
    assert turn.done and turn.result.group == group


@pytest.mark.parametrize("said", ["0", "Prata med någon nu", "talk to someone now"])
def test_skip_to_a_human_at_every_step(runner: TriageRunner, said: str) -> None:
    state = runner.start("sv").state
    while state["step"] is not None:
        turn = runner.answer(state, text=said)
        assert turn.done and turn.state["handoff"] == "human"
        step = runner.spec.steps[state["step"]]
        state = runner.answer(state, choice=step.choices[0].id).state if step.choices else {"step": None}


def test_not_understood_twice_hands_off_rather_than_looping(runner: TriageRunner) -> None:
    turn = runner.answer(runner.start("en").state, text="please help me")
    assert not turn.done and turn.replies[0].choices
    turn = runner.answer(turn.state, text="i dont understand")
    assert turn.done and turn.state["handoff"] == "not_understood" and turn.result.group == "other"


QUEUES = [QueueRule("acute", frozenset({"sells", "buys", "other"}), acute=True),
          QueueRule("sells", frozenset({"sells"})),
          QueueRule("buys-en", frozenset({"buys"}), frozenset({"en"})),
          QueueRule("buys", frozenset({"buys"})),
          QueueRule("general", frozenset({"other"}))]


@pytest.mark.parametrize("result, queue", [
    (TriageResult(group="sells"), "sells"),
    (TriageResult(group="sells", flags=("minor",)), "acute"),
    (TriageResult(group="buys", flags=("trafficking",)), "buys"),
    (TriageResult(group="buys", language="en"), "buys-en"),
    (TriageResult(group="relative"), "general"),
])
def test_pick_queue(result: TriageResult, queue: str) -> None:
    assert pick_queue(result, QUEUES) == queue


@pytest.mark.parametrize("flags, risk", [((), "routine"), (("trafficking",), "elevated"),
                                         (("suicide",), "acute"), (("trafficking", "minor"), "acute")])
def test_risk_from_flags(flags: tuple[str, ...], risk: str) -> None:
    assert TriageResult(flags=flags).risk == risk


def test_free_text_is_taken_and_branches_see_what_the_classifier_found(runner: TriageRunner) -> None:
    from triage.runner import Found

    state = runner.answer(runner.answer(runner.start("en").state, choice="en").state, choice="other").state
    assert state["step"] == "tell"
    info = runner.answer(state, text="what is this service", found=Found(needs=("information",)))
    assert info.state["step"] == "information" and not info.done
    closed = runner.answer(info.state, choice="no_thanks")
    assert closed.closed and closed.result is None
    acute = runner.answer(state, text="i am 15", found=Found(flags=("minor",)))
    assert acute.done and acute.result is not None


def test_romanian_and_bulgarian_greet_ask_and_set_the_interpreter_need(runner: TriageRunner) -> None:
    for language, greeting in (("ro", "Bună"), ("bg", "Здравейте")):
        start = runner.start(language)
        assert start.replies[0].text.startswith(greeting)
        who = runner.answer(start.state, choice=language)
        assert who.replies[0].choices[0][1] in ("Vând sau am vândut sex", "Продавам или съм продавала секс")
        done = runner.answer(who.state, choice="sells")
        assert done.done and done.result.language == language and "interpreter" in done.result.needs


def test_the_campaign_source_is_kept(runner: TriageRunner) -> None:
    turn = runner.start("sv", {"source": "buss-2026"})
    for choice in ("sv", "buys", "skip"):
        turn = runner.answer(turn.state, choice=choice)
    assert turn.result.source == "buss-2026"


def test_a_voice_conversation_hears_the_voice_variants_and_skips_the_free_text_question(runner: TriageRunner) -> None:
    turn = runner.start("sv", channel="voice")
    assert "skriva" not in turn.replies[0].text and turn.state["channel"] == "voice"
    turn = runner.answer(runner.answer(turn.state, choice="sv").state, choice="buys")
    assert turn.result is not None, "the free-text question has no voice variant: the phone goes on"
    on_chat = runner.answer(runner.answer(runner.start("sv").state, choice="sv").state, choice="buys")
    assert on_chat.state["step"] == "tell"
    acute = runner.hand_off_now(runner.start("en", channel="voice").state, "acute")
    assert acute.replies[0].text.startswith("If you can, hang up and call 112.")
