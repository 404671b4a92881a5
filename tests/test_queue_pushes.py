"""Queue pushes under a burst of changes: one database read per change for all consoles, at most
one queue (or position) frame per interval per connection with the last one showing the final
state, and messages that never wait for any of it."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lotsa import appkeys, coalesce
from lotsa.coalesce import Coalescer
from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer

INTERVAL = 1.0
"""The push interval in these tests: long enough that a burst on a slow machine fits inside it."""

Timed = list[tuple[float, dict[str, Any]]]


def now() -> float:
    return asyncio.get_running_loop().time()


def record(client: ConsoleClient | ChatClient) -> Timed:
    """Every frame the client gets from now on, with the time it arrived."""
    frames: Timed = []
    client.on_frame = lambda frame: frames.append((now(), frame))
    return frames


def of_type(frames: Timed, kind: str) -> Timed:
    return [(t, f) for t, f in frames if f["type"] == kind]


async def test_a_coalescer_pushes_the_first_at_once_and_merges_the_rest() -> None:
    pushes: list[float] = []

    async def push() -> None:
        pushes.append(now())
        await asyncio.sleep(0.01)

    async with Coalescer(push, 0.2) as coalescer:
        start = now()
        for _ in range(10):          # a burst of ten changes within 0.1 s
            coalescer.trigger()
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)
    assert len(pushes) == 2
    assert pushes[0] - start < 0.05                    # the first change: at once
    assert pushes[1] - pushes[0] == pytest.approx(0.2, abs=0.05)   # the rest: one trailing push


async def test_a_trigger_during_a_push_gets_a_push_of_its_own() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    pushes = 0

    async def push() -> None:
        nonlocal pushes
        pushes += 1
        started.set()
        await release.wait()

    async with Coalescer(push, 0.05) as coalescer:
        coalescer.trigger()
        await started.wait()
        coalescer.trigger()          # the running push may have read the state before this change
        release.set()
        await asyncio.sleep(0.2)
    assert pushes == 2


async def triaged(server: RunningServer, address: str) -> int:
    for text in ("hello", "2", "1", "skip"):   # English, "sells", no more questions
        accepted = await server.memory.write(address, text)
    return accepted.conversation_id


async def logged_in(server: RunningServer, name: str, role: str = "counsellor") -> ConsoleClient:
    await server.add_staff(name, role, max_chats=10)
    client = ConsoleClient(server.url)
    await client.login(name, PASSWORD)
    return client


async def test_a_burst_of_queue_changes_is_one_read_and_at_most_two_frames_per_console(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coalesce, "PUSH_SECONDS", INTERVAL)
    addresses = [f"+4670000050{n}" for n in range(5)]
    waiting = [await triaged(server, address) for address in addresses]
    held = await triaged(server, "+46700000599")
    anna, bo = await logged_in(server, "anna"), await logged_in(server, "bo")
    sara = await logged_in(server, "sara", "supervisor")
    consoles = (anna, bo, sara)
    try:
        assert await anna.claim(held) == 200
        for client in consoles:
            await client.connect()
        await asyncio.sleep(INTERVAL)   # the frame after connecting no longer counts
        frames = {client: record(client) for client in consoles}
        snapshots = server.app[appkeys.QUEUE_STATE]
        reads_before = snapshots.reads

        burst_started = now()
        await server.memory.write(addresses[0], "hjälp han slår mig nu")   # a red flag: acute, re-routed
        said_at = now()
        await server.memory.write("+46700000599", "Thank you for listening")
        for address in addresses[1:]:
            await server.memory.write(address, "hjälp han slår mig nu")
        assert now() - burst_started < INTERVAL, "the burst took longer than the interval: the machine is too slow"
        await asyncio.sleep(2.5 * INTERVAL)

        assert snapshots.reads - reads_before <= 2     # shared by the three consoles
        for client in consoles:
            queue_frames = of_type(frames[client], "queue")
            assert 1 <= len(queue_frames) <= 2
            last = queue_frames[-1][1]
            assert [c["id"] for c in last["waiting"]] == waiting
            assert {(c["risk"], c["queue"]) for c in last["waiting"]} == {("acute", "acute")}
        assert [c["id"] for c in of_type(frames[anna], "queue")[-1][1]["mine"]] == [held]
        assert "supervisor" in of_type(frames[sara], "queue")[-1][1]

        def arrivals(client: ConsoleClient) -> list[float]:
            return [t for t, f in of_type(frames[client], "message")
                    if f["conversation"] == held and f["message"]["text"] == "Thank you for listening"]
        [arrived] = arrivals(anna)
        assert arrived - said_at < INTERVAL / 2        # the message did not wait for the trailing push
        assert len(arrivals(sara)) == 1 and arrivals(bo) == []
    finally:
        for client in consoles:
            await client.close()


async def waiting_contact(url: str) -> ChatClient:
    contact = ChatClient(url, lang="en")
    await contact.connect()
    for choice in ("en", "sells", "skip"):
        await contact.choose(choice)
    await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued")
    return contact


async def test_a_waiting_chat_gets_its_place_at_most_twice_per_burst_and_messages_at_once(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coalesce, "PUSH_SECONDS", INTERVAL)
    contacts: list[ChatClient] = []
    anna = await logged_in(server, "anna")
    try:
        for _ in range(4):
            contacts.append(await waiting_contact(server.url))
        last = contacts[-1]
        await asyncio.sleep(1.5 * INTERVAL)   # the queue settles: the last in line is told 4
        assert (last.state, last.position) == ("queued", 4)
        frames = record(last)

        burst_started = now()
        assert (await anna.take_next())[0] == 200
        said_at = now()
        cid = await last.say("Still here")
        for _ in range(2):
            assert (await anna.take_next())[0] == 200
        assert now() - burst_started < INTERVAL, "the burst took longer than the interval: the machine is too slow"
        await asyncio.sleep(2.5 * INTERVAL)

        states, waits = of_type(frames, "state"), of_type(frames, "wait")
        assert 1 <= len(states) <= 2 and 1 <= len(waits) <= 2
        assert (states[-1][1]["state"], states[-1][1]["position"]) == ("queued", 1)
        assert waits[-1][1]["position"] == 1
        [(echoed, _)] = [(t, f) for t, f in of_type(frames, "message") if f["cid"] == cid]
        assert echoed - said_at < INTERVAL / 2
    finally:
        await anna.close()
        for contact in contacts:
            await contact.close()
