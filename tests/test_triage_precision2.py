"""Rule behaviours added after reading the third blind set's misses (issue 12): suicide wished without
the word, overdoses told by the amount and the medicine's name, and danger told as happening right now
to someone else. Each in several languages, with the everyday wording next to it that must stay quiet."""
from __future__ import annotations

import pytest

from lotsa_testing.phrase_rules import flags, shipped_assessor
from triage.assess import Assessor


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return shipped_assessor()


@pytest.mark.parametrize("text", [
    "Jag ser ingen mening alls med att leva, allt är grått",
    "Vill inte vakna mer på morgnarna",
    "Honestly I see no point in living, every day is the same",
    "I just don't want to ever wake up again",
    "Нет никакого смысла жить, я устала",
    "Не хочу взагалі прокидатися зранку",
    "Nu mai vreau să mă trezesc dimineața",
    "Не искам вече да се събуждам",
    "Nie chcę się już obudzić",
    "Ya no quiero despertar nunca más",
    "تعبت من الحياة وما عندي أحد",
])
def test_a_wish_not_to_live_without_the_word_is_suicide(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "Vill inte vakna tidigt imorgon, är ledig",
    "I don't want to wake up the neighbours when I come home late",
    "Не хочу рано просыпаться в субботу",
    "No quiero despertar a mi hija, duerme",
])
def test_waking_someone_or_early_is_no_suicide(text: str) -> None:
    assert "suicide" not in flags(text)


@pytest.mark.parametrize("text", [
    "svalde nästan hela burken med panodil för en stund sen",
    "Jag har tagit massor av ipren och mår konstigt",
    "swallowed a whole bottle of tylenol twenty minutes ago",
    "I took a handful of my sleeping meds and feel dizzy",
    "Я выпила целую пачку снотворного",
    "Проковтнула всю упаковку ліків",
    "Am înghițit toată folia de somnifere",
    "Połknęłam całe opakowanie leków",
    "Me tomé todo el frasco de ibuprofeno",
    "بلعت كل الحبوب اللي عندي",
])
def test_an_overdose_told_by_amount_and_medicine_is_danger_and_suicide(text: str) -> None:
    assert {"suicide", "immediate_danger"} <= flags(text)


@pytest.mark.parametrize("text", [
    "Tog en alvedon mot huvudvärken igår",
    "I took my meds this morning like the doctor said",
    "Выпила таблетку от головы",
    "Me tomé un ibuprofeno para el dolor",
])
def test_one_dose_of_a_medicine_raises_nothing(text: str) -> None:
    assert not flags(text) & {"suicide", "immediate_danger"}


@pytest.mark.parametrize("text", [
    "min kompis blir slagen just nu i rummet bredvid",
    "my friend texted that she is being beaten right now",
    "Подругу сейчас бьют, я слышу через стену",
    "Мою сестру зараз б'ють, що робити",
    "El la está pegando ahora mismo",
])
def test_violence_happening_now_to_someone_else_is_danger(text: str) -> None:
    assert "immediate_danger" in flags(text)


@pytest.mark.parametrize("text", [
    "Hon blev slagen förra året men bor i skyddat boende nu",
    "She was beaten years ago and is safe now",
])
def test_violence_told_as_past_is_no_danger(text: str) -> None:
    assert "immediate_danger" not in flags(text)


@pytest.mark.parametrize("text", [
    "Jag vill sluta leva såhär och hitta ett vanligt jobb",
    "vill sluta leva dubbelliv, min sambo vet inget",
    "I want to stop living a double life and tell my partner",
])
def test_stopping_a_way_of_life_is_no_suicide(text: str) -> None:
    assert "suicide" not in flags(text)


@pytest.mark.parametrize("text", [
    "Min mamma vet inte att jag är 15 och att jag träffar honom",
    "My dad doesn't know that I'm 16",
    "Родители не знают, что мне 15",
    "Mama nu știe că am 16 ani",
])
def test_a_negation_before_a_that_clause_does_not_deny_the_age(text: str) -> None:
    assert "minor" in flags(text)


@pytest.mark.parametrize("text", ["Jag är inte 16, jag är 26", "I'm not 15, I'm 25"])
def test_a_denied_age_is_still_no_minor(text: str) -> None:
    assert "minor" not in flags(text)


@pytest.mark.parametrize("text", [
    "بنت خالتي عمرها ١٥ وتطلع مع رجال كبار",
    "عمري 17 وما أعرف أحد هنا",
    "Ей 16, она живёт у какого-то мужчины",
    "Йому 15 і він не ходить до школи",
])
def test_an_age_after_arabic_and_slavic_age_words_is_a_minor(text: str) -> None:
    assert "minor" in flags(text)


@pytest.mark.parametrize("text", [
    "Förra året tvingade min kille mig att sälja, men han har stuck och jag har kontaktförbud mot honom",
    "Колишній змушував мене працювати, але поїхав за кордон, є заборона на контакт",
    "Мой бывший заставлял меня, но он уехал обратно и есть запрет на контакт",
])
def test_control_by_others_that_is_over_raises_nothing_in_more_languages(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "Моя подруга працює сама, паспорт у неї і гроші собі",
    "Var kan jag förnya passet innan resan?",
    "Jag har en skuld till min kompis för en bil",
    "عندي ديون القمار وأحتاج مساعدة",
])
def test_reassurance_renewal_and_own_debts_raise_no_trafficking(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "Vi vill utbilda personalen i att upptäcka människohandel, hur gör man?",
    "I teach year 9 and I'm writing a unit on trafficking, any lesson plans?",
    "Jag ska ha ett temaområde om sexuell exploatering för 15-åringar",
])
def test_a_subject_for_teaching_or_training_is_no_indicator(text: str) -> None:
    assert not flags(text) & {"trafficking", "minor"}


@pytest.mark.parametrize("text", [
    "Har ni material som passar 14-åringar till en kurs om grooming?",
    "Any lesson plans on exploitation that work for 15-year-olds?",
])
def test_an_age_group_in_a_topic_message_is_no_minor(text: str) -> None:
    assert "minor" not in flags(text)


@pytest.mark.parametrize("text", ["Jag träffar 14-åringar på nätet och betalar dem", "min syster är en 15-åring"])
def test_age_groups_outside_a_topic_still_flag(text: str) -> None:
    assert "minor" in flags(text)


@pytest.mark.parametrize("text, group", [
    ("Get 5000 real followers for your page today, cheap!", "other"),
    ("Jag har hand om receptionen på ett konferenshotell, vad ska personalen titta efter?", "professional"),
    ("He comprado sexo durante años y ya no quiero", "buys"),
    ("Мій чоловік ходить до повій, я не знаю, що робити", "relative"),
])
def test_group_cues_for_spam_staff_buyers_and_relatives(assessor: Assessor, text: str, group: str) -> None:
    assert assessor.assess_many([text])[0].group == group


@pytest.mark.parametrize("text", [
    "Han slår mig om jag inte drar in tillräckligt till honom",
    "He says he'll hurt me if I don't bring in 3000 by morning",
    "Той ме бие, ако не изкарам достатъчно",
    "Он злится, если я не выйду к клиенту",
    "Mă pune să merg cu clienți în fiecare seară",
    "الرجل اللي يشغلني ما يعطيني شي",
    "เจ้านายไม่ให้ออกไปไหนเลย",
])
def test_a_quota_or_clients_imposed_by_someone_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "Jag drar in bra med pengar på mitt vanliga jobb",
    "I bring in most of the money in our household",
    "Om jag inte drar in mer i månaden kan jag inte betala hyran",
])
def test_earning_ones_own_money_is_no_trafficking(text: str) -> None:
    assert "trafficking" not in flags(text)
