"""Anonymity across every channel: full conversations on Telegram, SMS, voice and the web chat with
known chat ids, phone numbers and client IP addresses; then the database file, the logs and every
page and API answer a counsellor or supervisor can open are searched for them."""
from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from lotsa import appkeys
from lotsa.models import StaffUser
from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.fake_providers import FakeTelegram, FakeTwilio
from lotsa_testing.server import PASSWORD, make_settings, start_server

PUBLIC = "https://lotsa.example.org"
SECRET = "anon-secret-" + "q" * 20
CHAT_IDS = [7700112233, 7700998877]
PHONES = ["+46731234567", "+40721999888"]
CALLER = "+359881234567"
IPS = ["203.0.113.77", "198.51.100.23"]
OUR_NUMBER = "+46766860000"
COUNSELLOR_PHONE = "+46709990000"
"""Where calls are put through: stored encrypted, never in the database file in plain text."""


async def test_no_identifier_reaches_database_logs_or_staff_pages(tmp_path: Path, database_url: str,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    telegram, twilio = FakeTelegram(), FakeTwilio()
    await telegram.start()
    await twilio.start()
    settings = make_settings(tmp_path, database_url, telegram_token=telegram.token,
                             telegram_webhook_secret=SECRET, telegram_api_url=telegram.url,
                             twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
                             twilio_from_number=OUR_NUMBER, twilio_api_url=twilio.url, public_url=PUBLIC,
                             twilio_segments_per_second=100.0)
    test_server, server = await start_server(settings)
    validator = RequestValidator(twilio.auth_token)
    pages: list[str] = []
    session = aiohttp.ClientSession()
    try:
        await server.add_staff("anna", max_chats=20)
        await server.add_staff("sara", role="supervisor")
        async with server.app[appkeys.DB].write() as db:
            await db.execute(update(StaffUser).values(
                phone_sealed=server.app[appkeys.KEYRING].seal_phone(COUNSELLOR_PHONE)))

        async def telegram_says(chat: int, text: str, n: list[int] = [1]) -> None:  # noqa: B006
            n[0] += 1
            update_ = {"update_id": chat % 1000 * 100 + n[0], "message": {
                "message_id": n[0], "date": int(time.time()), "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "A"}, "text": text}}
            async with session.post(f"{server.url}/hooks/telegram", json=update_,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                                             "X-Forwarded-For": IPS[0]}) as r:
                assert r.status == 200

        async def twilio_posts(path: str, params: dict[str, str]) -> None:
            params = {"AccountSid": twilio.account_sid, "To": OUR_NUMBER, **params}
            headers = {"X-Twilio-Signature": validator.compute_signature(PUBLIC + path, params),
                       "X-Forwarded-For": IPS[1]}
            async with session.post(server.url + path, data=params, headers=headers) as r:
                assert r.status == 200

        for chat in CHAT_IDS:
            for text in ("/start", "1", "1", "jag behöver hjälp ikväll"):
                await telegram_says(chat, text)
        for phone in PHONES:
            for text in ("hej", "2", "2", "I want to stop buying sex"):
                await twilio_posts("/hooks/twilio/sms", {"MessageSid": "SM" + uuid.uuid4().hex, "From": phone,
                                                         "Body": text})
        call = {"CallSid": "CA" + uuid.uuid4().hex, "From": CALLER}
        await twilio_posts("/hooks/twilio/voice", call)
        await twilio_posts("/hooks/twilio/voice/gather?step=1", {**call, "Digits": "2"})
        await twilio_posts("/hooks/twilio/voice/gather?step=2", {**call, "Digits": "0"})

        web = ChatClient(server.url, lang="en")
        await web.connect()
        await web.choose("en")
        await web.choose("relative")
        await web.say("my sister is 16 and sells sex")
        await web.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued")
        token = web.token
        await web.close()

        anna, sara = ConsoleClient(server.url), ConsoleClient(server.url)
        try:
            await anna.login("anna", PASSWORD)
            await sara.login("sara", PASSWORD)
            queue = await anna.queue()
            pages.append(json.dumps(queue))
            for summary in queue["waiting"]:
                if await anna.claim(summary["id"]) == 200 and summary["channel"] != "voice":
                    await anna.send(summary["id"], "Hej, jag heter Anna.")
                pages.append(json.dumps(await anna.conversation(summary["id"])))
            for client in (anna, sara):
                async with client.session.get(f"{server.url}/console") as r:
                    pages.append(await r.text())
            async with sara.session.get(f"{server.url}/api/console/outbox/dead") as r:
                pages.append(await r.text())
            pages.append(json.dumps(await sara.queue()))
        finally:
            await anna.close()
            await sara.close()
        await telegram.wait_for("sendMessage", 10)
        await twilio.wait_for("message", 10)
    finally:
        await session.close()
        await test_server.close()
        await telegram.stop()
        await twilio.stop()

    database = Path(make_url(settings.effective_database_url).database)
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    identifiers = ([str(c) for c in CHAT_IDS] + PHONES + [p.lstrip("+") for p in PHONES] + [p[3:] for p in PHONES]
                   + [CALLER, CALLER.lstrip("+"), token, *IPS, "127.0.0.1", COUNSELLOR_PHONE])
    logs = caplog.text
    for identifier in identifiers:
        assert identifier.encode() not in stored, f"{identifier} is in the database file"
        assert identifier not in logs, f"{identifier} is in the logs"
        assert all(identifier not in page for page in pages), f"{identifier} is shown to staff"
    for text in ("jag behöver hjälp ikväll", "I want to stop buying sex", "my sister is 16"):
        assert text not in logs, "message text is in the logs"
