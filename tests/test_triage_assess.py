"""The shipped model's own say on red flags: it needs a message with enough words."""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from triage.assess import Assessor, enough_words
from triage.redflags import exploited_minor

MODEL = Path(__file__).resolve().parent.parent / "config" / "triage" / "model"


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return Assessor.load(MODEL)


@pytest.mark.parametrize(("text", "enough"), [
    ("hey whats up", False), ("olá, boa tarde", False), ("contact 12 round 3 a1b2c3", False), ("test 123", False),
    ("pls stop messaging this number", True), ("har inget ställe att sova inatt", True),
    ("เจ้าของร้านเก็บพาสปอร์ตไว้ ไม่ให้ออกไปไหนเลย", True),
])
def test_enough_words(text: str, enough: bool) -> None:
    assert enough_words(text) is enough


def test_greetings_and_numbered_chatter_raise_no_flag(assessor: Assessor) -> None:
    texts = ["hey whats up", "olá, boa tarde", "hej", "test 123", "?"]
    texts += [f"contact {n} round {r} {secrets.token_hex(3)}" for n in range(40) for r in range(5)]
    flagged = [(t, a.flags) for t, a in zip(texts, assessor.assess_many(texts), strict=True) if a.flags]
    assert flagged == []


def test_the_model_still_speaks_on_a_real_message(assessor: Assessor) -> None:
    """The classifier's say with words in the message that back it: a flag, with those words as written."""
    found = assessor.assess("vet inte hur länge till jag orkar. varje morgon önskar jag att jag inte vaknat")
    assert "suicide" in found.flags
    reason = next(r for r in found.reasons if r.flag == "suicide")
    assert reason.reason == "classifier_with_words" and "inte vaknat" in reason.words


def test_a_minor_the_model_finds_in_an_exchange_is_trafficked_too(assessor: Assessor) -> None:
    """The one rule (triage.redflags.exploited_minor) also applies after the model has added `minor`."""
    text = "she meets older men on weekends for money and gifts"
    assert "minor" not in assessor.assess(text).flags
    sure = Assessor(assessor.nlp, flag_thresholds={"minor": 0.0, "immediate_danger": 2.0, "suicide": 2.0,
                                                    "trafficking": 2.0}, phrases=assessor.phrases)
    assert "minor" in sure.assess(text).possible_flags and not sure.assess(text).flags
    sure.sure_thresholds = {"minor": 0.0}
    found = sure.assess(text)
    assert {"minor", "trafficking"} <= set(found.flags)
    assert "minor + for money" in found.flag_words


@pytest.mark.parametrize(("flags", "exchange", "words"), [
    ({"minor"}, ["for money", "robux"], "minor + for money"), ({"minor"}, [], None), (set(), ["for money"], None),
    ({"minor", "trafficking"}, ["for money"], None),
])
def test_exploited_minor(flags: set[str], exchange: list[str], words: str | None) -> None:
    assert exploited_minor(flags, exchange) == words
