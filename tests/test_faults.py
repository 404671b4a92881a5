"""Faults: `kill -9` of a real `lotsa serve` in the middle of sending a text, and a database that is
locked for a while. Nothing is lost and nothing reaches the person twice."""
from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from lotsa import appkeys
from lotsa.models import Message
from lotsa_testing.clients import ConsoleClient, free_port, wait_healthy
from lotsa_testing.fake_providers import FakeTwilio
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server

LOTSA = [sys.executable, "-m", "lotsa.cli"]
OUR_NUMBER = "+46766860000"
PERSON = "+46704445566"


class Texter:
    """A person texting the service through signed Twilio webhooks."""

    def __init__(self, url: str, public: str, fake: FakeTwilio) -> None:
        self.url, self.public, self.fake = url, public, fake

    async def text(self, body: str, sid: str | None = None) -> int:
        params = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": self.fake.account_sid,
                  "From": PERSON, "To": OUR_NUMBER, "Body": body}
        signature = RequestValidator(self.fake.auth_token).compute_signature(self.public + "/hooks/twilio/sms",
                                                                            params)
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url + "/hooks/twilio/sms", data=params,
                                    headers={"X-Twilio-Signature": signature}) as r:
                return r.status

    def received(self) -> list[str]:
        return [m["Body"] for m in self.fake.sent("message") if m["To"] == PERSON]

    async def wait_received(self, count: int, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.received()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} texts, got {self.received()}")
            await asyncio.sleep(0.05)
        return self.received()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    twilio = FakeTwilio()
    await twilio.start()
    yield twilio
    await twilio.stop()


async def test_kill_9_while_a_text_is_being_sent_delivers_it_exactly_once(tmp_path: Path,
                                                                           fake: FakeTwilio) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LOTSA_SECRET_KEY": "fault-test-secret-0123456789", "LOTSA_DATA_DIR": str(tmp_path / "var"),
           "LOTSA_COOKIE_SECURE": "false", "LOTSA_PUBLIC_URL": url, "LOTSA_PORT": str(port),
           "LOTSA_TWILIO_ACCOUNT_SID": fake.account_sid, "LOTSA_TWILIO_AUTH_TOKEN": fake.auth_token,
           "LOTSA_TWILIO_FROM_NUMBER": OUR_NUMBER, "LOTSA_TWILIO_API_URL": fake.url,
           "LOTSA_TWILIO_SEGMENTS_PER_SECOND": "100", "LOTSA_OUTBOX_LEASE_SECONDS": "2"}
    env.pop("LOTSA_DATABASE_URL", None)
    for args, stdin in ((["db", "upgrade"], None), (["user", "add", "anna", "--role", "counsellor"], PASSWORD)):
        subprocess.run(LOTSA + args, env=env, input=stdin and (stdin + "\n").encode(), check=True,
                       capture_output=True, timeout=60)
    log = tmp_path / "server.log"

    async def start() -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            proc = subprocess.Popen(LOTSA + ["serve"], env=env, stdout=out, stderr=out)
        assert await wait_healthy(url), log.read_text()
        return proc

    person = Texter(url, url, fake)
    proc = await start()
    anna = ConsoleClient(url)
    try:
        assert await person.text("hej") == 200
        await person.wait_received(1)
        assert await person.text("0") == 200
        await person.wait_received(2)
        await anna.login("anna", PASSWORD)
        [waiting] = (await anna.queue())["waiting"]
        assert await anna.claim(waiting["id"]) == 200
        await person.wait_received(3)

        fake.hang_seconds = 30
        await anna.send(waiting["id"], "Hej, jag heter Anna.")
        await anna.send(waiting["id"], "Hur kan jag hjälpa dig?")
        await person.wait_received(4)  # Twilio has the first one; its answer never comes back
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=15)
        fake.hang_seconds = 0
        written_while_down = "SM" + uuid.uuid4().hex
        with pytest.raises(aiohttp.ClientConnectionError):
            await person.text("är du kvar?", sid=written_while_down)

        proc = await start()
        for _ in range(2):  # Twilio retries the webhook it could not deliver
            assert await person.text("är du kvar?", sid=written_while_down) == 200
        texts = await person.wait_received(5)
        await asyncio.sleep(3)  # room for a duplicate to show up, if there were one
        texts = person.received()
        assert texts.count("Hej, jag heter Anna.") == 1, texts
        assert texts.count("Hur kan jag hjälpa dig?") == 1, texts
        assert texts.index("Hej, jag heter Anna.") < texts.index("Hur kan jag hjälpa dig?")

        assert await person.text("ja jag är kvar") == 200
        detail = await anna.conversation(waiting["id"])
        stored = [m["text"] for m in detail["messages"]]
        for expected in ("hej", "Hej, jag heter Anna.", "Hur kan jag hjälpa dig?", "är du kvar?",
                         "ja jag är kvar"):
            assert stored.count(expected) == 1, stored
    finally:
        await anna.close()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=15)


async def test_a_briefly_locked_database_loses_nothing(tmp_path: Path, database_url: str,
                                                       fake: FakeTwilio) -> None:
    public = "https://lotsa.example.org"
    settings = make_settings(tmp_path, database_url, twilio_account_sid=fake.account_sid,
                             twilio_auth_token=fake.auth_token, twilio_from_number=OUR_NUMBER,
                             twilio_api_url=fake.url, public_url=public, twilio_segments_per_second=100.0)
    test_server, server = await start_server(settings)
    person = Texter(server.url, public, fake)
    path = make_url(database_url).database
    try:
        assert await person.text("hej") == 200
        await person.wait_received(1)

        def hold_lock(seconds: float) -> None:
            connection = sqlite3.connect(path, timeout=5)
            connection.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            connection.rollback()
            connection.close()

        locker = asyncio.create_task(asyncio.to_thread(hold_lock, 3.0))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        statuses = await asyncio.gather(person.text("1"), person.text("1", sid="SMfixed"),
                                        person.text("1", sid="SMfixed"))
        waited = time.monotonic() - started
        await locker
        assert statuses == [200, 200, 200]
        assert waited > 2, "the requests waited for the lock instead of failing"
        await person.wait_received(2)
        assert await _inbound(server) == ["hej", "1", "1"]
    finally:
        await test_server.close()


async def _inbound(server: RunningServer) -> list[str]:
    async with server.app[appkeys.DB].read() as session:
        return list((await session.execute(select(Message.text).where(Message.direction == "in")
                                           .order_by(Message.id))).scalars())
