"""Voice: the TwiML of a whole call, signed by the twilio library, against the real server: what a
caller hears (the phone's own wording, each language in its own voice, nothing said twice), the keys
that work everywhere (`*`, `0`, `9`, none, a wrong one) and the hold loop in simulated time."""
from __future__ import annotations

import io
import re
import uuid
import wave
import xml.etree.ElementTree as ET
from array import array
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from lotsa import appkeys
from lotsa.models import Conversation
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.fake_providers import FakeTwilio
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server

PUBLIC = "https://lotsa.example.org"
OUR_NUMBER = "+46766860000"
CALLER = "+46709876543"
COUNSELLOR_PHONE = "+46701112233"
CONFIG = Path(__file__).resolve().parent.parent / "config"
VOICES = yaml.safe_load((CONFIG / "voice.yaml").read_text(encoding="utf-8"))["voices"]
MENU_DIGIT = {"sv": "1", "en": "2", "ro": "3", "bg": "4"}
DANGER = {
    "sv": "Om du kan, lägg på och ring 112. Om du inte kan, stanna kvar i linjen: vi kopplar dig till en "
          "samtalsstödjare nu.",
    "en": "If you can, hang up and call 112. If you cannot, stay on the line: we are connecting you to a counsellor now.",
    "ro": "Dacă poți, închide și sună la 112. Dacă nu poți, rămâi la telefon: te conectăm acum cu un consilier.",
    "bg": "Ако можете, затворете и се обадете на 112. Ако не можете, останете на линията: свързваме Ви с "
          "консултант сега.",
}
CHAT_WORDS = {
    "sv": r"skriv\w*|skrev\w*|chatt\w*|läs|läsa|läser|knapp\w*|klicka\w*",
    "en": r"writ\w*|wrote|typ(e|ing)|chat\w*|read|button\w*|click\w*|tap",
    "ro": r"scri\w*|chat\w*|citeș\w*|butonul|click",
    "bg": r"пиш\w*|напиш\w*|чат\w*|прочет\w*|бутон\w*",
}
"""Words that belong on a screen: a caller must never hear them."""


@dataclass
class Call:
    server: RunningServer
    fake: FakeTwilio
    session: aiohttp.ClientSession
    sid: str = ""
    caller: str = CALLER
    heard: list[ET.Element] = field(default_factory=list)
    """Every TwiML answer of the call, in order."""

    async def post(self, path: str, signed: bool = True, **extra: str) -> tuple[int, ET.Element | None]:
        params = {"CallSid": self.sid, "AccountSid": self.fake.account_sid, "From": self.caller, "To": OUR_NUMBER,
                  "CallStatus": "in-progress", **extra}
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = RequestValidator(self.fake.auth_token).compute_signature(
                PUBLIC + path, params)
        async with self.session.post(self.server.url + path, data=params, headers=headers) as r:
            body = await r.text()
            return r.status, ET.fromstring(body) if r.status == 200 else None

    async def twiml(self, path: str, **extra: str) -> ET.Element:
        status, root = await self.post(path, **extra)
        assert status == 200 and root is not None
        self.heard.append(root)
        return root

    async def press(self, digit: str, step: int) -> ET.Element:
        return await self.twiml(f"/hooks/twilio/voice/gather?step={step}", Digits=digit)

    async def conversation(self) -> Conversation:
        async with self.server.app[appkeys.DB].read() as session:
            return (await session.execute(select(Conversation).order_by(Conversation.id))).scalars().all()[-1]

    def another(self, caller: str) -> Call:
        return Call(self.server, self.fake, self.session, "CA" + uuid.uuid4().hex, caller)


def said(root: ET.Element) -> str:
    return " ".join(el.text or "" for el in root.iter("Say"))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def check_heard(root: ET.Element) -> None:
    """One answer as the caller hears it: phone wording (in the language of each <Say>), a
    configured voice per <Say>, and no sentence said twice."""
    locales = {v["language"]: (lang, v["voice"]) for lang, v in VOICES.items()}
    seen: list[str] = []
    for say in root.iter("Say"):
        assert say.get("language") in locales, f"a <Say> in {say.get('language')} has no configured voice"
        lang, voice = locales[say.get("language", "")]
        assert say.get("voice") == voice, say.attrib
        text = say.text or ""
        words = re.findall(rf"\b({CHAT_WORDS[lang]})\b", text, flags=re.IGNORECASE)
        assert not words, f"chat wording {words} said in {lang}: {text!r}"
        for sentence in sentences(text):
            assert sentence not in seen, f"said twice in one answer: {sentence!r}"
            seen.append(sentence)


@pytest.fixture
async def call(tmp_path: Path, any_database_url: str) -> AsyncIterator[Call]:
    fake = FakeTwilio()
    await fake.start()
    settings = make_settings(tmp_path, any_database_url, twilio_account_sid=fake.account_sid,
                             twilio_auth_token=fake.auth_token, twilio_from_number=OUR_NUMBER,
                             twilio_api_url=fake.url, public_url=PUBLIC)
    test_server, running = await start_server(settings)
    async with aiohttp.ClientSession() as session:
        yield Call(running, fake, session, "CA" + uuid.uuid4().hex)
    await test_server.close()
    await fake.stop()


async def test_unsigned_call_is_refused(call: Call) -> None:
    status, _ = await call.post("/hooks/twilio/voice", signed=False)
    assert status == 403


async def test_the_language_menu_says_each_option_in_its_own_language_and_voice(call: Call) -> None:
    root = await call.twiml("/hooks/twilio/voice")
    [gather] = root.findall("Gather")
    assert gather.get("numDigits") == "1" and gather.get("action") == "/hooks/twilio/voice/gather?step=1"
    heard = [(say.get("language"), say.text or "", say.get("voice")) for say in gather.iter("Say")]
    assert heard[0][0] == "sv-SE" and heard[0][1].endswith("För svenska, tryck 1.")
    assert heard[1:4] == [("en-GB", "For English, press 2.", VOICES["en"]["voice"]),
                          ("ro-RO", "Pentru română, apăsați 3.", VOICES["ro"]["voice"]),
                          ("bg-BG", "За български, натиснете 4.", VOICES["bg"]["voice"])]
    assert heard[4][0] == "sv-SE" and heard[4][1].startswith("Tryck 0")
    assert "skriva" not in said(root) and "tryck 9" in said(root) and "Tryck 0" in said(root)
    assert root.find("Record") is None
    check_heard(root)
    conversation = await call.conversation()
    assert conversation.channel == "voice" and conversation.state == "triage"


async def test_full_call_keypad_triage_hold_and_connect_to_the_counsellor(call: Call) -> None:
    await call.server.add_staff("anna", phone=COUNSELLOR_PHONE)
    await call.twiml("/hooks/twilio/voice")
    who = await call.press("2", 1)
    assert "I sell or have sold sex: press 1." in said(who)
    queued = await call.press("1", 2)
    assert "own words" not in said(queued) and "Skip" not in said(queued), "no free-text question on the phone"
    assert queued.find("Redirect").text == "/hooks/twilio/voice/wait"
    conversation = await call.conversation()
    assert conversation.state == "queued" and conversation.group == "sells" and conversation.language == "en"

    waiting = await call.twiml("/hooks/twilio/voice/wait")
    assert "You are number 1 in the queue" in said(waiting) and "112" in said(waiting)
    gather = waiting.find("Gather")
    assert gather.get("action") == "/hooks/twilio/voice/hold"
    assert gather.find("Play").text == PUBLIC + "/hooks/twilio/voice/hold.wav"

    console = ConsoleClient(call.server.url)
    try:
        await console.login("anna", PASSWORD)
        [item] = (await console.queue())["waiting"]
        assert item["channel"] == "voice" and "9876543" not in str(item)
        assert await console.claim(item["id"]) == 200
        assert "9876543" not in str(await console.conversation(item["id"]))
    finally:
        await console.close()
    connect = await call.twiml("/hooks/twilio/voice/wait")
    dial = connect.find("Dial")
    assert dial is not None and dial.find("Number").text == COUNSELLOR_PHONE
    assert dial.get("callerId") == OUR_NUMBER and dial.get("record") == "do-not-record"


async def test_the_hold_tone_is_served_by_lotsa_itself(call: Call) -> None:
    async with call.session.get(call.server.url + "/hooks/twilio/voice/hold.wav") as r:
        assert r.status == 200 and r.content_type == "audio/wav"
        body = await r.read()
    with wave.open(io.BytesIO(body)) as tone:
        assert tone.getnchannels() == 1 and tone.getframerate() == 8000 and tone.getnframes() > 8000


QUESTIONS = ("menu", "who")
POINTS = (*QUESTIONS, "hold", "callback")


async def reach(call: Call, point: str) -> str:
    """Go to a point of the call; the path a key pressed there is posted to."""
    await call.twiml("/hooks/twilio/voice")
    if point == "menu":
        return "/hooks/twilio/voice/gather?step=1"
    if point == "who":
        await call.press("1", 1)
        return "/hooks/twilio/voice/gather?step=2"
    await call.press("0", 1)
    await call.twiml("/hooks/twilio/voice/wait")
    if point == "hold":
        return "/hooks/twilio/voice/hold"
    await call.twiml("/hooks/twilio/voice/hold", Digits="1")
    return "/hooks/twilio/voice/callback"


@pytest.mark.parametrize("point", POINTS)
async def test_nine_at_any_point_says_the_danger_prompt_once_then_the_acute_queue(call: Call, point: str) -> None:
    path = await reach(call, point)
    root = await call.twiml(path, Digits="9")
    spoken = said(root)
    assert spoken.count("112") == 1 and DANGER["sv"] in spoken, spoken
    assert "allvarligt" not in spoken
    check_heard(root)
    assert root.find("Redirect").text == "/hooks/twilio/voice/wait"
    holding = await call.twiml("/hooks/twilio/voice/wait")
    assert "Du är nummer 1 i kön" in said(holding) and "112" not in said(holding), "the danger prompt is said once"
    conversation = await call.conversation()
    assert conversation.risk == "acute" and conversation.queue == "acute" and conversation.state == "queued"
    assert "immediate_danger" in conversation.triage["flags"]


@pytest.mark.parametrize("point", QUESTIONS)
async def test_star_on_a_question_says_it_again_and_changes_nothing(call: Call, point: str) -> None:
    path = await reach(call, point)
    before = (await call.conversation()).triage_state
    asked = said(call.heard[-1])
    again = await call.twiml(path, Digits="*")
    assert again.find("Gather").get("action") == path
    assert said(again) == asked.split(" Tack. ")[-1] or asked.endswith(said(again))
    assert (await call.conversation()).triage_state == before


async def test_star_on_hold_and_in_the_callback_offer_says_the_options_again(call: Call) -> None:
    path = await reach(call, "callback")
    offer = await call.twiml(path, Digits="*")
    assert offer.find("Gather").get("action") == "/hooks/twilio/voice/callback" and "18" in said(offer)
    back = await call.twiml("/hooks/twilio/voice/hold", Digits="*")
    assert back.find("Redirect").text == "/hooks/twilio/voice/wait"
    assert "Du är nummer 1 i kön" in said(await call.twiml(back.find("Redirect").text))


@pytest.mark.parametrize("key", ["", "7"], ids=["no input", "wrong key"])
@pytest.mark.parametrize("point", QUESTIONS)
async def test_no_input_or_a_wrong_key_asks_once_more_then_a_person(call: Call, point: str, key: str) -> None:
    path = await reach(call, point)
    step = int(path.rsplit("=", 1)[1])
    again = await call.press(key, step)
    assert "Jag uppfattade inget val" in said(again)
    assert again.find("Gather").get("action") == f"/hooks/twilio/voice/gather?step={step + 1}"
    check_heard(again)
    person = await call.press(key, step + 1)
    assert "Vi kopplar dig till en samtalsstödjare" in said(person)
    assert person.find("Redirect").text == "/hooks/twilio/voice/wait"
    assert (await call.conversation()).state == "queued"


@pytest.mark.parametrize("key", ["", "7", "0"], ids=["no input", "wrong key", "zero"])
@pytest.mark.parametrize("point", ["hold", "callback"])
async def test_on_hold_any_other_key_keeps_the_caller_in_line_for_a_person(call: Call, point: str, key: str) -> None:
    path = await reach(call, point)
    root = await call.twiml(path, Digits=key)
    assert root.find("Redirect").text == "/hooks/twilio/voice/wait"
    assert (await call.conversation()).state == "queued"


@pytest.mark.parametrize("point", QUESTIONS)
async def test_zero_on_any_question_reaches_a_person(call: Call, point: str) -> None:
    path = await reach(call, point)
    root = await call.twiml(path, Digits="0")
    assert root.find("Redirect").text == "/hooks/twilio/voice/wait"
    conversation = await call.conversation()
    assert conversation.state == "queued" and conversation.triage["handoff"] == "human"


async def test_callback_offer_keeps_the_caller_in_line_after_hanging_up(call: Call) -> None:
    path = await reach(call, "callback")
    booked = await call.twiml(path, Digits="2")
    assert booked.find("Hangup") is not None
    await call.twiml("/hooks/twilio/voice/status", CallStatus="completed")
    conversation = await call.conversation()
    assert conversation.state == "queued" and conversation.triage["callback"]["window"] == "evening"


async def test_a_caller_who_hangs_up_while_waiting_leaves_the_queue(call: Call) -> None:
    await reach(call, "hold")
    await call.twiml("/hooks/twilio/voice/status", CallStatus="completed")
    assert (await call.conversation()).state == "closed"


async def test_replayed_keypress_is_counted_once(call: Call) -> None:
    await call.twiml("/hooks/twilio/voice")
    await call.press("1", 1)
    await call.press("1", 1)
    assert (await call.conversation()).triage_state["step"] == "who"


@pytest.mark.parametrize("lang", list(MENU_DIGIT))
async def test_every_prompt_of_a_call_in_each_language_is_phone_wording_in_a_configured_voice(
        call: Call, lang: str) -> None:
    """Two calls per language (a group chosen and a callback booked; then every key that goes
    wrong, then danger while waiting): every answer is checked as the caller hears it."""
    await call.twiml("/hooks/twilio/voice")
    who = await call.press(MENU_DIGIT[lang], 1)
    assert {say.get("language") for say in who.iter("Say")} == {VOICES[lang]["language"]}
    await call.press("1", 2)
    await call.twiml("/hooks/twilio/voice/wait")
    await call.twiml("/hooks/twilio/voice/hold", Digits="1")
    await call.twiml("/hooks/twilio/voice/callback", Digits="*")
    await call.twiml("/hooks/twilio/voice/callback", Digits="1")
    second = call.another("+46709876500")
    await second.twiml("/hooks/twilio/voice")
    await second.press(MENU_DIGIT[lang], 1)
    for step, key in ((2, "*"), (2, "7"), (3, "")):
        await second.press(key, step)
    await second.twiml("/hooks/twilio/voice/wait")
    await second.twiml("/hooks/twilio/voice/hold", Digits="9")
    await second.twiml("/hooks/twilio/voice/wait")
    for root in [*call.heard, *second.heard]:
        check_heard(root)
    assert DANGER[lang] in said(second.heard[-2])


async def test_a_romanian_number_is_greeted_in_romanian(call: Call) -> None:
    call.caller = "+40722123456"
    root = await call.twiml("/hooks/twilio/voice")
    assert said(root).startswith("Bună!") and root.find("Gather/Say").get("language") == "ro-RO"
    check_heard(root)


WORDS_PER_SECOND = 2.5
"""How fast a text-to-speech voice says a prompt, for the simulated clock."""
QUIET = 40
"""A sample below this (of 32767) is silence."""


def tone_profile(body: bytes) -> tuple[float, float, float, float]:
    """The hold tone's (length, leading silence, longest silence, trailing silence) in seconds."""
    with wave.open(io.BytesIO(body)) as tone:
        rate = tone.getframerate()
        samples = array("h", tone.readframes(tone.getnframes()))
    loud = [i for i, value in enumerate(samples) if abs(value) > QUIET]
    assert loud, "the hold tone is silent"
    gaps = [b - a for a, b in zip(loud, loud[1:], strict=False)]
    return len(samples) / rate, loud[0] / rate, max(gaps) / rate, (len(samples) - loud[-1]) / rate


async def test_the_hold_loop_over_three_minutes_speaks_the_place_in_line_and_is_never_silent_a_minute(
        call: Call) -> None:
    """Three callers wait; two are taken at 50 s and 110 s. Twilio is simulated: each <Say> takes
    its words' time, each <Play> the tone's length, each <Gather> its timeout of silence."""
    callers = [call.another(f"+4670900000{n}") for n in range(2)] + [call]
    for caller in callers:
        await caller.twiml("/hooks/twilio/voice")
        await caller.press("0", 1)
    async with call.server.app[appkeys.DB].read() as session:
        ids = (await session.execute(select(Conversation.id).order_by(Conversation.id))).scalars().all()
    await call.server.add_staff("anna", max_chats=5)
    console = ConsoleClient(call.server.url)
    await console.login("anna", PASSWORD)
    async with call.session.get(call.server.url + "/hooks/twilio/voice/hold.wav") as r:
        length, lead, longest, trail = tone_profile(await r.read())
    assert longest < 10
    clock = [1_800_000_000.0]
    call.server.app[appkeys.CHANNELS]["voice"].clock = lambda: clock[0]
    start, quiet, url = clock[0], 0.0, "/hooks/twilio/voice/wait"
    claims, expected, announced = [(50, ids[0]), (110, ids[1])], 3, []
    try:
        while clock[0] - start < 180:
            must_say = False
            if claims and clock[0] - start >= claims[0][0]:
                assert await console.claim(claims.pop(0)[1]) == 200
                expected, must_say = expected - 1, True
            root = await call.twiml(url)
            check_heard(root)
            gather = root.find("Gather")
            positions = [int(n) for n in re.findall(r"Du är nummer (\d+) i kön", said(root))]
            if must_say:
                assert positions == [expected], "a new place in line is said at once"
            if positions:
                announced.append((clock[0] - start, positions[0]))
            for verb in gather:
                if verb.tag == "Say":
                    clock[0] += len((verb.text or "").split()) / WORDS_PER_SECOND
                    quiet = 0.0
                elif verb.tag == "Play":
                    assert verb.text == PUBLIC + "/hooks/twilio/voice/hold.wav"
                    assert quiet + lead < 60
                    clock[0] += length
                    quiet = trail
            quiet += float(gather.get("timeout"))
            clock[0] += float(gather.get("timeout"))
            assert quiet < 60, "a minute without a word or a tone"
            url = root.find("Redirect").text
    finally:
        await console.close()
    assert [n for _, n in announced][0] == 3 and {2, 1} <= {n for _, n in announced}
    times = [t for t, _ in announced]
    assert all(b - a <= 60 for a, b in zip(times, times[1:], strict=False)), announced
    assert 180 - times[-1] <= 60


def _phone_table(texts: dict) -> dict:
    """The language → text table the phone reads: the `voice` variant if there is one."""
    return texts["voice"] if isinstance(texts.get("voice"), dict) else texts


def test_every_voice_text_of_every_script_language_is_phone_wording() -> None:
    """Not only what a test call reaches: every text the phone can say, in every script language."""
    from lotsa.texts import Catalogue
    from triage.script import load_scripts

    catalogue = Catalogue.load(CONFIG / "texts")
    for script in load_scripts(CONFIG / "triage").values():
        spec = script.spec
        for lang in [*spec.languages, *spec.partial_languages]:
            spoken = [(spec.text(t, lang, "voice"), lang if lang in _phone_table(t) else spec.fallback_language)
                      for key, t in spec.all_texts() if t and not (
                          key.endswith(".text") and spec.steps[key.split(".")[1]].free_text and "voice" not in t)]
            spoken += [catalogue.spoken(key, lang) for key in catalogue.texts["sv"] if key.startswith("voice.")]
            root = ET.Element("Response")
            for text, said_in in spoken:
                ET.SubElement(root, "Say", language=VOICES[said_in]["language"],
                              voice=VOICES[said_in]["voice"]).text = text
            for say in root.iter("Say"):
                check_heard(ET.fromstring(f"<Response>{ET.tostring(say, encoding='unicode')}</Response>"))


def test_a_language_without_a_voice_or_its_menu_line_stops_the_start(tmp_path: Path) -> None:
    from bot.twilio_voice import check_voice_line
    from bot.voices import Voices
    from lotsa.settings import ConfigError
    from lotsa.texts import Catalogue
    from triage.script import load_scripts

    script = load_scripts(CONFIG / "triage")["default"]
    catalogue = Catalogue.load(CONFIG / "texts")
    voices = Voices.load(CONFIG)
    check_voice_line(script, catalogue, voices)
    without_bg = Voices({k: v for k, v in voices.by_language.items() if k != "bg"}, "voice.yaml")
    with pytest.raises(ConfigError, match=r"voice.yaml: voices.bg: missing \(the triage script 'default'"):
        check_voice_line(script, catalogue, without_bg)
    tables = {lang: dict(table) for lang, table in catalogue.texts.items()}
    del tables["ro"]["voice.choose_language"]
    with pytest.raises(ConfigError, match="ro.yaml: voice.choose_language: missing"):
        check_voice_line(script, Catalogue.from_tables(tables), voices)
    tables["ro"]["voice.choose_language"] = catalogue.texts["ro"]["voice.choose_language"]
    for table in tables.values():
        table.pop("voice.star", None)
    with pytest.raises(ConfigError, match=r"sv.yaml: voice.star: missing \(the phone line says it\)"):
        check_voice_line(script, Catalogue.from_tables(tables), voices)
    (tmp_path / "voice.yaml").write_text("voices:\n  sv: {language: sv-SE, voice: Robot 3000}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="voice.yaml: voices.sv.voice"):
        Voices.load(tmp_path)


async def test_the_wait_estimate_is_said_with_the_place_in_line(call: Call) -> None:
    voice = call.server.app[appkeys.CHANNELS]["voice"]
    assert [text for text, _ in voice._place_spoken("sv", 2, 4, True)][:2] == [
        "Du är nummer 2 i kön.", "Väntetiden är ungefär 4 minuter."]
    assert voice._place_spoken("ro", 1, 1, False)[1] == ("Timpul de așteptare este de aproximativ un minut.", "ro")
    assert "112" not in " ".join(text for text, _ in voice._place_spoken("en", 1, None, False))


@pytest.mark.parametrize(("twiml", "refused"), [
    ('<Say language="sv-SE" voice="Polly.Astrid">Vilket språk vill du skriva på?</Say>', "chat wording"),
    ('<Say language="en-GB" voice="Polly.Amy">What you write sounds serious.</Say>', "chat wording"),
    ('<Say language="ro-RO" voice="Polly.Carmen">Ce scrii sună grav.</Say>', "chat wording"),
    ('<Say language="bg-BG" voice="Google.bg-BG-Standard-A">Това, което пишете.</Say>', "chat wording"),
    ('<Say language="de-DE" voice="Polly.Vicki">Hallo.</Say>', "has no configured voice"),
    ('<Say language="sv-SE" voice="Polly.Astrid">Ring 112.</Say><Say language="sv-SE" voice="Polly.Astrid">'
     'Hej. Ring 112.</Say>', "said twice"),
])
def test_the_listener_catches_what_a_caller_must_not_hear(twiml: str, refused: str) -> None:
    with pytest.raises(AssertionError, match=refused):
        check_heard(ET.fromstring(f"<Response>{twiml}</Response>"))
