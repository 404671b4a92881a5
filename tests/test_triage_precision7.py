"""Rule behaviours added after reading the eighth blind set's misses (issue 12), each in several
languages. Danger and suicide first: wanting to die in Somali; a partner or relative who says he will
kill himself (ar, es, pl, ru, so); "he'd rather die" only with a means at hand (a rifle, a shotgun); a
whole supply of insulin or of pills already taken (sv, en, bg, ro); a man at the door who will break it
if the writer does not open it; hit today; locked out on the balcony. On the other side: "I'd rather die
than …" as a figure of speech, a shop one does not open, being locked out of one's own flat."""
from __future__ import annotations

import pytest

from lotsa_testing.phrase_rules import flags, shipped_assessor
from triage.assess import Assessor
from triage.vocabulary import risk_for


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return shipped_assessor()


@pytest.mark.parametrize("text", [
    "Ma rabo inaan sii noolaado. Waxaan doonayaa inaan dhinto",
    "صاحبي يقول راح يقتل نفسه اذا تركته",
    "mi pareja me escribió que se va a matar, no contesta",
    "tata napisał, że odbierze sobie życie, nie wiem gdzie jest",
    "сын написал, что наложит на себя руки, телефон выключен",
    "Mwanaa ma aha: walaalkay wuxuu leeyahay waan is dilayaa",
])
def test_wanting_to_die_or_someone_close_who_will_kill_himself_is_suicide(assessor: Assessor, text: str) -> None:
    assert "suicide" in flags(text)
    assert risk_for(assessor.assess(text).flags) == "acute"


@pytest.mark.parametrize("text", [
    "він каже, що краще помре, і взяв рушницю з гаража",
    "mój ojciec woli umrzeć, zabrał strzelbę i wyszedł",
    "dice que prefiere morir y se llevó la escopeta",
])
def test_rather_die_with_a_gun_at_hand_is_suicide(text: str) -> None:
    assert "suicide" in flags(text)


@pytest.mark.parametrize("text", [
    "лучше умру, чем снова пойду к этому стоматологу",
    "prefiero morir de hambre que comer en ese sitio jaja",
    "wole umrzec niz jechac tam autobusem",
])
def test_rather_die_as_a_figure_of_speech_is_no_suicide(text: str) -> None:
    assert "suicide" not in flags(text)


@pytest.mark.parametrize("text", [
    "har tagit alla insulinsprutorna på en gång, förlåt mamma",
    "i injected all my insulin pens, i just want to sleep",
    "Тя изпила всичките хапчета и не отговаря",
    "prietena mea a luat toate pastilele din cutie",
])
def test_a_whole_supply_taken_is_an_overdose(assessor: Assessor, text: str) -> None:
    assert {"suicide", "immediate_danger"} <= flags(text)
    assert risk_for(assessor.assess(text).flags) == "acute"


@pytest.mark.parametrize("text", [
    "he's outside yelling that if i dont open the door he will kill me",
    "está fuera gritando, si no abro la puerta entra igual",
    "on krzyczy, że jak nie otworzę drzwi to będzie źle",
    "стучит и кричит, если не открою дверь, выломает",
    "hoy me pegó otra vez y sigue en el piso",
    "min kund slog mig idag och står kvar i trapphuset",
    "han har låst ute mig på balkongen i natt",
    "the man locked me out on the balcony with no clothes",
])
def test_a_threat_at_the_door_a_beating_today_or_locked_out_in_the_cold_is_danger(text: str) -> None:
    assert "immediate_danger" in flags(text)


@pytest.mark.parametrize("text", [
    "si no abro la tienda mañana pierdo el trabajo",
    "my friend asked if i dont open the shop tomorrow who will",
    "jag har låst ute mig själv från lägenheten, var kan jag sova inatt",
])
def test_a_shop_not_opened_or_oneself_locked_out_is_no_danger(text: str) -> None:
    assert "immediate_danger" not in flags(text)


@pytest.mark.parametrize("text", [
    "my cousin is with a man who controls her and takes her phone",
    "ma cousine vit chez un homme qui la contrôle, elle ne sort jamais",
    "mi hermana vive con un tipo que la controla y se queda con todo el dinero",
    "moja siostra mieszka u faceta, który ją kontroluje i trzyma wszystkie pieniądze",
    "он держит все деньги, а я должна выходить к клиентам каждый вечер",
    "verisoara mea e cu unul care o controlează și îi ține toți banii",
    "اللي جابوني لهنا قالوا لازم اخلص الدين",
    "مردی که منو آورده اینجا پول‌هامو می‌گیره",
    "Họ giữ hộ chiếu của chị, bắt em tiếp khách mỗi tối",
    "gabadha waxaa lagu iibiyaa guri magaalada ku yaal",
    "killen jag bor hos tar betalt av männen som kommer på kvällarna",
])
def test_control_by_others_brought_here_or_sold_in_a_house_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize("text", [
    "im 15 and sold nudes to a guy i met on discord",
    "jag är 16 och han sa att jag kan bo gratis om jag ställer upp för hans kompisar",
    "پسر ۱۵ ساله‌ام از یه مرد پول می‌گیره برای عکس لخت",
])
def test_a_minor_paid_in_money_a_place_to_sleep_or_for_pictures_is_minor_and_trafficking(text: str) -> None:
    assert {"minor", "trafficking"} <= flags(text)


@pytest.mark.parametrize("text", [
    "i work alone and keep my money, nobody controls me",
    "my sister is 16 and our mother sold photos of the old house",
    "mi novio me controla el móvil, ¿es normal en una pareja?",
    "jag tar betalt av kunderna själv, ingen annan är inblandad",
    "دخترم ۱۵ سالشه و برای عکاسی مدرسه پول لازم داره",
])
def test_own_money_a_partner_checking_a_phone_or_photos_of_things_is_no_trafficking(text: str) -> None:
    assert "trafficking" not in flags(text)


def _needs(assessor: Assessor, text: str) -> set[str]:
    return set(assessor.assess(text).needs)


@pytest.mark.parametrize("text", [
    "vill tillbaka till mitt land men vet inte hur",
    "بغيت نرجع لبلادي، ما عندي حتى درهم",
    "می‌خوام برگردم به کشورم، کمکم کنید",
    "Waxaan rabaa inaan dalkayga ku noqdo",
    "segítség kell a hazautazáshoz",
    "ich will einfach nur zurück nach Rumänien",
    "чоловік, який привіз мене з Молдови, не віддає гроші",
])
def test_going_back_home_or_brought_from_abroad_is_return(assessor: Assessor, text: str) -> None:
    assert "return" in _needs(assessor, text)


@pytest.mark.parametrize("text", [
    "Ist das in Schweden strafbar, wenn ich dafür bezahlt habe?",
    "Elle veut connaître ses droits avant d'aller au tribunal",
    "kan jag överklaga beslutet om min ersättning?",
    "will this end up on my record if i testify?",
    "мене оштрафують, якщо я розповім?",
])
def test_rights_a_court_an_appeal_a_fine_or_a_record_is_legal(assessor: Assessor, text: str) -> None:
    assert "legal" in _needs(assessor, text)


@pytest.mark.parametrize("text", [
    "vad har ni för öppettider i helgen?",
    "hi, just checking this number works",
])
def test_a_plain_question_or_a_test_needs_no_return_or_legal(assessor: Assessor, text: str) -> None:
    assert not {"return", "legal"} & _needs(assessor, text)


@pytest.mark.parametrize("text", [
    "je travaille seule, sans proxénète, je voudrais savoir pour les impôts",
    "I'm a social worker: no sign anyone is forced, she lives alone and seems fine",
    "lucrez singură, fără nimeni deasupra mea, și vreau să știu de chirie",
    "we're planning a bake sale against trafficking at our church",
    "organizamos una carrera contra la trata, ¿podemos usar vuestro nombre?",
    "wir sammeln Spenden gegen Menschenhandel, wie kann man euch unterstützen?",
])
def test_no_pimp_no_sign_of_force_or_a_campaign_against_trafficking_is_no_trafficking(text: str) -> None:
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "My mother has been selling sex since I was small. I'm 14 and I hate it",
    "jag är 15 och min mamma har sålt sex i flera år, vill bara prata",
])
def test_a_minor_whose_parent_sells_is_minor_without_trafficking(text: str) -> None:
    assert flags(text) >= {"minor"}
    assert "trafficking" not in flags(text)


@pytest.mark.parametrize("text", [
    "sans proxénète? non, il garde mon passeport et prend tout",
    "I bought sex last weekend and she told me afterwards she was 15",
])
def test_trafficking_told_plainly_or_a_minor_paid_by_the_writer_still_flags(text: str) -> None:
    assert "trafficking" in flags(text)


@pytest.mark.parametrize(("text", "group"), [
    ("j'ai été arrêté pour achat de sexe la semaine dernière, que faire", "buys"),
    ("Minha irmã mora com um homem que pegou o passaporte dela", "relative"),
    ("Waxaan ahay turjumaan, ma haysaan warqado af-Soomaali ah?", "professional"),
    ("jestem pracownikiem socjalnym i szukam materiałów po polsku", "professional"),
    ("quick question for my debate class: is buying sex illegal in sweden?", "other"),
    ("ich schreibe meine Masterarbeit über Prostitutionsgesetze", "other"),
    ("hej, är det här lotteriet? jag fick ett sms", "other"),
])
def test_group_cues_for_buyers_relatives_staff_students_and_wrong_numbers(
        assessor: Assessor, text: str, group: str) -> None:
    assert assessor.assess(text).group == group


@pytest.mark.parametrize("text", [
    "o namorado pegou o passaporte dela e não deixa ela sair",
    "eles tiraram os documentos dela quando chegou",
])
def test_her_passport_taken_in_portuguese_is_trafficking(text: str) -> None:
    assert "trafficking" in flags(text)


def test_getting_ones_own_passport_in_portuguese_is_no_trafficking() -> None:
    assert "trafficking" not in flags("ela vai tirar o passaporte dela no consulado amanhã")
