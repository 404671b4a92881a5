"""SMS through the real twilio library (signatures, REST client) against a fake Twilio on 127.0.0.1."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from lotsa import appkeys
from lotsa.models import Conversation, Message, OutboxItem
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.fake_providers import FakeTwilio
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server

PUBLIC = "https://lotsa.example.org"
OUR_NUMBER = "+46766860000"
PERSON = "+46701234567"


@dataclass
class SmsRig:
    server: RunningServer
    fake: FakeTwilio
    session: aiohttp.ClientSession

    def sign(self, path: str, params: dict[str, str]) -> str:
        return RequestValidator(self.fake.auth_token).compute_signature(PUBLIC + path, params)

    async def post(self, path: str, params: dict[str, str], signature: str | None = "auto",
                   ) -> tuple[int, str]:
        headers = {}
        if signature == "auto":
            signature = self.sign(path, params)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        async with self.session.post(self.server.url + path, data=params, headers=headers) as r:
            return r.status, await r.text()

    def sms(self, body: str, sender: str = PERSON, sid: str | None = None) -> dict[str, str]:
        return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": self.fake.account_sid,
                "From": sender, "To": OUR_NUMBER, "Body": body, "NumMedia": "0"}

    async def text(self, body: str, **kw: Any) -> str:
        status, twiml = await self.post("/hooks/twilio/sms", self.sms(body, **kw))
        assert status == 200, twiml
        return twiml

    async def replies(self, count: int, to: str = PERSON) -> list[str]:
        for _ in range(200):
            bodies = [m["Body"] for m in self.fake.sent("message") if m["To"] == to]
            if len(bodies) >= count:
                return bodies
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} texts, got {bodies}")


async def _rig(tmp_path: Path, database_url: str, **extra: Any) -> tuple[Any, SmsRig]:
    fake = FakeTwilio()
    await fake.start()
    settings = make_settings(tmp_path, database_url, twilio_account_sid=fake.account_sid,
                             twilio_auth_token=fake.auth_token, twilio_from_number=OUR_NUMBER,
                             twilio_api_url=fake.url, public_url=PUBLIC,
                             twilio_segments_per_second=extra.pop("twilio_segments_per_second", 100.0), **extra)
    test_server, running = await start_server(settings)
    return test_server, SmsRig(running, fake, aiohttp.ClientSession())


@pytest.fixture
async def rig(tmp_path: Path, any_database_url: str) -> AsyncIterator[SmsRig]:
    test_server, rig = await _rig(tmp_path, any_database_url)
    yield rig
    await rig.session.close()
    await test_server.close()
    await rig.fake.stop()


async def _count(server: RunningServer, model: type, *where: Any) -> int:
    async with server.app[appkeys.DB].read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_bad_missing_or_misdirected_signatures_are_refused(rig: SmsRig) -> None:
    params = rig.sms("hej")
    assert (await rig.post("/hooks/twilio/sms", params, signature=None))[0] == 403
    assert (await rig.post("/hooks/twilio/sms", params, signature="AAAA"))[0] == 403
    # Signed for the address the request happened to reach, not the configured public URL.
    wrong = RequestValidator(rig.fake.auth_token).compute_signature(rig.server.url + "/hooks/twilio/sms", params)
    assert (await rig.post("/hooks/twilio/sms", params, signature=wrong))[0] == 403
    tampered = dict(params, Body="something else")
    assert (await rig.post("/hooks/twilio/sms", tampered, signature=rig.sign("/hooks/twilio/sms", params)))[0] == 403
    assert await _count(rig.server, Message) == 0


async def test_full_sms_conversation_from_first_text_to_counsellor_reply(rig: SmsRig) -> None:
    await rig.server.add_staff("anna")
    await rig.text("Hej")
    [greeting] = await rig.replies(1)
    assert "Vilket språk" in greeting
    assert "\n1 Svenska" in greeting and "\n0 Prata med någon nu" in greeting
    await rig.text("1")
    who = (await rig.replies(2))[1]
    assert "\n1 Jag säljer" in who
    await rig.text("1")
    await rig.replies(3)
    await rig.text("jag vill sluta men har skulder")
    await rig.replies(4)

    console = ConsoleClient(rig.server.url)
    try:
        await console.login("anna", PASSWORD)
        [waiting] = (await console.queue())["waiting"]
        assert waiting["channel"] == "sms" and waiting["group"] == "sells"
        assert "701234567" not in str(waiting)
        assert await console.claim(waiting["id"]) == 200
        await console.send(waiting["id"], "Hej, jag heter Anna.")
        texts = await rig.replies(6)
        assert texts[-1] == "Hej, jag heter Anna."
        last = rig.fake.sent("message")[-1]
        assert last["From"] == OUR_NUMBER and last["StatusCallback"] == PUBLIC + "/hooks/twilio/sms/status"
    finally:
        await console.close()


async def test_a_retried_message_sid_is_stored_once(rig: SmsRig) -> None:
    params = rig.sms("hej")
    for _ in range(3):
        assert (await rig.post("/hooks/twilio/sms", params))[0] == 200
    assert await _count(rig.server, Message, Message.direction == "in") == 1


async def test_one_person_however_the_number_is_written(rig: SmsRig) -> None:
    await rig.text("hej", sender="+46701234567")
    await rig.text("1", sender="0701234567")
    await rig.text("2", sender="+46 70-123 45 67")
    assert await _count(rig.server, Conversation) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_provider_errors_then_success_deliver_exactly_once(tmp_path: Path, database_url: str,
                                                                 status: int) -> None:
    test_server, rig = await _rig(tmp_path, database_url)
    try:
        rig.fake.fail_next(status, count=1)
        await rig.text("hej")
        await rig.replies(1)
        await asyncio.sleep(0.3)
        assert len(rig.fake.sent("message")) == 1
        async with rig.server.app[appkeys.DB].read() as session:
            [item] = (await session.execute(select(OutboxItem))).scalars().all()
        assert item.state == "sent" and item.attempts == 1
    finally:
        await rig.session.close()
        await test_server.close()
        await rig.fake.stop()


async def test_keywords_help_stop_and_radera(rig: SmsRig) -> None:
    assert "RADERA" in await rig.text("HELP")
    await rig.text("hej")
    await rig.replies(1)
    await rig.text("STOP")
    async with rig.server.app[appkeys.DB].read() as session:
        [conversation] = (await session.execute(select(Conversation))).scalars().all()
    assert conversation.state == "closed"
    await asyncio.sleep(0.2)
    assert len(rig.fake.sent("message")) == 1, "Twilio confirms STOP itself: no second text"
    answer = await rig.text("radera")
    assert "raderat" in answer
    assert await _count(rig.server, Message) == 0


async def test_long_replies_are_split_at_word_boundaries(rig: SmsRig) -> None:
    await rig.server.add_staff("anna")
    await rig.text("hej")
    await rig.replies(1)
    await rig.text("0")
    await rig.replies(2)
    console = ConsoleClient(rig.server.url)
    try:
        await console.login("anna", PASSWORD)
        [waiting] = (await console.queue())["waiting"]
        await console.claim(waiting["id"])
        long_text = " ".join(f"ord{i}" for i in range(500))
        await console.send(waiting["id"], long_text)
        texts = await rig.replies(6)
        parts = texts[3:]
        assert len(parts) == 3
        assert all(len(p) <= 1530 for p in parts)
        assert " ".join(parts) == long_text
    finally:
        await console.close()


async def test_delivery_failure_report_becomes_a_dead_letter(rig: SmsRig) -> None:
    await rig.text("hej")
    await rig.replies(1)
    sid = rig.fake.sent("message")[0]["sid"]
    for _ in range(50):
        if await _count(rig.server, OutboxItem, OutboxItem.state == "sent"):
            break
        await asyncio.sleep(0.05)
    status, _ = await rig.post("/hooks/twilio/sms/status", {"MessageSid": sid, "MessageStatus": "undelivered",
                                                            "ErrorCode": "30003"})
    assert status == 204
    assert await _count(rig.server, OutboxItem, OutboxItem.state == "dead") == 1


async def test_safe_contact_check_holds_a_message_after_a_pause(tmp_path: Path, database_url: str) -> None:
    test_server, rig = await _rig(tmp_path, database_url, safe_contact_after_minutes=0)
    console = ConsoleClient(rig.server.url)
    try:
        await rig.server.add_staff("anna")
        await rig.text("hej")
        await rig.replies(1)
        await rig.text("0")
        await rig.replies(2)
        await rig.text("KODORD blåbär")
        await console.login("anna", PASSWORD)
        [waiting] = (await console.queue())["waiting"]
        await console.claim(waiting["id"])
        await console.send(waiting["id"], "Hur mår du idag?")
        texts = await rig.replies(4)
        assert texts[-1] == "blåbär", "after a pause only the code word goes out"
        await asyncio.sleep(0.5)
        assert "Hur mår du idag?" not in [m["Body"] for m in rig.fake.sent("message")]
        await rig.text("ja det går bra")
        texts = await rig.replies(6)
        assert texts[-2:] == ["En samtalsstödjare är här nu.", "Hur mår du idag?"], "released in order"
    finally:
        await console.close()
        await rig.session.close()
        await test_server.close()
        await rig.fake.stop()


async def test_channel_without_twilio_secret_is_switched_off(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        for path in ("/hooks/twilio/sms", "/hooks/twilio/voice"):
            async with session.post(server.url + path, data={"a": "b"}) as r:
                assert r.status == 404
