"""Three real `lotsa serve` workers on one PostgreSQL database (issue 15): 200 web chats and 20
counsellor consoles spread across them, then one worker killed with SIGKILL in the middle of it.

Checked: every message reaches the right side exactly once, no conversation is claimed twice,
every console sees every queue change (none missed or stalled), a supervisor alert fires once, and the
contacts of the killed worker reconnect to another one and lose nothing."""
from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from yarl import URL

from lotsa.auth import add_user
from lotsa.db import Database
from lotsa.models import Conversation, Message, SupervisorAlert
from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.server import PASSWORD
from lotsa_testing.workers import Workers

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

WORKERS, CONTACTS, COUNSELLORS = 3, 200, 20
ACUTE_TEXT = "hjälp han slår mig nu och jag är 16"
SEEN_WITHIN = 5.0
"""A console must see every queue change, from whichever worker, and not stall: this bound catches a
change missed or held up. How fast changes arrive is a figure, printed by `benchmarks/scaleout.py`
(queue p50/p99/max) and not asserted here: issue 15 asks for 1 s; on a quiet 2-core machine three
workers with 200 contacts and 20 consoles showed every change within 880 ms (p99 672 ms), under a
load average of 3-10 at p99 1.2-1.8 s (benchmarks/RESULTS.md)."""
T = TypeVar("T")


class Watched:
    """Every frame a client got, with the wall-clock time it arrived (the database's times are
    wall-clock too: the same machine)."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, dict[str, Any]]] = []

    def __call__(self, frame: dict[str, Any]) -> None:
        self.frames.append((time.time(), frame))

    def of(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, f) for t, f in self.frames if f["type"] == kind]


async def bounded(limit: int, jobs: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs side by side, at most `limit` at once (2 cores: a burst of 200 handshakes at
    once would measure the machine, not the service)."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()
    return await asyncio.gather(*(one(job) for job in jobs))


@pytest.fixture
async def workers(tmp_path: Path, postgres_url: str) -> AsyncIterator[Workers]:
    db = Database(postgres_url)
    try:
        for n in range(COUNSELLORS):
            await add_user(db, f"c{n}", PASSWORD, "counsellor", max_chats=12)
        for n in range(WORKERS):
            await add_user(db, f"sup{n}", PASSWORD, "supervisor")
    finally:
        await db.close()
    running = Workers(postgres_url, tmp_path, WORKERS, {"alert_check_seconds": "0.3"})
    await running.start()
    yield running
    await running.stop()


async def console(url: str, name: str) -> tuple[ConsoleClient, Watched]:
    client, watched = ConsoleClient(url), Watched()
    client.on_frame = watched
    await client.login(name, PASSWORD)
    await client.connect()
    return client, watched


async def contact(url: str, n: int) -> tuple[ChatClient, Watched]:
    """Contact 0 writes an acute first message (straight to the acute queue); the others answer triage."""
    client, watched = ChatClient(url, lang="sv" if n == 0 else "en"), Watched()
    client.on_frame = watched
    await client.connect()
    if n == 0:
        await client.say(ACUTE_TEXT)
    else:
        for choice in ("en", "sells", "skip"):
            await client.choose(choice)
    await client.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued", timeout=30)
    return client, watched


def waiting_ids(frame: dict[str, Any]) -> set[int]:
    return {c["id"] for c in frame["waiting"]}


def seen_late(watched: Watched, changes: dict[int, datetime], shown: bool) -> list[tuple[int, float]]:
    """(conversation, seconds) for each change this console saw later than SEEN_WITHIN (or never):
    `shown`, the conversation appeared in the waiting list; else it left it."""
    late = []
    queue_frames = watched.of("queue")
    for conversation_id, at in changes.items():
        since = at.timestamp()
        seen = next((t for t, f in queue_frames if t >= since and (conversation_id in waiting_ids(f)) == shown), None)
        if seen is None or seen - since > SEEN_WITHIN:
            late.append((conversation_id, round(seen - since, 2) if seen else float("inf")))
    return late


async def conversation_times(url: str, column: Any) -> dict[int, datetime]:
    db = Database(url)
    try:
        async with db.read() as session:
            return {i: at for i, at in (await session.execute(select(Conversation.id, column))).all() if at}
    finally:
        await db.close()


async def take_all(client: ConsoleClient, everyone: list[int]) -> list[int]:
    """Take the next conversation until all are taken (`everyone`: what all counsellors took) or
    this counsellor is full. "Nothing waiting" may mean that the rest are being taken right now
    (take-next skips rows another claim holds): ask again."""
    taken = []
    while len(everyone) < CONTACTS:
        status, answer = await client.take_next()
        if status == 409 and answer.get("error") == "at_capacity":
            break
        assert status == 200, answer
        if answer["conversation"] is None:
            await asyncio.sleep(0.05)
            continue
        taken.append(answer["conversation"]["id"])
        everyone.append(answer["conversation"]["id"])
    return taken


async def test_three_workers_serve_200_chats_and_20_consoles_and_survive_a_sigkill(
        workers: Workers, postgres_url: str) -> None:
    urls = [w.url for w in workers.workers]
    supervisors = [await console(urls[n], f"sup{n}") for n in range(WORKERS)]
    counsellors = await bounded(5, [lambda n=n: console(urls[n % WORKERS], f"c{n}") for n in range(COUNSELLORS)])
    contacts = await bounded(40, [lambda n=n: contact(urls[n % WORKERS], n) for n in range(CONTACTS)])
    try:
        await _queue_changes_and_claims(postgres_url, counsellors, supervisors)
        by_conversation = await _first_messages(contacts, counsellors)
        await _sigkill_midway(workers, postgres_url, contacts, counsellors, by_conversation)
        assert workers.errors() == []
    finally:
        for client, _ in [*supervisors, *counsellors]:
            await client.close()
        for chat, _ in contacts:
            await chat.close()


async def _queue_changes_and_claims(url: str, counsellors: list[tuple[ConsoleClient, Watched]],
                                    supervisors: list[tuple[ConsoleClient, Watched]]) -> None:
    await asyncio.sleep(SEEN_WITHIN + 0.5)   # the last arrivals' frames
    queued = await conversation_times(url, Conversation.queued_at)
    assert len(queued) == CONTACTS
    everyone = [*counsellors, *supervisors]
    for _, watched in everyone:
        assert seen_late(watched, queued, shown=True) == []

    # The acute contact: one alert, on every supervisor's console (one per worker), whoever checks.
    acute = [(f["conversation"], f["reason"]) for _, watched in supervisors for _, f in watched.of("alert")]
    assert len(acute) == WORKERS and len(set(acute)) == 1 and acute[0][1] == "acute"
    assert not any(watched.of("alert") for _, watched in counsellors)

    everyone_took: list[int] = []
    taken = await asyncio.gather(*(take_all(client, everyone_took) for client, _ in counsellors))
    claimed = [conversation for mine in taken for conversation in mine]
    assert sorted(claimed) == sorted(queued)   # every one taken, none twice
    await asyncio.sleep(SEEN_WITHIN + 0.5)
    claims = await conversation_times(url, Conversation.claimed_at)
    for _, watched in everyone:
        assert seen_late(watched, claims, shown=False) == []
    db = Database(url)
    try:
        async with db.read() as session:
            assert (await session.execute(select(func.count()).select_from(SupervisorAlert))).scalar() == 1
    finally:
        await db.close()


async def _first_messages(contacts: list[tuple[ChatClient, Watched]],
                          counsellors: list[tuple[ConsoleClient, Watched]]) -> dict[int, int]:
    """Each contact writes once and its counsellor answers, across workers: {conversation: contact}."""
    for chat, _ in contacts:
        await chat.wait_for(lambda f: f["type"] == "state" and f["state"] == "active", timeout=20)
    sent = [(chat, await chat.say(f"hello-{n}")) for n, (chat, _) in enumerate(contacts)]
    await asyncio.gather(*(chat.wait_acked(cid) for chat, cid in sent))
    by_conversation = await _console_saw(counsellors, "hello", range(CONTACTS))
    holders = _holders(counsellors)
    await bounded(50, [lambda c=c, n=n: holders[c].send(c, f"reply-{n}") for c, n in by_conversation.items()])
    await _contacts_got(contacts, "reply", range(CONTACTS))
    return by_conversation


def _holders(counsellors: list[tuple[ConsoleClient, Watched]]) -> dict[int, ConsoleClient]:
    """Which console holds each conversation, from the queue frames each got last."""
    holders = {}
    for client, watched in counsellors:
        _, last = watched.of("queue")[-1]
        holders.update({c["id"]: client for c in last["mine"]})
    return holders


async def _console_saw(counsellors: list[tuple[ConsoleClient, Watched]], prefix: str, expected: range | list[int],
                       only: bool = False, timeout: float = 15) -> dict[int, int]:
    """Wait until the holders' consoles got every contact's `prefix-<n>` message, each once:
    {conversation: n}. `only`: messages of other contacts may have come too (at most once)."""
    deadline = time.monotonic() + timeout
    while True:
        got: Counter[tuple[int, int]] = Counter()
        for _, watched in counsellors:
            for _, frame in watched.of("message"):
                text = frame["message"]["text"]
                if frame["message"]["author"] == "contact" and text.startswith(prefix + "-"):
                    got[(frame["conversation"], int(text.split("-")[1]))] += 1
        if {n for _, n in got} >= set(expected) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    seen = {n for _, n in got}
    assert seen >= set(expected) if only else seen == set(expected)
    assert set(got.values()) <= {1}
    return {conversation: n for conversation, n in got}


async def _contacts_got(contacts: list[tuple[ChatClient, Watched]], prefix: str, expected: range,
                        timeout: float = 15) -> None:
    """Every contact got its own `prefix-<n>` answer, once, and nobody else's."""
    deadline = time.monotonic() + timeout
    while True:
        texts = [[f["text"] for _, f in watched.of("message") if f["text"].startswith(prefix + "-")]
                 for _, watched in contacts]
        if all(texts[n] for n in expected) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert [texts[n] for n in expected] == [[f"{prefix}-{n}"] for n in expected]


async def _sigkill_midway(workers: Workers, url: str, contacts: list[tuple[ChatClient, Watched]],
                          counsellors: list[tuple[ConsoleClient, Watched]], by_conversation: dict[int, int]) -> None:
    """Contacts write while worker 2 is killed; those it served reconnect to the others, and so do
    its counsellors; every message is stored once and reaches the other side."""
    victim, survivors = WORKERS - 1, [w.url for w in workers.workers[:WORKERS - 1]]

    async def write(n: int, chat: ChatClient) -> None:
        await asyncio.sleep(random.uniform(0, 1.0))
        await chat.say(f"second-{n}")

    writing = asyncio.gather(*(write(n, chat) for n, (chat, _) in enumerate(contacts)))
    await asyncio.sleep(0.5)
    workers.kill(victim)
    await writing
    moved = [n for n in range(CONTACTS) if n % WORKERS == victim]
    for n in moved:
        chat = contacts[n][0]
        await chat.disconnect()
        chat.base = URL(survivors[n % len(survivors)])
        await chat.connect()   # resumes with its token; what was not acknowledged is sent again
    await asyncio.gather(*(chat.wait_acked(cid) for chat, _ in contacts for cid in list(chat.pending)))

    db = Database(url)
    try:
        async with db.read() as session:
            stored = Counter((await session.execute(
                select(Message.text).where(Message.text.like("second-%")))).scalars().all())
    finally:
        await db.close()
    assert stored == Counter({f"second-{n}": 1 for n in range(CONTACTS)})

    for index, (client, _) in enumerate(counsellors):
        if index % WORKERS == victim:
            await client.close()
            counsellors[index] = await console(survivors[index % len(survivors)], f"c{index}")
    # Consoles that stayed connected saw each message of a contact on a surviving worker once, live;
    # a moved console reads what it missed (the page reloads the conversation it shows).
    stayed = [c for i, c in enumerate(counsellors) if i % WORKERS != victim]
    held = _holders(stayed)
    live = [n for c, n in by_conversation.items() if c in held and n % WORKERS != victim]
    await _console_saw(stayed, "second", live, only=True)
    holders = _holders(counsellors)
    for conversation, n in by_conversation.items():
        transcript = (await holders[conversation].conversation(conversation))["messages"]
        assert [m["text"] for m in transcript].count(f"second-{n}") == 1
    await bounded(50, [lambda c=c, n=n: holders[c].send(c, f"answer-{n}") for c, n in by_conversation.items()])
    await _contacts_got(contacts, "answer", range(CONTACTS))
