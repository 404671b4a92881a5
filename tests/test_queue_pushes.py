"""Queue pushes under a burst of changes: one database read per change for all consoles, at most
one queue (or position) frame per interval per connection with the last one showing the final
state, and messages that never wait for any of it.

These run on busy two-core machines, so they assert counts and order rather than elapsed
milliseconds. The only clock bounds left are generous ones the coalescer's design makes safe: a
burst must fit in one push interval (checked, with a clear message), and the first push must come
well before the interval ends."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from lotsa import appkeys, coalesce
from lotsa.coalesce import Coalescer
from lotsa_testing.clients import ChatClient, ConsoleClient, waiting_chat
from lotsa_testing.server import RunningServer

INTERVAL = 2.0
"""The push interval in these tests: long enough that a burst on a slow, busy machine fits inside it."""

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


async def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


def first_index(frames: Timed, matches: Callable[[dict[str, Any]], bool]) -> int:
    """Where in the order of arrival the first frame matching `matches` is."""
    return next(i for i, (_, frame) in enumerate(frames) if matches(frame))


async def test_a_coalescer_pushes_the_first_at_once_and_merges_the_rest() -> None:
    """The burst after the first push is triggered with no await in between, so it falls inside one
    interval however slow the machine: exactly one trailing push must follow, never sooner than the
    interval after the first (the coalescer sleeps at least that long, so the bound is exact). "At
    once" is checked against half the interval, far more than starting one task ever takes."""
    interval = 1.0
    pushes: list[float] = []

    async def push() -> None:
        pushes.append(now())

    async with Coalescer(push, interval) as coalescer:
        start = now()
        coalescer.trigger()
        await wait_until(lambda: len(pushes) == 1)
        for _ in range(9):           # a burst of nine more changes
            coalescer.trigger()
        await wait_until(lambda: len(pushes) == 2)
        await asyncio.sleep(1.5 * interval)    # and nothing after it
    assert len(pushes) == 2
    assert pushes[0] - start < interval / 2                  # the first change: at once
    assert pushes[1] - pushes[0] >= interval * 0.99          # the rest: one trailing push, an interval later


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
        await wait_until(lambda: pushes == 2)
        await asyncio.sleep(0.2)     # and no third
    assert pushes == 2


async def triaged(server: RunningServer, address: str) -> int:
    for text in ("hello", "2", "1", "skip"):   # English, "sells", no more questions
        accepted = await server.memory.write(address, text)
    return accepted.conversation_id


async def test_a_burst_of_queue_changes_is_one_read_and_at_most_two_frames_per_console(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coalesce, "PUSH_SECONDS", INTERVAL)
    addresses = [f"+4670000050{n}" for n in range(5)]
    waiting = [await triaged(server, address) for address in addresses]
    held = await triaged(server, "+46700000599")
    anna, bo = await server.logged_in("anna", max_chats=10), await server.logged_in("bo", max_chats=10)
    sara = await server.logged_in("sara", "supervisor", max_chats=10)
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
        await server.memory.write("+46700000599", "Thank you for listening")
        for address in addresses[1:]:
            await server.memory.write(address, "hjälp han slår mig nu")
        assert now() - burst_started < INTERVAL, "the burst took longer than the interval: the machine is too slow"

        def final(frame: dict[str, Any]) -> bool:
            return frame["type"] == "queue" and [c["id"] for c in frame["waiting"]] == waiting and all(
                (c["risk"], c["queue"]) == ("acute", "acute") for c in frame["waiting"])
        await wait_until(lambda: all(any(final(f) for _, f in frames[client]) for client in consoles))
        await asyncio.sleep(INTERVAL + 0.5)     # a push too many would come within an interval of the last

        assert snapshots.reads - reads_before <= 2     # shared by the three consoles
        for client in consoles:
            queue_frames = of_type(frames[client], "queue")
            assert 1 <= len(queue_frames) <= 2
            assert final(queue_frames[-1][1])
        assert [c["id"] for c in of_type(frames[anna], "queue")[-1][1]["mine"]] == [held]
        assert "supervisor" in of_type(frames[sara], "queue")[-1][1]

        def said(frame: dict[str, Any]) -> bool:
            return (frame["type"] == "message" and frame["conversation"] == held
                    and frame["message"]["text"] == "Thank you for listening")
        for client in (anna, sara):
            assert [f for _, f in frames[client] if said(f)] != []
            # Said before the last re-route, so it did not wait for the trailing push that shows it.
            assert first_index(frames[client], said) < first_index(frames[client], final)
        assert [f for _, f in frames[bo] if said(f)] == []
    finally:
        for client in consoles:
            await client.close()



async def test_a_waiting_chat_gets_its_place_at_most_twice_per_burst_and_messages_at_once(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coalesce, "PUSH_SECONDS", INTERVAL)
    contacts: list[ChatClient] = []
    anna = await server.logged_in("anna", max_chats=10)
    try:
        for _ in range(4):
            contacts.append(await waiting_chat(server.url))
        last = contacts[-1]
        await asyncio.sleep(1.5 * INTERVAL)   # the queue settles: the last in line is told 4
        assert (last.state, last.position) == ("queued", 4)
        frames = record(last)

        burst_started = now()
        assert (await anna.take_next())[0] == 200
        cid = await last.say("Still here")
        for _ in range(2):
            assert (await anna.take_next())[0] == 200
        assert now() - burst_started < INTERVAL, "the burst took longer than the interval: the machine is too slow"

        def first_in_line(frame: dict[str, Any]) -> bool:
            return frame["type"] == "state" and (frame["state"], frame["position"]) == ("queued", 1)
        await wait_until(lambda: any(first_in_line(f) for _, f in frames))
        await asyncio.sleep(INTERVAL + 0.5)     # a push too many would come within an interval of the last

        states, waits = of_type(frames, "state"), of_type(frames, "wait")
        assert 1 <= len(states) <= 2 and 1 <= len(waits) <= 2
        assert first_in_line(states[-1][1])
        assert waits[-1][1]["position"] == 1

        def echo(frame: dict[str, Any]) -> bool:
            return frame["type"] == "message" and frame["cid"] == cid
        assert len([f for _, f in frames if echo(f)]) == 1
        # Said before the last two were taken, so it did not wait for the trailing push that tells place 1.
        assert first_index(frames, echo) < first_index(frames, first_in_line)
    finally:
        await anna.close()
        for contact in contacts:
            await contact.close()
