"""The shipped model's own say on red flags: it needs a message with enough words."""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from triage.assess import Assessor, enough_words

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
    found = assessor.assess("vet inte hur länge till jag orkar. varje morgon önskar jag att jag inte vaknat")
    assert "suicide" in found.flags and any("model" in w for w in found.flag_words)
