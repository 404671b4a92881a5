"""A flood of new conversations never turns a real person away and never pushes one down the line:
newcomers beyond the limits go in line behind everyone who came before, even when acute."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from lotsa import appkeys
from lotsa.client_address import address_key
from lotsa.flood import NewConversations, RecentMessages
from lotsa.models import AuditEntry, Conversation
from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.queue import queue_position
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server

PER_ADDRESS = 3
ACUTE = "hjälp han slår mig nu"


@pytest.fixture
async def limited(tmp_path: Path, any_database_url: str) -> AsyncIterator[RunningServer]:
    test_server, running = await start_server(make_settings(
        tmp_path, any_database_url, new_conversations_per_address_per_minute=PER_ADDRESS,
        new_conversations_per_minute=1000, trusted_proxies=["127.0.0.1"]))
    yield running
    await test_server.close()


async def _position(server: RunningServer, conversation_id: int) -> int | None:
    async with server.app[appkeys.DB].read() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return await queue_position(session, conversation)


async def test_a_flood_from_one_address_does_not_push_a_real_contact(limited: RunningServer) -> None:
    memory = limited.memory
    real = (await memory.write("+46700000701", ACUTE, client=address_key("198.51.100.7"))).conversation_id
    assert await _position(limited, real) == 1
    flood = [(await memory.write(f"+4670000{i:04d}", ACUTE, client=address_key("203.0.113.66"))).conversation_id
             for i in range(20)]
    assert await _position(limited, real) == 1
    positions = [await _position(limited, c) for c in flood]
    assert positions == list(range(2, 22))
    later = (await memory.write("+46700000702", ACUTE, client=address_key("198.51.100.8"))).conversation_id
    assert await _position(limited, later) == 2 + PER_ADDRESS   # behind those before it, above the surge
    pipeline = limited.app[appkeys.PIPELINE]
    assert pipeline.flood.surging() and pipeline.flood.surged == 20 - PER_ADDRESS

    await limited.add_staff("sara", role="supervisor")
    sara = ConsoleClient(limited.url)
    try:
        await sara.login("sara", PASSWORD)
        frame = await sara.connect()
        assert frame["supervisor"]["surge"] is True
        waiting = frame["waiting"]
        assert [c["id"] for c in waiting][:2 + PER_ADDRESS] == [real, *flood[:PER_ADDRESS], later]
        assert [c["surge"] for c in waiting] == [False] * (2 + PER_ADDRESS) + [True] * (20 - PER_ADDRESS)
        told = await sara.conversation(flood[-1])
        assert any("Many people are writing" in m["text"] or "Många skriver" in m["text"]
                   for m in told["messages"])
    finally:
        await sara.close()


async def test_the_web_chat_counts_the_address_behind_a_trusted_proxy(limited: RunningServer) -> None:
    chats = [ChatClient(limited.url, lang="en", forwarded_for="203.0.113.67") for _ in range(PER_ADDRESS + 1)]
    try:
        for chat in chats:
            await chat.connect()
            cid = await chat.say("hello")
            await chat.wait_acked(cid)
        assert limited.app[appkeys.PIPELINE].flood.surged == 1
        other = ChatClient(limited.url, lang="en", forwarded_for="198.51.100.9")
        await other.connect()
        await other.wait_acked(await other.say("hello"))
        assert limited.app[appkeys.PIPELINE].flood.surged == 1
        await other.close()
    finally:
        for chat in chats:
            await chat.close()


async def _conversation(server: RunningServer, conversation_id: int) -> Conversation:
    async with server.app[appkeys.DB].read() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation


async def test_a_held_acute_lane_ranks_acute_newcomers_with_routine_ones_until_they_answer_again(
        limited: RunningServer) -> None:
    memory = limited.memory
    await limited.add_staff("sara", role="supervisor")
    await limited.add_staff("cara")
    sara, cara = ConsoleClient(limited.url), ConsoleClient(limited.url)
    try:
        await sara.login("sara", PASSWORD)
        await cara.login("cara", PASSWORD)
        assert (await cara.post("/api/console/acute-hold", {"hold": True}))[0] == 403
        status, answer = await sara.post("/api/console/acute-hold", {"hold": "yes"})
        assert (status, answer["error"]) == (400, "bad_hold")
        assert await sara.post("/api/console/acute-hold", {"hold": True}) == (200, {"held": True, "released": 0})
        frame = await sara.connect()
        assert frame["supervisor"]["acute_held"] is True

        bot = (await memory.write("+46700000901", ACUTE, client=address_key("203.0.113.70"))).conversation_id
        real_address, real_client = "+46700000902", address_key("198.51.100.70")
        for text in ("hej", "2"):                        # the greeting's question, then a second one
            await memory.write(real_address, text, client=real_client)
        real = (await memory.write(real_address, ACUTE, client=real_client)).conversation_id
        held = await _conversation(limited, bot)
        assert (held.state, held.risk, held.queue) == ("queued", "acute", "acute")   # still shown acute
        assert await _position(limited, real) == 1 and await _position(limited, bot) == 2
        asked = await sara.conversation(bot)
        assert any("Write in a few words" in m["text"] or "Skriv med några ord" in m["text"]
                   for m in asked["messages"])

        await memory.write("+46700000901", "han står utanför dörren")   # the second answer
        assert await _position(limited, bot) == 1 and await _position(limited, real) == 2

        later = (await memory.write("+46700000903", ACUTE, client=address_key("203.0.113.71"))).conversation_id
        assert await _position(limited, later) == 3 and (await _conversation(limited, later)).risk_rank == 2
        assert await sara.post("/api/console/acute-hold", {"hold": False}) == (200, {"held": False, "released": 1})
        assert (await _conversation(limited, later)).risk_rank == 0   # released: its acute place again
        async with limited.app[appkeys.DB].read() as session:
            actions = (await session.execute(select(AuditEntry.action, AuditEntry.detail)
                                             .where(AuditEntry.action == "surge.acute_hold"))).all()
        assert [d["held"] for _, d in actions] == ["no → yes", "yes → no"]
    finally:
        await sara.close()
        await cara.close()


def test_limits_per_address_and_overall() -> None:
    limit = NewConversations(per_address_per_minute=2, per_minute=4)
    assert [limit.admit("a", now=t) for t in (0, 1, 2, 2.5)] == [True, True, False, False]
    assert limit.admit("b", now=3) is True           # a's flood did not use up everyone's allowance
    assert limit.admit(None, now=3.5) is True
    assert limit.admit("c", now=4) is False          # four admitted in the minute: the overall limit
    assert limit.admit("a", now=70) is True          # a minute later the window is free again
    assert limit.surging(now=70) and not limit.surging(now=4 + 301)


def test_recent_messages_count_each_contact_over_the_last_minute() -> None:
    recent = RecentMessages()
    for second in range(5):
        recent.add(1, now=100.0 + second)
    recent.add(2, now=100.0)
    assert recent.count(1, now=104.0) == 5
    assert recent.count(2, now=104.0) == 1
    assert recent.count(3, now=104.0) == 0
    assert recent.count(1, now=162.5) == 2   # those of seconds 103 and 104 are still within the minute
    assert recent.count(2, now=162.5) == 0
