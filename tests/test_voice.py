"""Voice: the TwiML of a whole call, signed by the twilio library, against the real server."""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
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


@dataclass
class Call:
    server: RunningServer
    fake: FakeTwilio
    session: aiohttp.ClientSession
    sid: str = ""

    async def post(self, path: str, signed: bool = True, **extra: str) -> tuple[int, ET.Element | None]:
        params = {"CallSid": self.sid, "AccountSid": self.fake.account_sid, "From": CALLER, "To": OUR_NUMBER,
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
        return root

    async def press(self, digit: str, step: int) -> ET.Element:
        return await self.twiml(f"/hooks/twilio/voice/gather?step={step}", Digits=digit)

    async def conversation(self) -> Conversation:
        async with self.server.app[appkeys.DB].read() as session:
            return (await session.execute(select(Conversation))).scalar_one()


def said(root: ET.Element) -> str:
    return " ".join(el.text or "" for el in root.iter("Say"))


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


async def test_call_greets_with_keypad_choices_from_the_triage_script(call: Call) -> None:
    root = await call.twiml("/hooks/twilio/voice")
    [gather] = root.findall("Gather")
    assert gather.get("numDigits") == "1" and gather.get("action") == "/hooks/twilio/voice/gather?step=1"
    spoken = said(root)
    assert "Tryck 1 för Svenska" in spoken and "Tryck 2 för English" in spoken
    assert "tryck 9" in spoken and "Tryck 0" in spoken
    assert root.find("Record") is None
    conversation = await call.conversation()
    assert conversation.channel == "voice" and conversation.state == "triage"


async def test_full_call_keypad_triage_hold_and_connect_to_the_counsellor(call: Call) -> None:
    await call.server.add_staff("anna", phone=COUNSELLOR_PHONE)
    await call.twiml("/hooks/twilio/voice")
    who = await call.press("2", 1)
    assert "Press 1 for I sell or have sold sex" in said(who)
    tell = await call.press("1", 2)
    assert "Press 1 for Skip" in said(tell)
    queued = await call.press("1", 3)
    assert queued.find("Redirect").text == "/hooks/twilio/voice/wait"
    conversation = await call.conversation()
    assert conversation.state == "queued" and conversation.group == "sells" and conversation.language == "en"

    waiting = await call.twiml("/hooks/twilio/voice/wait")
    assert "You are number 1 in the queue" in said(waiting)
    assert waiting.find("Gather").get("action") == "/hooks/twilio/voice/hold"
    assert waiting.find("Gather/Pause") is not None

    console = ConsoleClient(call.server.url)
    try:
        await console.login("anna", PASSWORD)
        [item] = (await console.queue())["waiting"]
        assert item["channel"] == "voice" and "9876543" not in str(item)
        assert await console.claim(item["id"]) == 200
        detail = await console.conversation(item["id"])
        assert "9876543" not in str(detail)
    finally:
        await console.close()
    connect = await call.twiml("/hooks/twilio/voice/wait")
    dial = connect.find("Dial")
    assert dial is not None and dial.find("Number").text == COUNSELLOR_PHONE
    assert dial.get("callerId") == OUR_NUMBER and dial.get("record") == "do-not-record"


async def test_nine_means_danger_now_112_and_the_acute_queue(call: Call) -> None:
    await call.twiml("/hooks/twilio/voice")
    root = await call.press("9", 1)
    assert "112" in said(root)
    conversation = await call.conversation()
    assert conversation.risk == "acute" and conversation.queue == "acute" and conversation.state == "queued"
    assert "immediate_danger" in conversation.triage["flags"]


async def test_silence_twice_hands_over_to_a_human(call: Call) -> None:
    await call.twiml("/hooks/twilio/voice")
    again = await call.press("", 1)
    assert again.find("Gather") is not None
    await call.press("", 2)
    assert (await call.conversation()).state == "queued"


async def test_callback_offer_keeps_the_caller_in_line_after_hanging_up(call: Call) -> None:
    await call.twiml("/hooks/twilio/voice")
    await call.press("0", 1)
    offer = await call.twiml("/hooks/twilio/voice/hold", Digits="1")
    assert offer.find("Gather").get("action") == "/hooks/twilio/voice/callback"
    booked = await call.twiml("/hooks/twilio/voice/callback", Digits="2")
    assert booked.find("Hangup") is not None
    await call.twiml("/hooks/twilio/voice/status", CallStatus="completed")
    conversation = await call.conversation()
    assert conversation.state == "queued" and conversation.triage["callback"]["window"] == "evening"


async def test_a_caller_who_hangs_up_while_waiting_leaves_the_queue(call: Call) -> None:
    await call.twiml("/hooks/twilio/voice")
    await call.press("0", 1)
    await call.twiml("/hooks/twilio/voice/status", CallStatus="completed")
    assert (await call.conversation()).state == "closed"


async def test_replayed_keypress_is_counted_once(call: Call) -> None:
    await call.twiml("/hooks/twilio/voice")
    await call.press("1", 1)
    await call.press("1", 1)
    conversation = await call.conversation()
    assert conversation.triage_state["step"] == "who"
