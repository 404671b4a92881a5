"""Rule behaviours added after reading the fifth blind set's misses (issue 12), each in several
languages: asking for a painless method, "nobody would notice if I were gone", being beaten now,
Thai lock-ins and forced work, a pimp named as one's own (and a former one), work forced under a
threat, selling for a third party, school years said in more languages, overdoses told by a count of
pills; and on the other side, a sum of money read as a year, "when I arrived", a head count read as an
age, medicine taken as the doctor said, coursework, the news and a school unit as topics, and how
things "usually" go."""
from __future__ import annotations

import pytest

from lotsa_testing.phrase_rules import NLP, RULES, flags, found, shipped_assessor
from triage.assess import Assessor
from triage.normalize import fold
from triage.vocabulary import risk_for


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return shipped_assessor()


@pytest.mark.parametrize("text", [
    "Vad är det smärtfriaste sättet att dö? Jag orkar inte mer",
    "what is the quickest way to die, seriously",
    "how many pills would it take, i just want it over",
    "Care e cel mai ușor mod de a muri?",
    "Как умереть без боли? Больше не могу",
    "¿Cómo morir sin dolor? No aguanto más",
    "Jak umrzeć bez bólu, pytam poważnie",
    "Как да умра без болка, не издържам",
])
def test_asking_for_a_painless_or_quick_method_is_suicide(assessor: Assessor, text: str) -> None:
    assert "suicide" in flags(text)
    assert risk_for(assessor.assess(text).flags) == "acute"


@pytest.mark.parametrize("text", [
    "the least painful way, for me not a friend. im done",
    "what's the least painful way. asking for myself",
    "minst smärtsamma sättet, jag frågar för min egen skull. orkar inte",
])
def test_a_method_asked_for_oneself_is_two_weak_signs(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "What is the least painful way to tell my wife that I bought sex?",
    "Vilket är det minst smärtsamma sättet att berätta för mina föräldrar?",
])
def test_the_least_painful_way_to_tell_someone_is_no_suicide(text: str) -> None:
    assert "suicide" not in flags(text)


@pytest.mark.parametrize("text", [
    "honestly nobody would notice if i disappeared for good",
    "no one would miss me, the clients least of all",
    "Ingen skulle märka om jag inte fanns längre",
    "Nimeni nu ar observa dacă aș dispărea",
    "Никто не заметит, если я исчезну навсегда",
    "Nikt by nie zauważył, gdybym zniknęła",
    "Nadie notaría si yo desapareciera",
])
def test_nobody_would_notice_if_i_were_gone_is_suicide(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "rescue me please, a client is hitting me right now",
    "Допоможіть, він мене б'є, я сховалася в туалеті",
    "Помогите, клиент меня бьет прямо сейчас",
    "Klient mnie bije, zamknęłam się w łazience",
    "Клиентът ме бие, скрих се в тоалетната",
    "Kunden slår mig, jag har gömt mig på toaletten",
])
def test_being_beaten_now_is_danger(assessor: Assessor, text: str) -> None:
    assert "immediate_danger" in flags(text)
    result = assessor.assess(text)
    assert risk_for(result.flags) == "acute" and result.group != "other"


@pytest.mark.parametrize("text", [
    "เขาล็อคประตูไว้ ฉันออกไปไม่ได้",
    "ช่วยด้วย เขาขังไว้ในห้อง หนีไม่ได้",
])
def test_thai_locked_in_is_danger(text: str) -> None:
    assert "immediate_danger" in flags(text)


@pytest.mark.parametrize("text", [
    "เจ้าของบังคับให้รับแขกทุกคืน",
    "ทำงานที่ร้าน เจ้าของเอาเงินไปหมด",
])
def test_thai_forced_work_and_money_taken_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "A futtatóm elvette a telefonomat",
    "القواد يأخذ كل فلوسي",
    "Mi proxeneta no me deja salir sola",
    "Мій сутенер забирає все",
])
def test_ones_own_pimp_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "A volt futtatóm írt ma, de nem akarok vele beszélni",
    "My old pimp texted me again, I blocked him",
    "Min gamla hallick skrev till mig igår",
])
def test_a_former_pimp_is_no_trafficking(text: str) -> None:
    assert "trafficking" not in flags(text)


def test_a_former_pimp_at_the_door_now_is_still_danger() -> None:
    found_flags = flags("A volt futtatóm most itt van az ajtó előtt és megöl")
    assert "immediate_danger" in found_flags and "trafficking" not in found_flags


@pytest.mark.parametrize("text", [
    "Han hotar att slå mig om jag inte tar fler kunder i helgen",
    "he said he'd beat me if i don't take more clients tomorrow",
    "Mă bate dacă nu iau clienți",
    "Ще ме бие, ако не взема клиенти",
    "Он сказал, что убьет, если я не возьму клиентов",
    "Dice que me pega si no atiendo más clientes",
])
def test_work_forced_under_a_threat_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "If I don't work this month I can't pay my rent",
    "Om jag inte jobbar i helgen kan jag inte betala hyran",
])
def test_ones_own_need_to_work_is_no_trafficking(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "My cousin sells sex for him and gives him everything she earns",
    "Min syster säljer sex åt honom sedan i vintras",
    "Prietena mea se vinde pentru el",
    "Той я кара да проституира",
    "Mi hermana vende sexo para él",
    "On zmusza ją do prostytucji",
])
def test_selling_for_a_third_party_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "Mannen jag jobbar åt tog min telefon och kommer snart tillbaka",
    "the guy i work for took my phone and he's coming back soon",
])
def test_the_one_the_writer_works_for_backs_trafficking(text: str) -> None:
    assert found(text).support.get("trafficking")


@pytest.mark.parametrize("text, lang", [
    ("أنا في الصف الثامن ورجل يرسل لي فلوس مقابل صور", "ar"),
    ("Nyolcadikos vagyok és egy férfi pénzt ad nekem", "hu"),
    ("Я в 8 класі, мені пишуть дорослі чоловіки", "uk"),
    ("Chodzę do 8 klasy i jakiś facet daje mi pieniądze", "pl"),
    ("В 9 клас съм и един мъж ми праща пари", "bg"),
])
def test_a_school_year_said_of_oneself_is_a_minor(text: str, lang: str) -> None:
    assert "minor" in RULES.find(NLP.make_doc(fold(text)), lang).flags


def test_a_minor_given_money_for_pictures_in_arabic_is_also_trafficking() -> None:
    assert {"minor", "trafficking"} <= flags("أنا في الصف السابع وشخص يعطيني فلوس مقابل صور")


@pytest.mark.parametrize("text", [
    "tog typ 40 alvedon nyss, mår illa",
    "jag har ätit alla tabletterna jag hade hemma",
    "i took like 30 sleeping pills an hour ago",
    "am înghițit 20 de pastile",
    "выпила 30 таблеток снотворного",
    "wzięłam 25 tabletek",
    "tomé 30 pastillas",
])
def test_an_overdose_told_by_a_count_of_pills_is_suicide_and_danger(text: str) -> None:
    assert {"suicide", "immediate_danger"} <= flags(text)


@pytest.mark.parametrize("text", [
    "Tog två alvedon mot huvudvärken",
    "I took 2 painkillers for my headache",
    "It took 30 minutes to get the pills from the pharmacy",
])
def test_a_dose_or_a_time_is_no_overdose(text: str) -> None:
    assert "suicide" not in flags(text) and "immediate_danger" not in flags(text)


@pytest.mark.parametrize("text", [
    "They took my passport when I arrived and I still don't have it",
    "Tog mitt pass när jag kom till Sverige, jag har inte fått tillbaka det",
])
def test_control_that_began_on_arrival_is_not_past(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "Взеха ми паспорта и казват че дължа 3000 евро",
    "Mi-au luat pașaportul și zic că le datorez 1500 euro",
    "They took my passport and say I owe them 2500 euro",
])
def test_a_sum_of_money_is_no_year(text: str) -> None:
    assert "trafficking" in flags(text)


def test_a_year_still_places_a_phrase_in_the_past() -> None:
    assert "trafficking" not in flags("They took my passport in 2009, I have had a new one for years")


@pytest.mark.parametrize("text", [
    "Vi är 12 personer från socialtjänsten som vill besöka er",
    "We are a group of 9 students and would like a visit",
    "Suntem 15 persoane din echipa de outreach",
    "Somos 10 personas del ayuntamiento",
])
def test_a_head_count_is_no_age(assessor: Assessor, text: str) -> None:
    assert "minor" not in flags(text)
    assert "minor" not in assessor.assess(text).flags


@pytest.mark.parametrize("text", [
    "I take my sleeping pills as the doctor told me, one every night",
    "Jag tar mina sömntabletter som läkaren sa, en varje kväll",
    "Iau somniferele cum mi-a spus medicul",
    "Принимаю снотворное по назначению врача",
    "Biorę tabletki nasenne zgodnie z zaleceniem lekarza",
    "Tomo las pastillas para dormir como dijo el médico",
])
def test_medicine_taken_as_the_doctor_said_is_no_suicide(text: str) -> None:
    assert "suicide" not in flags(text)


@pytest.mark.parametrize("text", [
    "Jag pluggar till polis och har en uppgift om människohandel med minderåriga, finns det rapporter?",
    "I have an assignment on the exploitation of minors online, could you suggest a reading list?",
    "Am o temă despre traficul de minori, aveți bibliografie?",
    "Мне нужен реферат о торговле людьми, есть ли материалы?",
    "Preparo un trabajo sobre la explotación de menores, ¿tienen bibliografía?",
])
def test_coursework_on_a_subject_raises_no_flag(assessor: Assessor, text: str) -> None:
    result = assessor.assess(text)
    assert not result.flags and risk_for(result.flags) == "routine"


@pytest.mark.parametrize("text", [
    "Mina barn läser om människohandel i skolan, hur man pratar med tonåringar om sånt?",
    "My daughter is learning about trafficking at school, how to talk to teenagers about pimps?",
])
def test_a_parent_asking_about_a_school_unit_raises_no_flag(assessor: Assessor, text: str) -> None:
    result = assessor.assess(text)
    assert risk_for(result.flags) == "routine"


@pytest.mark.parametrize("text", [
    "How do traffickers usually recruit girls from abroad? It's for a documentary",
    "Hur brukar människohandlare ta kontroll över pass och pengar?",
])
def test_how_things_usually_go_is_said_of_no_one(assessor: Assessor, text: str) -> None:
    result = assessor.assess(text)
    assert "trafficking" not in result.flags and result.group != "sells"


@pytest.mark.parametrize("text", [
    "زوجي السابق كان يضربني لكنه الآن في بلد آخر وأنا بأمان",
    "طليقي كان يهددني لكنه الآن في السجن",
])
def test_violence_that_is_over_in_arabic_is_no_danger(text: str) -> None:
    assert "immediate_danger" not in flags(text)


@pytest.mark.parametrize("text", [
    "می‌خواهم امشب خودم را بکشم",
    "ฉันอยากฆ่าตัวตาย ไม่ไหวแล้ว",
])
def test_suicide_in_persian_and_thai_with_words_between(text: str) -> None:
    assert "suicide" in flags(text)


def test_a_thai_study_question_about_suicide_raises_no_flag() -> None:
    assert not flags("ขอข้อมูลเรื่องการฆ่าตัวตายสำหรับงานวิจัย")


def test_a_thai_overdose_of_a_whole_bottle_is_suicide_and_danger() -> None:
    assert {"suicide", "immediate_danger"} <= flags("เมื่อกี้กินยานอนหลับไปทั้งขวด")


def test_a_threat_now_in_persian_is_danger() -> None:
    assert "immediate_danger" in flags("مردی الان پشت در است و می‌گوید مرا می‌کشد")


@pytest.mark.parametrize("text", [
    "Escribo una novela sobre una chica de 15 años explotada en Madrid, ¿cómo sería realista?",
    "Scriu o carte despre o fată de 15 ani exploatată de un interlop",
])
def test_an_age_near_a_subject_word_in_a_topic_is_no_minor(assessor: Assessor, text: str) -> None:
    assert "minor" not in flags(text)
    assert risk_for(assessor.assess(text).flags) != "acute"


def test_not_living_like_this_in_romanian_is_another_life(assessor: Assessor) -> None:
    text = "Aș vrea să nu mai trăiesc așa, caut un serviciu normal"
    assert "suicide" not in flags(text) and "suicide" not in assessor.assess(text).flags


def test_wanting_not_to_live_in_romanian_is_still_suicide() -> None:
    assert "suicide" in flags("Vreau să nu mai trăiesc, nu mai pot")
    assert "suicide" in flags("nu mai vreau să trăiesc așa, mă tai din nou")


@pytest.mark.parametrize("text", [
    "He says they'll hurt my family in Nigeria if I stop",
    "Om jag försöker dra ska de skada min familj",
    "Dacă plec, o să facă rău familiei mele",
    "Ако се оплача, ще наранят семейството ми",
    "Si hablo con la policía harán daño a mi familia",
    "Jak pójdę na policję, skrzywdzą moją rodzinę",
    "Сказали, что навредят моей семье",
])
def test_threats_against_the_family_at_home_are_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "I'm scared that if this comes out it will ruin things and hurt my family",
    "Jag är rädd att det ska skada min familj om det kommer ut att jag köpt sex",
    "Mi-e frică să nu fac rău familiei mele dacă se află",
])
def test_a_buyer_afraid_of_hurting_his_family_is_no_trafficking(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "I only get to keep a fifth, the rest goes to him",
    "Jag får bara behålla 300 kr per kund, resten tar de",
    "Restul îl ia el, mie îmi lasă doar pentru mâncare",
    "Остальное забирает он, мне оставляют только на еду",
])
def test_a_third_party_taking_the_rest_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


def test_things_given_away_and_goodbyes_are_two_weak_signs() -> None:
    assert "suicide" in flags("I've given away my stuff and said my goodbyes")
    assert "suicide" not in flags("I said goodbye to my friend at the station")


@pytest.mark.parametrize("text", [
    "My ex used to hit me but he moved to Canada three years ago and I'm fine now",
    "Han brukade slå mig men flyttade till Norge för två år sen, jag mår bra nu",
])
def test_violence_that_used_to_happen_and_is_over_is_no_danger(text: str) -> None:
    assert "immediate_danger" not in flags(text)


@pytest.mark.parametrize("text", [
    "He used to beat me and now he is outside my door again",
    "Han brukade slå mig och nu står han utanför dörren igen",
])
def test_violence_that_used_to_happen_and_is_back_now_is_danger(text: str) -> None:
    assert "immediate_danger" in flags(text)


@pytest.mark.parametrize("text", [
    "My sister's boss keeps her passport in his safe at her request, she lost the last one",
    "Chefen förvarar mitt pass i kassaskåpet på min begäran eftersom jag tappar bort saker",
])
def test_papers_kept_at_the_owners_request_are_no_trafficking(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "We watched a documentary about trafficking in school, can I volunteer with you?",
    "Vi såg en film om människohandel på lektionen idag, kan man bli volontär?",
])
def test_a_film_about_the_subject_raises_no_flag(assessor: Assessor, text: str) -> None:
    assert not assessor.assess(text).flags
