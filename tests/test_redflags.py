"""Unit tests of the red-flag rules and language detection, across languages."""
from __future__ import annotations

import pytest

from lotsa_testing.phrase_rules import NLP, RULES, flags
from triage.language import LanguageDetector
from triage.normalize import fold


@pytest.mark.parametrize("text", [
    "jag är 15", "Jag e sjutton", "hon är bara 14 år", "min 14-åriga dotter", "går i nian", "16-årig tjej",
    "fyller 18 i maj", "im 16f", "my 14-year-old daughter", "she's just 15", "i m 16 pls help", "Tengo 16 años",
    "am 16 de ani", "имам 15 години", "на 15 съм", "Мне 15 лет", "my 16th birthday was yesterday",
    "En av våra flickor, 16, har rymt", "she looked maybe 15",
])
def test_ages_under_18_are_minors(text: str) -> None:
    assert "minor" in flags(text)


@pytest.mark.parametrize("text", [
    "när jag var 15 började jag, nu är jag 24", "i was 16 when it started", "i'm 19 not a kid", "hon är 19",
    "jag kommer 15 min sen", "jag har haft 3 kunder idag", "it's a minor issue", "i am 25 years old",
    "jag är inte minderårig",
])
def test_adults_past_and_other_numbers_are_not(text: str) -> None:
    assert "minor" not in flags(text)


@pytest.mark.parametrize("text, flag", [
    ("jag vill inte leva längre", "suicide"), ("orkar inte. vill bara dö.", "suicide"),
    ("i dont want to live anymore", "suicide"), ("my sister says she wants to kill herself", "suicide"),
    ("vreau sa mor", "suicide"), ("искам да умра", "suicide"), ("ฉันอยากตาย", "suicide"),
    ("han står utanför dörren nu", "immediate_danger"), ("he is outside my door right now with a knife", "immediate_danger"),
    ("ma bate acum", "immediate_danger"), ("заключена съм", "immediate_danger"),
    ("han tog mitt pass", "trafficking"), ("he keeps my passport and i owe them for the flight", "trafficking"),
    ("ia toti banii", "trafficking"), ("дължа пари за пътя", "trafficking"),
])
def test_red_flags_in_several_languages(text: str, flag: str) -> None:
    assert flag in flags(text)


@pytest.mark.parametrize("text, flag", [
    ("jag dör av skratt", "suicide"), ("I'm not suicidal, just tired", "suicide"), ("dödstrött efter jobbet", "suicide"),
    ("nobody took my passport, i work alone", "trafficking"), ("he hit me last year but hes gone", "immediate_danger"),
    ("my gfs dad is gonna kill me lol", "immediate_danger"), ("a client strangled me last night, im ok now", "immediate_danger"),
])
def test_negations_idioms_and_past_violence_raise_nothing(text: str, flag: str) -> None:
    assert flag not in flags(text)


def test_romanian_nu_is_a_negation_not_now() -> None:
    assert "immediate_danger" not in flags("nu ma bate, doar tipa", "ro")
    assert "immediate_danger" in flags("han slår mig nu", "sv")


def test_the_words_that_fired_are_reported() -> None:
    found = RULES.find(NLP.make_doc(fold("Jag är 15 och han tog mitt pass")), "sv")
    assert "tog mitt pass" in found.words and any("15" in w for w in found.words)


@pytest.mark.parametrize("text, language", [
    ("hej jag behöver hjälp", "sv"), ("hej", "sv"), ("hello?? anyone", "en"), ("buna ziua am nevoie de ajutor", "ro"),
    ("здравейте, имам нужда от помощ", "bg"), ("мне нужна помощь", "ru"), ("мені потрібна допомога", "uk"),
    ("hola necesito ayuda por favor", "es"), ("", None), ("123 456", None),
])
def test_language_detection(text: str, language: str | None) -> None:
    assert LanguageDetector().detect(text) == language


@pytest.mark.parametrize("text", [
    "jag e 15 o en gubbe swishar mig för bilder", "im 16 and a guy pays me to meet him", "am 15 ani si un barbat imi da bani",
    "на 15 съм и един мъж ми дава пари за снимки", "född 2011, en kille erbjuder mig pengar för att ses",
])
def test_a_minor_paid_for_sex_or_images_is_trafficked(text: str) -> None:
    assert {"minor", "trafficking"} <= flags(text)


@pytest.mark.parametrize("text", [
    "har köpt sex i 10 år och vill sluta", "living in sweden 6 years, i go to women for money",
    "jag e 16 o min pappa köper sex",
])
def test_durations_and_a_minor_who_is_not_exploited_raise_no_trafficking(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "jag vill inte finnas längre", "orkar inte leva mer", "ska ta alla tabletter ikväll", "nobody would miss me anyway",
    "vreau sa mor", "искам да умра", "не ми се живее вече", "nu mai vreau sa traiesc asa", "ne mi se jivee",
    "wish i wasnt here anymore tbh",
])
def test_suicide_in_everyday_wording(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "не мисля да се самоубивам, не се притеснявайте",
    "försökte ta livet av mig för 3 år sen men mår bra nu", "five years ago I tried to end my life, I'm stable now",
    "killing myself laughing at this lol", "ma omor de ras", "my husband says id rather die than go to therapy",
    "sexuellt självskadebeteende, finns det hjälp för det?",
])
def test_suicide_negations_idioms_and_long_ago(text: str) -> None:
    assert "suicide" not in flags(text)


def test_romanian_nu_negates_across_particles() -> None:
    assert "suicide" not in flags("nu vreau sa ma sinucid, sunt doar obosita", "ro")


@pytest.mark.parametrize("text", [
    "han står utanför dörren", "he's going to kill me tonight", "they won't let me leave the flat",
    "client wont stop the car and i dont know where we are going", "nu ma lasa sa ies din camera",
    "не ме пуска да изляза, заключи вратата", "någon försöker ta sig in genom fönstret just nu",
])
def test_danger_in_everyday_wording(text: str) -> None:
    assert "immediate_danger" in flags(text)


@pytest.mark.parametrize("text", [
    "ma omoara spatele de la statul in picioare", "can i get the police non emergency number",
    "преди десетина дни един клиент ме би, вече съм добре",
])
def test_danger_idioms_and_violence_that_is_over(text: str) -> None:
    assert "immediate_danger" not in flags(text)


@pytest.mark.parametrize("text", [
    "I've decided. sorry for everything", "har bestämt mig. tabletterna ligger framme", "am hotarat, diseara iau pastilele",
    "сбогом, съжалявам за всичко",
])
def test_two_weak_signs_or_one_with_a_means_are_suicide(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "I've decided to quit escorting", "sorry for everything I wrote earlier, can I ask about STI tests?",
    "I need to talk to someone tonight",
])
def test_one_weak_sign_alone_is_not_suicide(text: str) -> None:
    assert "suicide" not in flags(text)


def test_a_threat_long_ago_is_not_danger_now() -> None:
    assert "immediate_danger" not in flags("jag blev hotad med kniv av en kund för ett halvår sen. vill prata om det nu")


@pytest.mark.parametrize("text", [
    "من ۱۷ سالمه و یه مرد بهم پول میده", "أنا عمري ١٦ سنة",
])
def test_ages_in_other_digits_are_read(text: str) -> None:
    assert "minor" in flags(text)


@pytest.mark.parametrize("text", [
    "my brother texted me goodbye an hour ago and now hes not picking up",
    "orkar inte mer. har tänkt på tabletterna i badrumsskåpet",
    "nobody will miss me anyway", "myślę że najlepiej by było jakbym się zabiła",
    "står på perrongen nu och väntar på rätt tåg", "voglio morire", "haluan kuolla", "我真的想死",
    "mama mea zice ca vrea sa se sinucida", "он сказал что повесится",
])
def test_suicide_in_more_wordings_and_languages(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "says hell kill me when hes done drinking, texting from the toilet",
    "they said theyre coming to his flat tonight to collect",
    "she just texted 'not ok, come get me'", "el a aflat in ce spital e si vine incoace",
    "шофьорът казва че няма да ни върне", "me está siguiendo un hombre", "mi picchia ogni sera, aiutatemi",
])
def test_danger_in_more_wordings_and_languages(text: str) -> None:
    assert "immediate_danger" in flags(text)


# Near misses (issue 12): wording that speaks of a flag's subject but is no indicator, in several
# languages, and the true cases next to them that must still flag.

@pytest.mark.parametrize("text", [
    "Jag har en utbildningsdag för socialtjänsten om människohandel i höst, har ni föreläsare?",
    "Jag skriver min uppsats om exploatering av minderåriga, får jag intervjua någon av er?",
    "We are planning a lesson on trafficking for year 8, do you have teaching material?",
    "My novel has a 16-year-old character who is exploited, can I ask how it usually starts?",
    "I'm a researcher writing about human trafficking in the Nordic countries, any statistics?",
    "Scriu lucrarea de licenta despre traficul de persoane, ma puteti ajuta cu statistici?",
    "Пиша дипломна работа за трафика на хора и експлоатацията, имате ли статистика?",
    "Estoy haciendo una tesis sobre la trata de personas, ¿tienen estadísticas?",
])
def test_a_topic_asked_about_is_no_indicator(text: str) -> None:
    assert flags(text) == set()


@pytest.mark.parametrize("text, flag", [
    ("Min kompis har sitt eget pass och behåller sina pengar själv, men jag oroar mig ändå", "trafficking"),
    ("I work alone, no pimp, I keep my own money. Just want to know my rights", "trafficking"),
    ("she has her own passport and nobody takes her money, she says it is her choice", "trafficking"),
    ("Lucrez singura, pe cont propriu, nimeni nu-mi ia banii", "trafficking"),
    ("Работя сама, никой не ми взима парите", "trafficking"),
    ("He didn't hurt me, he just left without paying", "immediate_danger"),
])
def test_negated_or_reassuring_indicators_raise_nothing(text: str, flag: str) -> None:
    assert flag not in flags(text)


@pytest.mark.parametrize("text", [
    "Var ligger passkontoret i Göteborg? Jag behöver förnya mitt pass",
    "where is the passport office, my passport expires next month",
    "Mi-a expirat pasaportul, unde e ambasada?",
    "jag har spelskulder och skäms, vill prata med någon om skulden jag känner",
    "I have gambling debts and owe my brother 5000, can you help me plan?",
    "Am datorii la banca, vreau sa ma las de escorta si sa gasesc alt job",
    "I'm on a business trip, staying at a hotel, and I keep looking at escort sites",
    "I take the sleeping pills my doctor prescribed, as prescribed, but I still can't sleep",
])
def test_incidental_travel_debt_and_pills_raise_nothing(text: str) -> None:
    assert flags(text) == set()


@pytest.mark.parametrize("text", [
    "Mitt ex som slog mig har flyttat utomlands och jag är trygg nu",
    "He used to hit me but there is a restraining order now and he moved abroad. I'm safe now",
    "Fostul meu m-a batut, dar acum am ordin de protectie si sunt in siguranta acum",
    "Бившият ме биеше, но вече съм в безопасност",
])
def test_danger_that_is_over_raises_nothing(text: str) -> None:
    assert "immediate_danger" not in flags(text)


@pytest.mark.parametrize("text", [
    "I want to stop living like this, I want a normal job",
    "Jag vill sluta leva så här och fortsätta med det här vill jag inte, jag vill ha ett vanligt jobb",
])
def test_wanting_another_life_is_not_suicide(text: str) -> None:
    assert "suicide" not in flags(text)


@pytest.mark.parametrize("text", [
    "Are women who are trafficked usually moved between cities?",
    "Is it true that girls who sell sex often have debts to someone?",
    "Kvinnor som utsätts för människohandel har ofta skulder, stämmer det?",
])
def test_people_in_general_are_no_indicator(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text, expected", [
    ("jag har tagit alla mina tabletter för en halvtimme sen", {"suicide", "immediate_danger"}),
    ("I took all my pills an hour ago, I'm sorry", {"suicide", "immediate_danger"}),
    ("am luat toate pastilele acum o ora", {"suicide", "immediate_danger"}),
    ("изпих всички хапчета", {"suicide", "immediate_danger"}),
])
def test_an_overdose_taken_is_danger_and_suicide(text: str, expected: set[str]) -> None:
    assert expected <= flags(text)


@pytest.mark.parametrize("text, expected", [
    ("he took my passport and says I owe him for the trip", {"trafficking"}),
    ("chefen har mitt pass och jag har en skuld till honom", {"trafficking"}),
    ("jag är 15 och en man betalar mig för att ses", {"minor", "trafficking"}),
    ("my niece is 14 and men offer her money to meet", {"minor", "trafficking"}),
    ("the men who took my passport keep us in a flat", {"trafficking"}),
    ("han står utanför dörren nu och hotar att döda mig", {"immediate_danger"}),
    ("he has a restraining order but he is outside my door now and says he will kill me", {"immediate_danger"}),
    ("I have debts to the man who brought me here and he takes all the money", {"trafficking"}),
    ("Jag är kurator. En elev i åk 8 får pengar av en äldre man för att ses", {"minor", "trafficking"}),
])
def test_true_cases_next_to_the_near_misses_still_flag(text: str, expected: set[str]) -> None:
    assert expected <= flags(text)


@pytest.mark.parametrize("text", [
    "nu am pasaportul meu si ii datorez bani sefului", "I don't work alone, he takes half",
])
def test_negated_reassurance_reassures_nothing(text: str) -> None:
    assert "trafficking" in flags(text, "ro" if text.startswith("nu") else "en")
