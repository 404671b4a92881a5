"""Rule behaviours added after reading the fourth blind set's misses (issue 12), each in several
languages: papers named without anyone holding them, one's own debt to a bank, role words, topics
(a conference, staff training, a general question), Persian written with the zero-width joiner,
overdoses by the jar or by insulin, Thai overdoses and debt bondage, control by a group, beatings
for refusing clients, and the groups of people asking for a test or in danger now."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from lotsa_testing.phrase_rules import TRIAGE, flags, found, shipped_assessor
from triage.assess import Assessor
from triage.normalize import fold
from triage.phrasebook import PhraseBookError, load_phrasebook, phrases_folder
from triage.vocabulary import risk_for


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return shipped_assessor()


@pytest.mark.parametrize("text", [
    "Behöver förnya mitt pass innan semestern, var ligger passkontoret?",
    "My passport is in my bag, I only need money for the bus home",
    "Tengo mi pasaporte conmigo, solo me falta dinero para el billete",
    "Где можно сделать новый паспорт, если старый истёк?",
    "Gdzie mogę odebrać nowy paszport w konsulacie?",
    "Az útlevelem nálam van, csak pénz kellene a vonatjegyre",
    "Pașaportul meu expiră luna viitoare, unde îl pot reînnoi?",
])
def test_papers_named_without_anyone_holding_them_raise_no_flag(assessor: Assessor, text: str) -> None:
    assert "trafficking" not in flags(text)
    result = assessor.assess(text)
    assert "trafficking" not in result.flags and risk_for(result.flags) != "acute"


@pytest.mark.parametrize("text", [
    "Chefen har tagit mitt pass och säger att jag får det när allt är betalt",
    "The woman who arranged the trip keeps our passports locked up",
    "El dueño del piso se quedó con mi pasaporte",
    "Хозяин квартиры забрал мой паспорт",
    "Szef trzyma mój paszport w sejfie",
    "Patronul tine pasaportul meu in birou",
    "Шефът държи паспорта ми от месец",
    "صاحب الشقة اخذ الجواز ولا يرجعه",
])
def test_someone_taking_or_keeping_the_papers_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "Jag har en skuld till Kronofogden sedan jag blev sjuk",
    "I owe money to the bank for the car and it keeps growing",
    "Am datorii la bancă pentru un credit de nevoi personale",
    "Mam dług w banku za mieszkanie i nie daję rady",
    "У меня долг перед банком по кредиту",
])
def test_a_debt_to_a_bank_or_an_authority_is_ones_own(assessor: Assessor, text: str) -> None:
    assert "trafficking" not in flags(text)
    assert "trafficking" not in assessor.assess(text).flags


@pytest.mark.parametrize("text", [
    "Jag har en skuld till mannen som ordnade resan hit",
    "they say i owe them for the flat and the trip",
])
def test_a_debt_to_a_person_still_flags(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "I'm the manager of a small hostel and want posters for the staff room",
    "Chefen på mitt vanliga jobb vet inte att jag säljer sex ibland",
    "Seful meu de la restaurant nu știe nimic despre asta",
])
def test_a_manager_or_a_boss_named_is_no_control(assessor: Assessor, text: str) -> None:
    assert "trafficking" not in assessor.assess(text).flags


@pytest.mark.parametrize("text", [
    "Vi ordnar en konferens om unga under 18 som säljer sex, har ni siffror?",
    "Our hostel wants staff training on spotting trafficking. No specific guest, we want to be prepared.",
    "En generell fråga, inget ärende: hur hänvisar vi personer utsatta för människohandel?",
    "Organizăm o conferință despre minori sub 18 ani exploatați, aveți date?",
    "Preparamos una conferencia sobre menores de 18 explotados, ¿tienen datos?",
])
def test_a_conference_training_or_general_question_is_a_topic(assessor: Assessor, text: str) -> None:
    result = assessor.assess(text)
    assert not result.flags and risk_for(result.flags) == "routine"


@pytest.mark.parametrize("text", [
    "Salut, sunt român și lucrez în construcții aici",
    "my pimp is Romanian and takes all my money",
    "Jag är från Rumänien, romani, och säljer sex",
])
def test_romanian_is_not_a_novel(text: str) -> None:
    assert not found(text).topic


def test_a_romanians_control_still_flags(assessor: Assessor) -> None:
    assert "trafficking" in assessor.assess("my pimp is Romanian and takes all my money").flags


@pytest.mark.parametrize(("text", "expected"), [
    ("Ya no puedo más con la culpa de pagar por sexo, quiero parar", set()),
    ("I can't take the guilt anymore, I want to stop buying sex", set()),
    ("Nu mai pot cu rușinea, vreau să mă las", set()),
    ("ya no puedo más, quiero morirme", {"suicide"}),
])
def test_exhaustion_with_a_named_weight_is_no_suicide(text: str, expected: set[str]) -> None:
    assert flags(text) & {"suicide"} == expected


def test_persian_is_read_with_or_without_the_zero_width_joiner() -> None:
    assert fold("نمی\u200cخواهم") == fold("نمیخواهم") == "نمیخواهم"
    assert "suicide" in flags("دیگه نمی\u200cخوام زنده باشم")
    assert "suicide" in flags("نمیخواهم زنده بمانم، خیلی خسته ام")
    assert "trafficking" in flags("صاحبکارم پاسپورتم را گرفته و پس نمی\u200cدهد")
    assert not flags("پاسپورتم را تمدید کردم و فردا به خانه برمی\u200cگردم")


@pytest.mark.parametrize("text", [
    "svalde en burk sovtabletter för en halvtimme sen",
    "Jag sprutade insulin fast jag inte är diabetiker",
    "I injected my dad's insulin and I'm not diabetic",
    "took a strip of sleeping pills with vodka an hour ago",
    "กินยานอนหลับไปหมดแผงเมื่อกี้",
])
def test_an_overdose_by_the_jar_or_insulin_is_danger_and_suicide(assessor: Assessor, text: str) -> None:
    assert {"suicide", "immediate_danger"} <= flags(text)
    result = assessor.assess(text)
    assert risk_for(result.flags) == "acute" and any(r.reason == "overdose_taken" for r in result.reasons)


@pytest.mark.parametrize("text", [
    "Jag tar insulin varje morgon för min diabetes",
    "tog en alvedon mot huvudvärken, mår bra",
    "I take insulin with every meal, I'm diabetic",
])
def test_a_medicine_taken_as_one_should_is_no_overdose(text: str) -> None:
    assert not flags(text) & {"suicide", "immediate_danger"}


def test_thai_debt_bondage_flags_and_a_passport_with_oneself_does_not() -> None:
    assert "trafficking" in flags("เจ้าของร้านเก็บเงินทั้งหมดไว้ จนกว่าจะใช้หนี้หมด")
    assert "trafficking" not in flags("พาสปอร์ตอยู่กับฉันเอง อยากกลับบ้านค่ะ")


@pytest.mark.parametrize(("text", "danger"), [
    ("Segítség kellene az adóbevallásban", False),
    ("Van segítség azoknak, akik abba akarják hagyni?", False),
    ("Segítség! Bezárt a lakásba és nem enged ki", True),
])
def test_a_hungarian_plea_for_help_needs_a_threat(text: str, danger: bool) -> None:
    assert ("immediate_danger" in flags(text)) is danger


@pytest.mark.parametrize("text", [
    "de har låst in oss i lägenheten och tagit våra telefoner",
    "they locked us in the flat and took our phones",
    "nos quitaron los celulares y no sabemos dónde estamos",
    "взеха ни телефоните и не ни пускат",
    "zabrali nam telefony, nie wiem gdzie jestem",
])
def test_held_by_a_group_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "han slår mig för att jag vägrade ta fler kunder",
    "he hits me because I refused to see more clients",
    "زوجي يضربني لاني رفضت الذهاب مع الزبائن",
    "mă bate pentru că am refuzat să merg cu clienții",
])
def test_beaten_for_refusing_clients_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "någon bankar på dörren och skriker att han ska döda mig, hjälp nu",
    "someone is trying to break in right now and he says he will kill me",
])
def test_danger_now_is_never_group_other(assessor: Assessor, text: str) -> None:
    result = assessor.assess(text)
    assert "immediate_danger" in result.flags and result.group != "other"


@pytest.mark.parametrize("text", [
    "Var kan jag testa mig för klamydia och hiv gratis?",
    "Unde pot face testul HIV gratuit în Stockholm?",
    "Gdzie zrobić test na HIV anonimowo w Göteborgu?",
])
def test_asking_for_a_test_oneself_is_group_sells(assessor: Assessor, text: str) -> None:
    result = assessor.assess(text)
    assert result.group == "sells" and not result.flags


def test_an_alternative_with_a_prefix_or_hyphen_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "triage"
    shutil.copytree(TRIAGE, folder, ignore=shutil.ignore_patterns("model", "examples", "__pycache__"))
    path = phrases_folder(folder) / "trafficking.yaml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    content["phrases"]["sv"].append("tog ... pass~|id")
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(PhraseBookError) as err:
        load_phrasebook(phrases_folder(folder))
    assert "one whole word" in str(err.value) and "pass~|id" in str(err.value)


@pytest.mark.parametrize("text", [
    "hjälp, kunden låter mig inte gå från lägenheten och han är full",
    "help, the client won't let me out of his flat and he's drunk",
    "clientul nu mă lasă să plec din cameră, ajutor",
    "клиентът не ме пуска да изляза от колата, помощ",
    "jag har låst in mig själv på toaletten, han slår på dörren nu",
    "I locked myself in the bathroom, he is banging on the door right now",
])
def test_held_by_a_client_or_hiding_is_danger_not_trafficking(assessor: Assessor, text: str) -> None:
    result = assessor.assess(text)
    assert "immediate_danger" in result.flags and "trafficking" not in result.flags
    assert risk_for(result.flags) == "acute"


@pytest.mark.parametrize("text", [
    "hennes hallick låter henne inte gå ut",
    "the man who brought us won't let us leave the flat",
])
def test_held_by_someone_else_is_still_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "jag är 16 och har betalat en tjej för sex, vad händer nu?",
    "I'm 17 and I paid an escort last weekend, will I get in trouble?",
    "am 16 ani și am plătit o fată pentru sex",
    "jag är 14 och min mamma säljer sex hemma, jag vill flytta",
    "I'm 15 and my mum sells sex from our flat",
])
def test_a_minor_who_pays_or_whose_parent_sells_is_minor_not_trafficking(assessor: Assessor, text: str) -> None:
    result = assessor.assess(text)
    assert "minor" in result.flags and "trafficking" not in result.flags
    assert risk_for(result.flags) == "acute"


@pytest.mark.parametrize("text", [
    "jag är 15 och en man betalar mig för att träffas",
    "I'm 16 and a guy pays me to meet up",
    "am 15 ani și un bărbat îmi dă bani să mă văd cu el",
])
def test_a_minor_paid_for_sex_is_still_minor_and_trafficking(text: str) -> None:
    assert {"minor", "trafficking"} <= flags(text)
