"""Two real `lotsa serve` workers on PostgreSQL (issue 15): what one worker missed while its
listening connection was down reaches its consoles and chats once it is back; a published triage
script reaches every worker when it is announced, not at the next poll; a supervisor's hold of the
acute lane holds it on every worker."""
from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from lotsa.admin.live import SAFETY_POLL_SECONDS
from lotsa.auth import add_user
from lotsa.db import Database
from lotsa.pg_events import connect_kwargs
from lotsa.settings import default_config_dir
from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.server import LOTSA, PASSWORD
from lotsa_testing.workers import Workers

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

A, B = 0, 1
GREETING = "Hi! Here you can talk anonymously"


@pytest.fixture
async def workers(tmp_path: Path, postgres_url: str) -> AsyncIterator[Workers]:
    db = Database(postgres_url)
    try:
        for name in ("c0", "c1"):
            await add_user(db, name, PASSWORD, "counsellor")
        for name in ("sup0", "sup1"):
            await add_user(db, name, PASSWORD, "supervisor")
    finally:
        await db.close()
    running = Workers(postgres_url, tmp_path, 2)
    await running.start()
    yield running
    await running.stop()


async def console(url: str, name: str) -> tuple[ConsoleClient, list[dict[str, Any]]]:
    """A console and every frame it got, as they arrive."""
    client, frames = ConsoleClient(url), list[dict[str, Any]]()
    client.on_frame = frames.append
    await client.login(name, PASSWORD)
    await client.connect()
    return client, frames


async def until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


async def queued_contact(url: str) -> ChatClient:
    chat = ChatClient(url, lang="en")
    await chat.connect()
    for choice in ("en", "sells", "skip"):
        await chat.choose(choice)
    await chat.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued", timeout=20)
    return chat


async def take(client: ConsoleClient) -> int:
    status, answer = await client.take_next()
    assert status == 200 and answer["conversation"] is not None, answer
    return int(answer["conversation"]["id"])


async def kill_listeners(url: str) -> None:
    """pg_terminate_backend on every worker's listening connection, and wait until they are gone."""
    admin = await asyncpg.connect(**connect_kwargs(url))
    try:
        pids = await admin.fetchval(
            "SELECT array_agg(pid) FROM pg_stat_activity "
            "WHERE application_name = 'lotsa-events' AND datname = current_database()")
        assert len(pids) == 2
        await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)
        while await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids):
            await asyncio.sleep(0.05)
    finally:
        await admin.close()


def got_message(frames: list[dict[str, Any]], conversation: int, text: str) -> Callable[[], bool]:
    return lambda: any(f["type"] == "message" and f["conversation"] == conversation and f["message"]["text"] == text
                       for f in frames)


async def test_a_console_and_a_chat_catch_up_on_what_their_worker_missed(workers: Workers, postgres_url: str) -> None:
    a, b = (w.url for w in workers.workers)
    (on_a, seen_on_a), (on_b, _) = await console(a, "c0"), await console(b, "c1")
    chat_on_b = await queued_contact(b)
    held_on_a = await take(on_a)            # c0 (on A) holds the conversation of a contact on B
    chat_on_a = await queued_contact(a)
    held_on_b = await take(on_b)            # c1 (on B) holds the one of a contact on A
    for chat in (chat_on_a, chat_on_b):
        await chat.wait_for(lambda f: f["type"] == "state" and f["state"] == "active")
    newcomer = None
    try:
        # Worker A stops; its listening connection is cut while it cannot notice. What happens on
        # B meanwhile is announced to nobody on A: A must read it once it is back.
        workers.pause(A)
        try:
            await kill_listeners(postgres_url)
            await chat_on_b.wait_acked(await chat_on_b.say("missed-1"))
            await on_b.send(held_on_b, "missed-2")
            newcomer = await queued_contact(b)
            waiting = {c["id"] for c in (await on_b.queue())["waiting"]}
            assert len(waiting) == 1
        finally:
            workers.resume(A)
        # The sockets on A stayed open (the test clients never reconnect) and catch up.
        await until(got_message(seen_on_a, held_on_a, "missed-1"))
        await until(lambda: {c["id"] for c in [f for f in seen_on_a if f["type"] == "queue"][-1]["waiting"]} == waiting)
        await until(lambda: "missed-2" in chat_on_a.texts())
        assert chat_on_a.texts("counsellor") == ["missed-2"]
        log = workers.workers[A].log.read_text()
        assert "event connection back: subscribers re-read" in log
        # And live again: B's next message reaches A's console as it happens.
        await chat_on_b.say("live-1")
        await until(got_message(seen_on_a, held_on_a, "live-1"))
        assert workers.errors() == []
    finally:
        for client in (chat_on_a, chat_on_b, newcomer):
            if client is not None:
                await client.close()
        await on_a.close()
        await on_b.close()


async def greeting_on(url: str) -> str:
    chat = ChatClient(url, lang="en")
    try:
        await chat.connect()
        frame = await chat.wait_for(lambda f: f["type"] == "message")
        return str(frame["text"])
    finally:
        await chat.close()


async def test_a_published_script_reaches_every_worker_when_it_is_announced(
        workers: Workers, tmp_path: Path) -> None:
    urls = [w.url for w in workers.workers]
    assert [(await greeting_on(url))[:len(GREETING)] for url in urls] == [GREETING] * len(urls)
    script = (default_config_dir() / "triage" / "default.yaml").read_text(encoding="utf-8")
    (tmp_path / "warmer.yaml").write_text(script.replace(GREETING, "Hello! Here you can talk anonymously"))
    published = await asyncio.to_thread(
        subprocess.run, [*LOTSA, "triage", "publish", "warmer.yaml", "--comment", "a warmer hello"],
        cwd=tmp_path, env={**os.environ, **workers.environment(A)}, capture_output=True, text=True, timeout=60)
    assert published.returncode == 0, published.stderr
    # From another process than either worker: both switch on its NOTIFY, long before their poll.
    deadline = asyncio.get_running_loop().time() + SAFETY_POLL_SECONDS / 3
    switched: set[str] = set()
    while len(switched) < len(urls) and asyncio.get_running_loop().time() < deadline:
        for url in urls:
            if (await greeting_on(url)).startswith("Hello!"):
                switched.add(url)
        await asyncio.sleep(0.2)
    assert switched == set(urls)


async def test_a_supervisor_holds_the_acute_lane_on_every_worker(workers: Workers) -> None:
    (sup_a, seen_a), (sup_b, seen_b) = await console(workers.workers[A].url, "sup0"), \
        await console(workers.workers[B].url, "sup1")
    try:
        def held(frames: list[dict[str, Any]]) -> bool:
            return [f for f in frames if f["type"] == "queue"][-1]["supervisor"]["acute_held"]
        assert not held(seen_a) and not held(seen_b)
        assert await sup_a.post("/api/console/acute-hold", {"hold": True}) == (200, {"held": True, "released": 0})
        await until(lambda: held(seen_a) and held(seen_b))
        assert await sup_b.post("/api/console/acute-hold", {"hold": False}) == (200, {"held": False, "released": 0})
        await until(lambda: not held(seen_a) and not held(seen_b))
    finally:
        await sup_a.close()
        await sup_b.close()
