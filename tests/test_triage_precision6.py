"""Rule behaviours added after reading the seventh blind set's misses (issue 12), each in several
languages: not wanting to live (Arabic dialects) or seeing no point in living said with a negation; a
means at hand with one weak sign ("nothing left of me"); a knife or a gun now; someone kept in a flat by
the people who brought her; the model's say on danger or suicide with backing words from 0.3. On the
other side: a pet that swallowed poison or pills, a boss who took a phone number, a last shift
("sista passet"), a medical check-up ("un control"), a parent of minor children, a paper on how to
identify victims, reporting an ad one saw, dying of laughter (the model's say is then only possible).
Needs: help with the ticket home, housing or a job is `economy`. Groups: cue phrases for buyers,
relatives, professionals and `other` in more languages. The phrase book refuses alternatives that
could never match."""
from __future__ import annotations

from pathlib import Path

import pytest

from lotsa_testing.phrase_rules import BOOK, flags, found, shipped_assessor
from triage.assess import FLAG_THRESHOLDS, RAISED_ALONE, Assessor
from triage.phrasebook import PhraseBookError, load_phrasebook
from triage.redflags import Flags
from triage.vocabulary import risk_for


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return shipped_assessor()


@pytest.mark.parametrize("text", [
    "ما ابي اعيش خلاص، كل ليلة نفس القصة",
    "مش عايزة اعيش بعد اللي حصل",
    "i dont see any point in living like this, ive tried everything",
    "honestly can't see the point in living anymore",
    "не бачу сенсу жити далі",
    "nu văd rostul să mai trăiesc după toate astea",
])
def test_not_wanting_to_live_and_no_point_in_living_are_suicide(assessor: Assessor, text: str) -> None:
    assert "suicide" in flags(text)
    assert risk_for(assessor.assess(text).flags) == "acute"


@pytest.mark.parametrize("text", [
    "har köpt ett rep. det finns inget kvar av mig",
    "got a noose ready, there is nothing left of me",
    "tengo la soga aquí, no queda nada de mí",
    "у меня верёвка, от меня ничего не осталось",
])
def test_a_means_with_one_weak_sign_is_suicide(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "det finns inget kvar av mig efter den här veckan, behöver prata",
    "jag köpte ett rep till båten idag",
    "nothing left of me after the night shift lol, what are your hours",
])
def test_one_weak_sign_or_a_rope_alone_is_no_suicide(text: str) -> None:
    assert "suicide" not in flags(text)


@pytest.mark.parametrize("text", [
    "допоможіть він зараз стоїть у дверях з ножем",
    "помогите, он сейчас с ножом на кухне",
    "pomocy, on teraz jest z nożem w przedpokoju",
    "help he has a pistol right now and is drunk",
    "ayuda, ahora está aquí con una pistola",
])
def test_a_knife_or_a_gun_now_is_danger(assessor: Assessor, text: str) -> None:
    assert "immediate_danger" in flags(text)
    assert risk_for(assessor.assess(text).flags) == "acute"


@pytest.mark.parametrize("text", [
    "the people who brought her from Ghana keep her in a flat and she can't go out",
    "my friend is being kept in an apartment in Uppsala",
    "держат её в квартире, телефон отобрали",
    "trzymają ją w mieszkaniu i nie wypuszczają",
    "la tienen en un piso en Malmö y no la dejan salir",
])
def test_kept_in_a_flat_or_by_those_who_brought_her_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "our dog ate rat poison in the garden, which vet is open now?",
    "hunden har ätit råttgift, vart ringer jag?",
    "mi perro se comió veneno para ratas esta mañana",
    "кошка проглотила крысиный яд",
    "pisica a mâncat otravă pentru șoareci",
])
def test_a_pet_that_swallowed_poison_is_no_overdose(text: str) -> None:
    assert not {"suicide", "immediate_danger"} & flags(text)


@pytest.mark.parametrize("text", [
    "i ate rat poison an hour ago",
    "my dog is with me. i ate rat poison an hour ago",
])
def test_poison_the_writer_swallowed_is_still_an_overdose(text: str) -> None:
    assert {"suicide", "immediate_danger"} <= flags(text)


@pytest.mark.parametrize("text", [
    "my boss took my phone number from the rota and keeps calling",
    "jefe tomó mi número de teléfono de la lista",
])
def test_a_phone_number_taken_is_no_control(text: str) -> None:
    assert "trafficking" not in flags(text)


def test_a_phone_taken_is_still_control() -> None:
    assert "trafficking" in flags("my boss took my phone and my passport")


@pytest.mark.parametrize("text", [
    "Har jobbat mitt sista pass på klubben, nu börjar jag plugga",
    "tog mitt sista pass igår, äntligen klar",
])
def test_a_last_shift_is_no_passport(text: str) -> None:
    assert "trafficking" not in flags(text)


def test_a_passport_taken_in_swedish_still_flags() -> None:
    assert "trafficking" in flags("han har tagit mitt pass och säger att jag är skyldig")


@pytest.mark.parametrize("text", [
    "Am nevoie de un control medical, lucrez singură, nimeni nu mă obligă",
    "quiero hacer un control de rutina, ¿dónde hay una clínica?",
    "I need birth control, I work on my own",
])
def test_a_medical_check_up_is_no_control(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "Jag har minderåriga barn hemma och säljer sex ibland, kan soc ta dem?",
    "I have two underage children and sell sex sometimes, could I lose them?",
    "Am trei copii minori și uneori vând sex, pot să-i pierd?",
])
def test_a_parent_of_minor_children_is_no_minor(text: str) -> None:
    assert "minor" not in flags(text)


@pytest.mark.parametrize("text", [
    "I'm writing a paper on how to identify trafficking victims at border controls",
    "piszę pracę o tym, jak rozpoznać handel ludźmi",
    "Hur anmäler man en annons? Såg en annons som jag tror är människohandel",
    "vi un anuncio que parecía trata, ¿cómo se denuncia?",
])
def test_a_paper_or_an_ad_seen_is_a_topic(text: str) -> None:
    result = found(text)
    assert result.topic and "trafficking" not in result.flags


@pytest.mark.parametrize("text", [
    "чуть не умер со смеху, ваш бот написал мне стихи",
    "me muero de risa con vuestro chat, perdón",
    "je suis morte de rire, mauvais numéro",
])
def test_dying_of_laughter_leaves_the_model_no_say_on_danger_or_suicide(assessor: Assessor, text: str) -> None:
    assert {"suicide", "immediate_danger"} <= found(text).denied
    assert not {"suicide", "immediate_danger"} & set(assessor.assess(text).flags)


def test_backed_model_say_raises_suicide_below_the_score_it_needs_alone(assessor: Assessor) -> None:
    score = (FLAG_THRESHOLDS["suicide"] + RAISED_ALONE["suicide"]) / 2
    assert FLAG_THRESHOLDS["suicide"] < RAISED_ALONE["suicide"]
    backed = Flags()
    backed.back("suicide", (0, 4))
    assert assessor._model_flags(backed, {"flag:suicide": score}, True) == set()
    assert "suicide" in backed.flags
    alone = Flags()
    assert assessor._model_flags(alone, {"flag:suicide": score}, True) == {"suicide"}
    assert "suicide" not in alone.flags


@pytest.mark.parametrize(("text", "need"), [
    ("vill åka hem till Bulgarien, kan ni hjälpa med resan?", "economy"),
    ("I want to go back to Estonia, can you help with a ticket?", "economy"),
    ("vreau acasă, mă puteți ajuta cu biletul?", "economy"),
    ("quiero volver a Perú, ¿me ayudan con el pasaje?", "economy"),
    ("хочу домой, можете помочь с билетом?", "economy"),
    ("potrzebuję pomocy z mieszkaniem, skończyłam z tym", "economy"),
])
def test_help_with_the_ticket_home_or_housing_is_economy(assessor: Assessor, text: str, need: str) -> None:
    assert need in assessor.assess(text).needs


@pytest.mark.parametrize(("text", "group"), [
    ("J'ai acheté du sexe la semaine dernière et je le regrette", "buys"),
    ("Купувах секс и искам да спра", "buys"),
    ("asking for my uncle, he keeps visiting massage places", "relative"),
    ("HR manager: an employee asked us for help about selling sex", "professional"),
    ("Я врач, пациентка рассказала, что продаёт секс", "professional"),
    ("Hi, I'm a masters student, could I interview a staff member for my thesis?", "other"),
    ("sorry wrong number", "other"),
    ("Ich kaufe Sex seit Jahren und will aufhören", "buys"),
    ("been booking girls off escortsidor every weekend, need to stop", "buys"),
    ("Soy estudiante de trabajo social, ¿tienen estadísticas?", "other"),
    ("where is the embassy, I need a new passport", "other"),
])
def test_group_cues(assessor: Assessor, text: str, group: str) -> None:
    assert assessor.assess(text).group == group


def _book_with(tmp_path: Path, phrase: str) -> Path:
    folder = tmp_path / "phrases"
    folder.mkdir()
    for source in BOOK.folder.glob("*.yaml"):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    idioms = folder / "idioms.yaml"
    idioms.write_text(idioms.read_text(encoding="utf-8") + f"- {phrase!r}\n".replace("'", '"'), encoding="utf-8")
    return folder


@pytest.mark.parametrize("phrase", [
    "took all the pills | swallowed the pills",
    "took all the pills |swallowed",
    "gave|'ve|has taken my passport",
    "took||taken my passport",
])
def test_an_alternative_that_can_never_match_is_refused(tmp_path: Path, phrase: str) -> None:
    with pytest.raises(PhraseBookError, match="alternative"):
        load_phrasebook(_book_with(tmp_path, phrase))


def test_an_alternative_of_whole_words_loads(tmp_path: Path) -> None:
    book = load_phrasebook(_book_with(tmp_path, "laughed|giggled myself to death"))
    assert "laughed|giggled myself to death" in book.idioms


@pytest.mark.parametrize(("text", "flag"), [
    ("honestly there is no way out for me", "suicide"),
    ("je n'en peux plus de cette vie", "suicide"),
    ("не можу більше так", "suicide"),
    ("nincs kiút, nem bírom tovább", "suicide"),
    ("he keeps threatening me on the phone", "immediate_danger"),
    ("j'ai peur de lui depuis des semaines", "immediate_danger"),
    ("погрожує мені", "immediate_danger"),
])
def test_words_that_back_the_model_on_danger_and_suicide(text: str, flag: str) -> None:
    result = found(text)
    assert result.support.get(flag) and flag not in result.flags  # backing only: the model must agree


@pytest.mark.parametrize("text", [
    "il menace de me tuer, il est en bas maintenant",
    "mi ex quiere matarme, está en la puerta ahora",
    "lui vuole uccidermi, è qui adesso",
])
def test_someone_else_who_will_kill_me_is_danger_not_suicide(text: str) -> None:
    assert flags(text) == {"immediate_danger"}


@pytest.mark.parametrize("text", [
    "j'ai envie de me tuer",
    "quiero matarme, no aguanto",
    "voglio ammazzarmi stanotte",
])
def test_wanting_to_kill_oneself_is_still_suicide(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "ลูกสาวเพื่อนอายุ 14 ต้องทำงานกับลูกค้าที่ร้าน",
    "น้องสาวอายุ 16 ถูกบังคับให้รับลูกค้า",
])
def test_a_thai_minor_with_clients_is_minor_and_trafficking(text: str) -> None:
    assert {"minor", "trafficking"} <= flags(text)


def test_an_adult_thai_message_about_clients_is_no_flag() -> None:
    assert not flags("ร้านเรามีลูกค้าผู้ชายเยอะ ฉันอายุ 34 อยากตรวจสุขภาพ")


@pytest.mark.parametrize("text", [
    "han låste dörren och tog mina telefoner",
    "he locked us in and took our phones last night",
    "zamknął drzwi i zabrał mi telefon",
])
def test_locked_in_and_phone_taken_is_control(text: str) -> None:
    assert "trafficking" in flags(text)
