"""Telegram through the real python-telegram-bot library against a fake Bot API on 127.0.0.1."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from lotsa import appkeys
from lotsa.models import Contact, Message, OutboxItem
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.fake_providers import FakeTelegram
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server

SECRET = "webhook-secret-" + "x" * 20
CHAT = 555000111


@dataclass
class TelegramRig:
    server: RunningServer
    fake: FakeTelegram
    session: aiohttp.ClientSession
    next_update: int = 1000

    async def post(self, body: Any, secret: str | None = SECRET, raw: bytes | None = None) -> aiohttp.ClientResponse:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.session.post(f"{self.server.url}/hooks/telegram", data=data, headers=headers) as r:
            await r.read()
            return r

    def update(self, text: str | None = None, *, chat: int = CHAT, data: str | None = None,
               update_id: int | None = None) -> dict[str, Any]:
        if update_id is None:
            self.next_update += 1
            update_id = self.next_update
        user = {"id": chat, "is_bot": False, "first_name": "A", "language_code": "sv"}
        chat_obj = {"id": chat, "type": "private", "first_name": "A"}
        if data is not None:
            return {"update_id": update_id, "callback_query": {
                "id": f"cb{update_id}", "from": user, "chat_instance": "ci", "data": data,
                "message": {"message_id": 1, "date": int(time.time()), "chat": chat_obj, "text": "?"}}}
        return {"update_id": update_id, "message": {"message_id": update_id + 7, "date": int(time.time()),
                                                    "chat": chat_obj, "from": user, "text": text}}

    async def say(self, text: str, **kw: Any) -> int:
        response = await self.post(self.update(text, **kw))
        return response.status

    async def press(self, data: str, **kw: Any) -> int:
        response = await self.post(self.update(data=data, **kw))
        return response.status


def _buttons(sent: dict[str, Any]) -> list[str]:
    markup = sent.get("reply_markup") or {"inline_keyboard": []}
    return [row[0]["callback_data"] for row in markup["inline_keyboard"]]


@pytest.fixture
async def rig(tmp_path: Path, any_database_url: str) -> AsyncIterator[TelegramRig]:
    fake = FakeTelegram()
    await fake.start()
    settings = make_settings(tmp_path, any_database_url, telegram_token=fake.token,
                             telegram_webhook_secret=SECRET, telegram_api_url=fake.url)
    test_server, running = await start_server(settings)
    async with aiohttp.ClientSession() as session:
        yield TelegramRig(running, fake, session)
    await test_server.close()
    await fake.stop()


async def _messages_stored(server: RunningServer) -> int:
    async with server.app[appkeys.DB].read() as session:
        return int(await session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "in")) or 0)


async def _settled_outbox_item(server: RunningServer) -> OutboxItem:
    for _ in range(100):
        async with server.app[appkeys.DB].read() as session:
            [item] = (await session.execute(select(OutboxItem))).scalars().all()
        if item.state != "pending":
            return item
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox item stayed pending")


async def test_wrong_or_missing_secret_is_refused_and_nothing_is_stored(rig: TelegramRig) -> None:
    assert (await rig.post(rig.update("hej"), secret=None)).status == 403
    assert (await rig.post(rig.update("hej"), secret="wrong")).status == 403
    assert (await rig.post(rig.update("hej"), secret=SECRET[:-1])).status == 403
    assert await _messages_stored(rig.server) == 0
    assert rig.fake.sent("sendMessage") == []


async def test_first_message_gets_the_greeting_as_an_inline_keyboard(rig: TelegramRig) -> None:
    assert await rig.say("/start") == 200
    [greeting] = await rig.fake.wait_for("sendMessage", 1)
    assert int(greeting["chat_id"]) == CHAT
    assert "Vilket språk" in greeting["text"]
    assert _buttons(greeting) == ["sv", "en", "ro", "bg", "human"]


async def test_a_replayed_update_is_stored_once(rig: TelegramRig) -> None:
    update = rig.update("hej jag behöver prata")
    for _ in range(3):
        assert (await rig.post(update)).status == 200
    assert await _messages_stored(rig.server) == 1
    await rig.fake.wait_for("sendMessage", 1)


async def test_full_conversation_from_first_text_to_counsellor_reply(rig: TelegramRig) -> None:
    await rig.server.add_staff("anna")
    await rig.say("/start")
    await rig.fake.wait_for("sendMessage", 1)
    assert await rig.press("sv") == 200
    who = (await rig.fake.wait_for("sendMessage", 2))[1]
    assert "sells" in _buttons(who)
    await rig.press("sells")
    tell = (await rig.fake.wait_for("sendMessage", 3))[2]
    assert "skip" in _buttons(tell)
    await rig.say("jag vill sluta sälja sex men vet inte hur")
    await rig.fake.wait_for("sendMessage", 4)

    console = ConsoleClient(rig.server.url)
    try:
        await console.login("anna", PASSWORD)
        [waiting] = (await console.queue())["waiting"]
        assert waiting["channel"] == "telegram" and waiting["group"] == "sells"
        assert str(CHAT) not in str(waiting)
        assert await console.claim(waiting["id"]) == 200
        await console.send(waiting["id"], "Hej, jag heter Anna. Berätta mer.")
        sent = await rig.fake.wait_for("sendMessage", 6)
        assert sent[-1]["text"] == "Hej, jag heter Anna. Berätta mer."
        assert rig.fake.sent("answerCallbackQuery")
    finally:
        await console.close()


@pytest.mark.parametrize("status, retry_after", [(429, 1), (500, None), (502, None)])
async def test_provider_errors_then_success_deliver_exactly_once(tmp_path: Path, database_url: str,
                                                                 status: int, retry_after: int | None) -> None:
    fake = FakeTelegram()
    await fake.start()
    settings = make_settings(tmp_path, database_url, telegram_token=fake.token,
                             telegram_webhook_secret=SECRET, telegram_api_url=fake.url)
    test_server, running = await start_server(settings)
    try:
        async with aiohttp.ClientSession() as session:
            rig = TelegramRig(running, fake, session)
            fake.fail_next(status, count=2, retry_after=retry_after)
            await rig.say("hej")
            [greeting] = await fake.wait_for("sendMessage", 1, timeout=20)
            assert "Vilket språk" in greeting["text"]
            item = await _settled_outbox_item(running)
            assert item.state == "sent" and item.attempts == 2
            assert len(fake.sent("sendMessage")) == 1
    finally:
        await test_server.close()
        await fake.stop()


async def test_radera_deletes_the_conversation_here_and_in_the_chat(rig: TelegramRig) -> None:
    await rig.say("/start")
    await rig.press("sv")
    await rig.fake.wait_for("sendMessage", 2)
    for _ in range(100):  # the relay has recorded the provider's ids of both messages
        async with rig.server.app[appkeys.DB].read() as session:
            states = (await session.execute(select(OutboxItem.state))).scalars().all()
        if states == ["sent", "sent"]:
            break
        await asyncio.sleep(0.05)
    await rig.say("/radera")
    sent = await rig.fake.wait_for("sendMessage", 3)
    assert "raderat" in sent[-1]["text"]
    deleted = {int(d["message_id"]) for d in await rig.fake.wait_for("deleteMessage", 3)}
    bot_ids = {1000, 1001}
    assert bot_ids <= deleted, "the bot's own messages are deleted in the chat"
    assert await _messages_stored(rig.server) == 0
    async with rig.server.app[appkeys.DB].read() as session:
        keys = (await session.execute(select(Contact.key))).scalars().all()
    assert all(k.startswith("erased:") for k in keys)


async def test_malformed_bodies_get_400_never_500(rig: TelegramRig) -> None:
    for raw in (b"", b"not json", b"\xff\xfe\x00", b"[]", b'{"update_id": "x"}', b"null",
                b'{"update_id": 5, "message": {"chat": 7}}'):
        assert (await rig.post(None, raw=raw)).status == 400, raw
    assert (await rig.post({"update_id": 77})).status == 200
    async with rig.session.get(f"{rig.server.url}/healthz") as r:
        assert r.status == 200


async def test_non_text_messages_get_a_text_only_answer(rig: TelegramRig) -> None:
    update = rig.update("x")
    del update["message"]["text"]
    update["message"]["sticker"] = {"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1,
                                    "is_animated": False, "is_video": False, "type": "regular"}
    assert (await rig.post(update)).status == 200
    [answer] = await rig.fake.wait_for("sendMessage", 1)
    assert "bara läsa text" in answer["text"]
    assert await _messages_stored(rig.server) == 0


async def test_channel_without_secret_is_switched_off(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/hooks/telegram", json={"update_id": 1}) as r:
            assert r.status == 404


async def test_server_starts_and_accepts_while_telegram_is_down(tmp_path: Path, database_url: str) -> None:
    fake = FakeTelegram()
    await fake.start()
    await fake.stop()
    settings = make_settings(tmp_path, database_url, telegram_token=fake.token,
                             telegram_webhook_secret=SECRET, telegram_api_url=fake.url)
    test_server, running = await start_server(settings)
    try:
        async with aiohttp.ClientSession() as session:
            rig = TelegramRig(running, fake, session)
            assert await rig.say("hej") == 200
            await fake.start()
            [greeting] = await fake.wait_for("sendMessage", 1, timeout=20)
            assert "Vilket språk" in greeting["text"]
    finally:
        await test_server.close()
        await fake.stop()


async def test_polling_mode_reads_updates_without_a_webhook(tmp_path: Path, database_url: str) -> None:
    fake = FakeTelegram()
    await fake.start()
    settings = make_settings(tmp_path, database_url, telegram_token=fake.token, telegram_polling=True,
                             telegram_api_url=fake.url)
    test_server, running = await start_server(settings)
    try:
        fake.queue_update({"update_id": 9, "message": {
            "message_id": 3, "date": int(time.time()), "chat": {"id": CHAT, "type": "private"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "A"}, "text": "hej"}})
        [greeting] = await fake.wait_for("sendMessage", 1)
        assert "Vilket språk" in greeting["text"]
        assert fake.sent("deleteWebhook")
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{running.url}/hooks/telegram", json={"update_id": 1}) as r:
                assert r.status == 404
    finally:
        await test_server.close()
        await fake.stop()


async def test_refused_message_is_a_dead_letter_a_supervisor_can_retry(rig: TelegramRig) -> None:
    await rig.server.add_staff("sara", role="supervisor")
    await rig.server.add_staff("carl")
    rig.fake.fail_next(400)
    await rig.say("hej")
    item = await _settled_outbox_item(rig.server)
    assert item.state == "dead" and "BadRequest" in (item.last_error or "")

    counsellor, supervisor = ConsoleClient(rig.server.url), ConsoleClient(rig.server.url)
    try:
        await counsellor.login("carl", PASSWORD)
        async with counsellor.session.get(f"{rig.server.url}/api/console/outbox/dead") as r:
            assert r.status == 403
        await supervisor.login("sara", PASSWORD)
        async with supervisor.session.get(f"{rig.server.url}/api/console/outbox/dead") as r:
            [dead] = (await r.json())["dead"]
        assert dead["channel"] == "telegram" and str(CHAT) not in json.dumps(dead)
        url = f"{rig.server.url}/api/console/outbox/{dead['id']}/retry"
        async with supervisor.session.post(url) as r:
            assert r.status == 403, "no CSRF token"
        async with supervisor.session.post(url, headers=supervisor._headers()) as r:
            assert r.status == 200
        [greeting] = await rig.fake.wait_for("sendMessage", 1)
        assert "Vilket språk" in greeting["text"]
    finally:
        await counsellor.close()
        await supervisor.close()
