"""What the waiting person sees over the web chat: their position and an honest wait estimate,
updated as the queue moves, 112, the out-of-hours answer; and typing indicators both ways."""
from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lotsa.settings import default_config_dir
from lotsa_testing.clients import ChatClient, ConsoleClient, waiting_chat
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server

GROUPS = "[sells, buys, relative, professional, other]"


def config_with_queues(tmp_path: Path, sells_hours: str) -> Path:
    """The packaged configuration with a small queues.yaml: `sells` with the given hours, the
    others open around the clock (no hours given)."""
    config = tmp_path / "config"
    shutil.copytree(default_config_dir(), config, ignore=shutil.ignore_patterns("__pycache__", "model", "examples"))
    (config / "queues.yaml").write_text(f"""
timezone: Europe/Stockholm
holiday_calendar: SE
queues:
  - {{id: acute, name: {{en: Acute}}, acute: true, groups: {GROUPS}}}
  - id: sells
    name: {{en: Sells}}
    groups: [sells]
    {sells_hours}
    out_of_hours:
      text: {{en: "We are closed right now.", sv: "Vi har stängt just nu."}}
      referrals: [emergency_112, mikamottagning]
  - {{id: others, name: {{en: Others}}, groups: [buys, relative, professional, other]}}
""", encoding="utf-8")
    return config


async def _server(tmp_path: Path, database_url: str, sells_hours: str) -> AsyncIterator[RunningServer]:
    settings = make_settings(tmp_path, database_url, config_dir=str(config_with_queues(tmp_path, sells_hours)))
    test_server, running = await start_server(settings)
    yield running
    await test_server.close()


@pytest.fixture
async def open_server(tmp_path: Path, any_database_url: str) -> AsyncIterator[RunningServer]:
    async for running in _server(tmp_path, any_database_url, ""):
        yield running


@pytest.fixture
async def closed_server(tmp_path: Path, database_url: str) -> AsyncIterator[RunningServer]:
    async for running in _server(tmp_path, database_url, "hours: {}\n    holidays: []"):
        yield running



async def test_position_and_estimate_follow_the_queue(open_server: RunningServer) -> None:
    await open_server.add_staff("anna", max_chats=10)
    anna = ConsoleClient(open_server.url)
    contacts: list[ChatClient] = []
    try:
        await anna.login("anna", PASSWORD)
        first = await waiting_chat(open_server.url)
        contacts.append(first)
        wait = await first.wait_for(lambda f: f["type"] == "wait")
        # Nobody has been taken from this queue lately: no honest basis for an estimate.
        assert wait == {"type": "wait", "position": 1, "minutes": None, "open": True, "opens_at": None,
                        "emergency": "112"}
        second = await waiting_chat(open_server.url)
        contacts.append(second)
        assert (await second.wait_for(lambda f: f["type"] == "wait"))["position"] == 2

        assert (await anna.take_next())[0] == 200
        moved = await second.wait_for(lambda f: f["type"] == "wait")
        assert (moved["position"], moved["minutes"]) == (1, None)

        for _ in range(2):   # three claims in this queue now: an estimate from how fast they went
            contacts.append(await waiting_chat(open_server.url))
        assert (await anna.take_next())[0] == 200
        assert (await anna.take_next())[0] == 200
        estimate = await contacts[-1].wait_for(lambda f: f["type"] == "wait" and f["minutes"] is not None)
        assert estimate["position"] == 1 and estimate["minutes"] == 1   # three claims within seconds
    finally:
        await anna.close()
        for contact in contacts:
            await contact.close()


async def test_a_person_who_leaves_and_comes_back_gets_their_place(open_server: RunningServer) -> None:
    ahead = await waiting_chat(open_server.url)
    me = await waiting_chat(open_server.url)
    try:
        assert (await me.wait_for(lambda f: f["type"] == "wait"))["position"] == 2
        await me.disconnect()
        back = ChatClient(open_server.url, lang="en", token=me.token)
        await back.connect()
        wait = await back.wait_for(lambda f: f["type"] == "wait")
        assert wait["position"] == 2 and wait["emergency"] == "112"
        await back.close()
    finally:
        await ahead.close()
        await me.close()


async def test_out_of_hours_the_person_is_told_and_stays_in_the_queue(closed_server: RunningServer) -> None:
    contact = await waiting_chat(closed_server.url)
    try:
        wait = await contact.wait_for(lambda f: f["type"] == "wait")
        [answer] = [t for t in contact.texts("bot") if t.startswith("We are closed")]
        assert "Mika" in answer and "112" in answer
        assert (wait["open"], wait["minutes"], wait["opens_at"], wait["position"]) == (False, None, None, 1)
        assert contact.state == "queued"
    finally:
        await contact.close()


async def test_typing_indicators_travel_both_ways(open_server: RunningServer) -> None:
    await open_server.add_staff("anna")
    anna = ConsoleClient(open_server.url)
    contact = await waiting_chat(open_server.url)
    try:
        await anna.login("anna", PASSWORD)
        await anna.connect()
        status, body = await anna.take_next()
        conversation_id = body["conversation"]["id"]
        await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "active")
        assert contact.ws is not None and anna.ws is not None
        await contact.ws.send_json({"type": "typing"})
        frame = await anna.wait_for(lambda f: f["type"] == "typing")
        assert frame["conversation"] == conversation_id
        await anna.ws.send_json({"type": "typing", "conversation": conversation_id})
        await contact.wait_for(lambda f: f["type"] == "typing")
    finally:
        await anna.close()
        await contact.close()
