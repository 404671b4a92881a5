"""Rule behaviours added after reading the sixth blind set's misses (issue 12), each in several
languages: poison or bleach swallowed (suicide and danger both), a door being broken down, a knife at
the door, men sent tonight over a debt, goodbyes that hand over one's child; someone who owns the
writer or takes the money, runs the ads or keeps the phone, keeps her until the money is earned or
threatens harm unless it is brought; a child sleeping with clients (Thai) or bought for sex; and
the needs a ticket home, being brought here, and papers taken speak for. On the other side: a phone
number, a lesson that ends, a broken lock and pills for a headache stay quiet; a span of years ("przez
12 lat") or a sum in slang ("12 lax") is no age; a module or a lecture on the subject is a topic."""
from __future__ import annotations

import pytest

from lotsa_testing.phrase_rules import flags, shipped_assessor
from triage.assess import Assessor
from triage.vocabulary import risk_for


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return shipped_assessor()


@pytest.mark.parametrize("text", [
    "drack en kopp blekmedel för tio minuter sen",
    "i ate rat poison, it's done",
    "am înghițit otravă pentru șoareci azi",
    "проглотила крысиный яд полчаса назад",
    "ковтнула отруту, вибачте",
    "bebí lejía hace un rato",
    "изпих белина преди малко",
])
def test_poison_swallowed_is_suicide_and_danger(assessor: Assessor, text: str) -> None:
    assert {"suicide", "immediate_danger"} <= flags(text)
    result = assessor.assess(text)
    assert risk_for(result.flags) == "acute"
    assert "health" in result.needs


@pytest.mark.parametrize("text", [
    "он ломает дверь, я с ребёнком",
    "він ламає двері спальні",
    "he is breaking down the door right now",
    "разбива вратата, помогнете",
    "el está rompiendo la puerta del baño",
    "الزبون عند الباب الآن ومعه سكين",
    "she said she will send her boys tonight if i don't pay",
])
def test_a_door_broken_a_knife_at_the_door_men_sent_tonight_are_danger(assessor: Assessor, text: str) -> None:
    assert "immediate_danger" in flags(text)
    assert risk_for(assessor.assess(text).flags) == "acute"


@pytest.mark.parametrize("text", [
    "ta hand om mina barn om något händer. sista gången jag skriver här",
    "take care of my daughter if anything happens. this is the last time i write",
])
def test_two_goodbyes_together_are_suicide(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "sista gången jag skriver innan semestern, tack för allt",
    "last time i write about this topic, promise",
])
def test_one_goodbye_alone_is_no_flag(text: str) -> None:
    assert "suicide" not in flags(text)


@pytest.mark.parametrize("text", [
    "mannen som 'äger' mig står utanför",
    "the guy who owns me wants more tonight",
    "він забирає всі мої гроші",
    "on zabiera mi wszystkie pieniądze",
    "elviszi a pénzemet minden éjjel",
    "يأخذ كل أموالي ولا يعطيني شيئا",
    "взима ми парите всяка вечер",
    "imi ia toti banii in fiecare seara",
    "my boyfriend runs my ads",
    "han lägger ut mina annonser",
    "jag får inte gå förrän jag har tjänat 4000",
    "not allowed to leave until i've earned it back",
    "they will hurt her if she doesn't bring 3000",
    "dicen que debo el viaje",
])
def test_control_by_someone_else_is_trafficking(assessor: Assessor, text: str) -> None:
    assert "trafficking" in flags(text)
    assert "trafficking" in assessor.assess(text).flags


@pytest.mark.parametrize("text", [
    "my boss has my phone number for the shift list",
    "jag får inte gå förrän lektionen är slut",
    "the lock is broken so the door won't close",
])
def test_everyday_wording_is_no_trafficking_or_danger(text: str) -> None:
    assert not {"trafficking", "immediate_danger"} & flags(text)


@pytest.mark.parametrize("text", [
    "หลานอายุ 15 ต้องนอนกับลูกค้าที่ร้าน",
    "my cousin bought sex and she turned out to be 16",
])
def test_a_child_with_clients_is_minor_and_trafficking(assessor: Assessor, text: str) -> None:
    assert {"minor", "trafficking"} <= flags(text)
    assert assessor.assess(text).group != "other"


def test_pills_for_a_headache_are_no_overdose() -> None:
    assert not flags("took two alvedon for a headache and went for a walk") & {"suicide", "immediate_danger"}


@pytest.mark.parametrize(("text", "need"), [
    ("je veux rentrer en Guinée mais pas d'argent pour le billet", "return"),
    ("je veux rentrer en Guinée mais pas d'argent pour le billet", "economy"),
    ("haza akarok menni, nincs pénzem", "return"),
    ("хочу повернутися в Одесу, допоможіть з квитком", "return"),
    ("хочу вернуться в Кишинёв, нет денег на билет", "economy"),
    ("maxed out my credit card on escorts", "economy"),
    ("vill ha hjälp med en budget efter att jag slutat", "economy"),
    ("me trajeron de Paraguay con mentiras", "return"),
    ("a man brought me from Lagos and paid for my ticket", "return"),
    ("hozta ide egy ismerős", "return"),
    ("she holds my passport since the airport", "legal"),
    ("взеха паспорта ми на летището", "legal"),
    ("can my sister get compensation from him", "legal"),
])
def test_needs_said_in_the_persons_words(assessor: Assessor, text: str, need: str) -> None:
    assert need in assessor.assess(text).needs


@pytest.mark.parametrize("text", [
    "Kupowałam seks przez 12 lat, chcę skończyć",
    "compré sexo durante 15 años y quiero parar",
    "j'ai payé pour du sexe pendant 14 ans",
    "jag är skyldig en kompis 12 lax och har sålt sex en gång",
])
def test_a_span_of_years_or_a_sum_in_slang_is_no_age(text: str) -> None:
    assert "minor" not in flags(text)
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "Designing a module on human trafficking for social work students, any reading?",
    "Kan ni föreläsa för personalen? Temat är människohandel och prostitution",
    "Pregătesc o prelegere despre traficul de persoane pentru studenți",
    "Preparo una charla sobre trata de personas en el instituto",
])
def test_a_module_or_a_lecture_on_the_subject_is_a_topic(assessor: Assessor, text: str) -> None:
    assert not flags(text)
    result = assessor.assess(text)
    assert not result.flags
    assert risk_for(result.flags) != "acute"
