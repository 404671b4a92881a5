"""The shipped model's own say on red flags: it needs a message with enough words."""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from triage.assess import Assessor, enough_words
from triage.redflags import Flags, exploited_minor

MODEL = Path(__file__).resolve().parent.parent / "config" / "triage" / "model"


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return Assessor.load(MODEL)


@pytest.mark.parametrize(("text", "enough"), [
    ("hey whats up", False), ("olá, boa tarde", False), ("contact 12 round 3 a1b2c3", False), ("test 123", False),
    ("pls stop messaging this number", True), ("har inget ställe att sova inatt", True),
    ("เจ้าของร้านเก็บพาสปอร์ตไว้ ไม่ให้ออกไปไหนเลย", False), ("ร้านนวด massage shop owner has my passport", True),
])
def test_enough_words(text: str, enough: bool) -> None:
    """Text in a script written without spaces (Thai) does not count: the model never learnt its long tokens,
    and the phrase book's substrings read it instead."""
    assert enough_words(text) is enough


def test_thai_control_by_others_is_read_by_the_substrings(assessor: Assessor) -> None:
    assert "trafficking" in assessor.assess("เจ้าของร้านเก็บพาสปอร์ตไว้ ไม่ให้ออกไปไหนเลย").flags


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


@pytest.mark.parametrize("text", [
    "Grattis! Du har vunnit ett presentkort, klicka på länken", "fel nummer, sorry", "testar bara",
    "Congratulations, you won a free phone, click here", "sorry wrong number", "just testing this chat",
    "Felicitari! Ai castigat un premiu, da click pe link", "scuze, numar gresit",
    "Поздравления! Спечелихте награда, кликнете тук", "грешен номер, извинете",
    "Вы выиграли приз! Перейдите по ссылке", "¡Felicidades! Has ganado un premio, haz clic aquí",
    "perdón, número equivocado", "Gratulacje! Wygrałeś nagrodę, kliknij link", "مبروك! ربحت جائزة، اضغط على الرابط",
])
def test_spam_wrong_numbers_and_tests_are_other_without_a_flag(assessor: Assessor, text: str) -> None:
    found = assessor.assess(text)
    assert (found.group, found.flags) == ("other", ())


def test_a_counsellor_asking_about_a_concern_report_is_not_acute(assessor: Assessor) -> None:
    """The demo's school counsellor: the classifier alone says minor and trafficking, without words in the
    message that back it, so both are only possible and the risk stays routine."""
    found = assessor.assess("Jag är skolkurator och undrar hur jag ska göra en orosanmälan.")
    assert found.flags == () and found.result().risk == "routine"
    assert all(r.reason == "classifier_only" and r.words == "" for r in found.reasons)
    assert set(found.possible_flags) == {r.flag for r in found.reasons}


def test_a_16_year_old_paid_to_meet_is_acute_with_her_own_words(assessor: Assessor) -> None:
    found = assessor.assess("Jag är 16 och en man betalar mig för att träffas")
    assert {"minor", "trafficking"} <= set(found.flags) and found.result().risk == "acute"
    reasons = {(r.flag, r.reason): r.words for r in found.reasons}
    assert reasons[("minor", "age_under_18")] == "Jag är 16"
    assert reasons[("trafficking", "paid_meetings")] == "Jag är 16 … betalar mig"
    assert not any("model" in w for w in found.flag_words)


@pytest.mark.parametrize("text", [
    "Jag håller i en temadag om människohandel för personalen, har ni material?",
    "I'm writing a novel where the main character is a 15-year-old girl who is groomed online",
    "Scriu un articol despre traficul de persoane si exploatare",
    "I sell sex on my own, no pimp, I have my own passport. Is it legal in Sweden?",
    "Mitt ex hotade mig förut men han har flyttat utomlands och jag har kontaktförbud, jag är trygg nu",
    "I want to stop living like this and find a normal job",
])
def test_near_misses_raise_no_flag_whatever_the_classifier_says(assessor: Assessor, text: str) -> None:
    assert assessor.assess(text).flags == ()


@pytest.mark.parametrize("text, need", [
    ("jag har skulder hos kronofogden och kan inte betala hyran", "economy"),
    ("I owe a lot of money and can't pay the rent", "economy"),
    ("jag vill åka hem till Rumänien men har ingen biljett", "return"),
    ("I want to go home to my country", "return"),
    ("var kan jag testa mig för klamydia och hiv anonymt?", "health"),
    ("I need a doctor, I think I'm pregnant", "health"),
    ("är det olagligt att sälja sex i Sverige? kan jag bli utvisad?", "legal"),
    ("can I be deported if the police find out?", "legal"),
    ("vreau sa ma intorc in Romania, nu am bani de bilet", "return"),
])
def test_needs_that_steer_are_found_in_plain_words(assessor: Assessor, text: str, need: str) -> None:
    assert need in assessor.assess(text).needs


def test_needs_in_a_script_without_spaces(assessor: Assessor) -> None:
    assert "return" in assessor.assess("ฉันอยากกลับบ้านแต่ไม่มีเงินค่าตั๋ว").needs


@pytest.mark.parametrize("flag", ["suicide", "immediate_danger"])
def test_the_classifier_alone_raises_danger_and_suicide_for_safety(assessor: Assessor, flag: str) -> None:
    """Without words that back it, the classifier's say on danger or suicide still counts (a missed
    person in danger costs more than a false alarm), with a reason the counsellor reads as such."""
    found = Flags()
    possible = assessor._model_flags(found, {f"flag:{flag}": 0.5}, True)
    assert flag in found.flags and flag not in possible
    assert [e.reason for e in found.evidence] == ["classifier_safety"]


def test_the_classifier_alone_leaves_trafficking_and_minor_possible(assessor: Assessor) -> None:
    found = Flags()
    possible = assessor._model_flags(found, {"flag:trafficking": 0.5, "flag:minor": 0.7}, True)
    assert not found.flags and possible == {"trafficking", "minor"}


def test_a_message_about_a_topic_keeps_even_danger_possible(assessor: Assessor) -> None:
    found = Flags(topic=True)
    assert assessor._model_flags(found, {"flag:suicide": 0.9}, True) == {"suicide"}
    assert not found.flags
