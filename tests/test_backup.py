"""`lotsa db backup FILE` while the service takes messages: the copy, opened as a database, holds
every message acknowledged before the backup started; on PostgreSQL the command refuses and says
what to use instead."""
from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from lotsa.db import Database, head_revision
from lotsa.models import Message
from lotsa_testing.clients import ChatClient
from lotsa_testing.server import LOTSA, RunningServer, make_settings, start_server

WRITERS = 20
PACE = 0.55
"""Seconds between one writer's messages: a chat socket takes 2 a second after a burst (bot/webchat.py)."""


@pytest.fixture
async def busy_server(tmp_path: Path, database_url: str) -> AsyncIterator[RunningServer]:
    test_server, running = await start_server(make_settings(tmp_path, database_url,
                                                            contact_messages_per_minute=100_000))
    yield running
    await test_server.close()


async def write_until(chat: ChatClient, n: int, stop: asyncio.Event, acked: list[tuple[float, str]]) -> None:
    """Send messages one after the other; note when each was acknowledged (stored)."""
    k = 0
    while not stop.is_set():
        text = f"load-{n}-{k}"
        await chat.wait_acked(await chat.say(text))
        acked.append((time.monotonic(), text))
        k += 1
        await asyncio.sleep(PACE)


async def test_a_backup_taken_under_load_holds_every_acknowledged_message(busy_server: RunningServer,
                                                                        tmp_path: Path) -> None:
    database = busy_server.settings.effective_database_url
    chats = [ChatClient(busy_server.url, lang="en") for _ in range(WRITERS)]
    acked: list[tuple[float, str]] = []
    stop = asyncio.Event()
    for chat in chats:
        await chat.connect()
    writing = [asyncio.create_task(write_until(chat, n, stop, acked)) for n, chat in enumerate(chats)]
    try:
        await asyncio.sleep(2.0)
        started = time.monotonic()
        backup = tmp_path / "copy.db"
        process = await asyncio.create_subprocess_exec(
            *LOTSA, "db", "backup", str(backup), "--database", database, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await process.communicate()
        finished = time.monotonic()
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.gather(*writing)
        for chat in chats:
            await chat.close()
    assert process.returncode == 0, err.decode()
    assert "backup written" in out.decode()
    before = {text for at, text in acked if at < started}
    assert len(before) > 30 and any(started <= at <= finished for at, _ in acked)   # it was under load

    restored = Database(f"sqlite+aiosqlite:///{backup}")
    try:
        assert await restored.current_revision() == head_revision()
        async with restored.read() as session:
            in_copy = set((await session.execute(select(Message.text).where(Message.text.like("load-%")))).scalars())
    finally:
        await restored.close()
    assert before <= in_copy
    with sqlite3.connect(backup) as plain:
        assert plain.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backup_refuses_an_existing_file_and_postgresql(tmp_path: Path, database_url: str) -> None:
    taken = tmp_path / "taken.db"
    taken.write_text("keep me")
    refused = subprocess.run(LOTSA + ["db", "backup", str(taken), "--database", database_url],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "exists already" in refused.stderr
    assert taken.read_text() == "keep me"
    postgres = subprocess.run(LOTSA + ["db", "backup", str(tmp_path / "x.db"), "--database",
                                       "postgresql+asyncpg://lotsa@127.0.0.1/lotsa"],
                              capture_output=True, text=True, timeout=60)
    assert postgres.returncode == 2 and "pg_dump" in postgres.stderr and "README" in postgres.stderr
    assert not (tmp_path / "x.db").exists()
