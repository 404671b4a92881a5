"""Rule behaviours that keep red flags precise (issue 12), each in several languages: what must not raise a
flag, and the true case next to it that still must."""
from __future__ import annotations

import pytest

from lotsa_testing.phrase_rules import BOOK, NLP, flags, found, shipped_assessor
from triage.assess import RAISED_ALONE, Assessor
from triage.features import Featurizer
from triage.redflags import Flags


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return shipped_assessor()


@pytest.mark.parametrize("text", [
    "Har sålt sex ett tag för att betala av skulder till Klarna. Finns det budgetrådgivning?",
    "Przestałam. Mam dług za mieszkanie i nie mam pracy",
    "Нямам работа и имам дългове, какво да правя",
    "Tartozásom van a lakbérrel, ezért kezdtem",
    "I have debt on my credit card and that's why I started",
    "Tengo una deuda con el banco y no sé qué hacer",
])
def test_ones_own_debt_is_no_control_by_others(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "han säger att jag har en skuld till honom för resan",
    "they say I have a debt to them for the flight",
    "Les debo dinero del viaje y tengo que trabajar",
    "Muszę odpracować dług za podróż",
    "Tartozom nekik az útért",
])
def test_a_debt_to_someone_who_controls_still_flags(text: str) -> None:
    assert "trafficking" in flags(text)


def test_a_bare_debt_word_backs_the_classifier() -> None:
    assert "trafficking" in found("jag måste betala av varje vecka").support


@pytest.mark.parametrize("text", [
    "vi har kontaktförbud nu och mitt ex som sålde mig har flyttat till Umeå",
    "My husband is in jail for pimping and I have no money for rent",
    "Mitt ex som var min hallick har fått fyra år. Jag vill prata",
    "Hon berättade att hennes pappa tvingade henne när jag var liten",
])
def test_control_by_others_told_as_over_raises_nothing(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "mitt ex har flyttat men hans kompis har fortfarande mitt pass",
    "he is in jail but his brother still takes all my money",
])
def test_control_that_goes_on_still_flags(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "Jobbar på en bank och har sett konstiga överföringar. Kan det vara människohandel?",
    "Socialsekreterare här: hur vet man om det är människohandel eller koppleri?",
    "I work as a nurse. How do we tell if it is trafficking?",
    "Hur länge får man stanna i Sverige om man är offer för människohandel?",
    "Jobbar som lärare. Vi ska ha tema om människohandel i åk 9, kan någon komma?",
])
def test_a_subject_asked_about_from_a_work_role_is_no_indicator(text: str) -> None:
    assert not flags(text)


@pytest.mark.parametrize("text, flag", [
    ("Är jag ett offer för människohandel? De har mitt pass", "trafficking"),
    ("Är det här människohandel? Ska jag gå till polisen?", "trafficking"),
    ("I'm in year 9 and a man pays me to meet him", "minor"),
    ("Jag är socialsekreterare. En klient, 15 år, säljer sex", "minor"),
])
def test_ones_own_situation_still_flags_next_to_them(text: str, flag: str) -> None:
    assert flag in flags(text)


@pytest.mark.parametrize("text, flag", [
    ("I don't have thoughts of hurting myself, I just feel lonely", "suicide"),
    ("jag har inga självmordstankar, jag vill bara prata", "suicide"),
    ("nu vreau să mă sinucid, vreau doar să vorbesc", "suicide"),
    ("Passet har gått ut, jag var på passkontoret idag", "trafficking"),
    ("kan man bli gravid fast man tog dagen efter piller?", "suicide"),
])
def test_words_that_do_not_count_leave_the_classifier_only_possible(text: str, flag: str) -> None:
    result = found(text, "ro" if "vreau" in text else None)
    assert flag not in result.flags and flag in result.denied


def test_a_denied_flag_is_only_possible_whatever_the_classifier_says(assessor: Assessor) -> None:
    result = Flags(denied={"suicide"})
    assert assessor._model_flags(result, {"flag:suicide": 0.95}, True) == {"suicide"}
    assert not result.flags


def test_not_my_passport_is_no_reassurance() -> None:
    assert "trafficking" not in found("jag har inte mitt pass, han har det").denied


@pytest.mark.parametrize("flag", sorted(RAISED_ALONE))
def test_the_classifier_alone_below_its_safety_score_raises_nothing(assessor: Assessor, flag: str) -> None:
    result = Flags()
    assessor._model_flags(result, {f"flag:{flag}": RAISED_ALONE[flag] - 0.01}, True)
    assert not result.flags
    assessor._model_flags(result, {f"flag:{flag}": RAISED_ALONE[flag]}, True)
    assert result.flags == {flag}


@pytest.mark.parametrize("text", [
    "Jag bokade en tjej som sa att hon var 16",
    "the girl said that she was 15 and that he takes the money",
    "น้องสาวฉันอายุ 15",
    "Mitt barnbarn på 13 träffar en vuxen man",
    "My granddaughter, 14, gets gifts from an older man",
])
def test_an_age_told_in_reported_speech_thai_or_of_a_grandchild_is_a_minor(text: str) -> None:
    assert "minor" in flags(text)


@pytest.mark.parametrize("text", ["jag var 16 när det började, nu är jag 30", "I was 15 when I started, now I'm 28"])
def test_ones_own_past_age_is_still_no_minor(text: str) -> None:
    assert "minor" not in flags(text)


@pytest.mark.parametrize("text", [
    "min vän skrev att hon har tagit en hel burk sömntabletter och nu svarar hon inte",
    "Mi amiga me escribió que tomó muchas pastillas y no contesta",
    "Я выпила много таблеток",
    "أخذت كل الحبوب ولا أريد أن أستيقظ",
    "Bevettem az összes tablettát",
])
def test_an_overdose_taken_in_more_wordings_is_danger_and_suicide(text: str) -> None:
    assert {"suicide", "immediate_danger"} <= flags(text)


@pytest.mark.parametrize("text", [
    "Dear Sir/Madam, I am interested in your business proposal",
    "Nu har någon hittat gamla bilder och hotar att sprida dem",
    "He threatens to post the pictures online",
    "Девушка сказала что ей 18, по паспорту тоже 18",
])
def test_everyday_uses_of_flag_words_raise_nothing(text: str) -> None:
    assert not flags(text)


@pytest.mark.parametrize("text", [
    "Me mueven de ciudad cada semana y ellos contestan los anuncios",
    "Нас перевозят из города в город",
    "A főnök viszi a pénzt",
    "Facet każe przyjmować klientów",
    "สามีบังคับให้ฉันขายบริการ",
    "Min pojkvän låter andra män betala och han behåller pengarna",
])
def test_control_by_others_in_more_languages(text: str) -> None:
    assert "trafficking" in flags(text)


def test_keeping_ones_own_money_reassures() -> None:
    assert "trafficking" not in flags("Jag jobbar själv och jag behåller pengarna, har mitt pass")


@pytest.mark.parametrize("text, group", [
    ("น้องสาวฉันทำงานร้านนวด", "relative"),
    ("ฉันเป็นพยาบาลที่คลินิก", "professional"),
    ("Soy trabajadora social en Madrid", "professional"),
    ("Az unokahúgom nagyon fiatal", "relative"),
    ("Szexet árulok egy ideje", "sells"),
])
def test_group_cues_in_more_languages_and_without_spaces(text: str, group: str) -> None:
    featurized, _ = next(iter(Featurizer(NLP, BOOK)([text], [None])))
    assert group in featurized.cues


def test_control_by_others_is_never_group_other(assessor: Assessor) -> None:
    result = assessor.assess("Нас перевозят из города в город")
    assert "trafficking" in result.flags and result.group != "other"


@pytest.mark.parametrize("text, flag", [
    ("الرجل الآن خارج الباب ويهددني", "immediate_danger"),
    ("Mam myśli samobójcze od tygodnia", "suicide"),
    ("Azt mondja, nem akar élni", "suicide"),
    ("Ella dice que no quiere vivir", "suicide"),
    ("Ніхто не знає, у мене думки про самогубство", "suicide"),
])
def test_danger_and_suicide_in_more_languages(text: str, flag: str) -> None:
    assert flag in flags(text)


def test_a_child_paid_for_sex_needs_the_legal_route(assessor: Assessor) -> None:
    result = assessor.assess("Min dotter är 15 och en vuxen man ger henne pengar för sex")
    assert {"minor", "trafficking"} <= set(result.flags) and "legal" in result.needs
