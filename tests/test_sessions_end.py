"""A staff session that ends (log-out, idle or absolute expiry, a disabled account) closes its
console sockets at once; with no heartbeat left, presence and the drop-off follow."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lotsa import appkeys
from lotsa.events import SESSION_TOPIC, Event
from lotsa.models import Conversation, StaffSession, StaffUser, utcnow
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server

SESSION_ENDED = 4401


async def triaged(server: RunningServer, address: str) -> int:
    for text in ("hello", "2", "1"):
        await server.memory.write(address, text)
    return (await server.memory.write(address, "skip")).conversation_id


@pytest.fixture
async def fast_server(tmp_path: Path, database_url: str) -> AsyncIterator[RunningServer]:
    """Heartbeats every 1.25 s, the drop-off after 5 s, swept every half second."""
    test_server, running = await start_server(make_settings(
        tmp_path, database_url, handoff_dropoff_seconds=5, handoff_sweep_seconds=0.5))
    yield running
    await test_server.close()


async def _holding(server: RunningServer, name: str, address: str) -> tuple[ConsoleClient, int]:
    await server.add_staff(name)
    client = ConsoleClient(server.url)
    await client.login(name, PASSWORD)
    conversation_id = await triaged(server, address)
    assert await client.claim(conversation_id) == 200
    await client.connect()
    return client, conversation_id


async def _state(server: RunningServer, conversation_id: int) -> str:
    async with server.app[appkeys.DB].read() as session:
        found = await session.get(Conversation, conversation_id)
        assert found is not None
        return found.state


async def test_log_out_closes_the_console_socket_within_a_second(any_server: RunningServer) -> None:
    anna, conversation_id = await _holding(any_server, "anna", "+46700000501")
    try:
        assert await anna.logout() == 303
        assert await anna.socket_closed(1.0) == SESSION_ENDED
        await any_server.memory.write("+46700000501", "är du kvar?")
        await asyncio.sleep(0.2)
        assert not any(f["type"] == "message" for f in _drain(anna))   # no message text after log-out
        async with any_server.app[appkeys.DB].read() as session:
            presence = (await session.execute(select(StaffUser.presence).where(StaffUser.name == "anna"))).scalar()
        assert presence == "away"
        async with anna.session.get(anna.base.with_path("/api/console/queue")) as r:
            assert r.status == 401
    finally:
        await anna.close()


def _drain(client: ConsoleClient) -> list[dict[str, object]]:
    frames = []
    while not client.frames.empty():
        frames.append(client.frames.get_nowait())
    return frames


async def test_another_workers_announcement_closes_the_socket(server: RunningServer) -> None:
    """The session-ended event comes through the publisher, so a multi-worker one carries it."""
    anna, _ = await _holding(server, "anna", "+46700000502")
    bo, _ = await _holding(server, "bo", "+46700000503")
    try:
        async with server.app[appkeys.DB].read() as session:
            sid = (await session.execute(select(StaffSession.id).join(StaffUser)
                                         .where(StaffUser.name == "anna"))).scalar_one()
        server.app[appkeys.EVENTS].publish(SESSION_TOPIC, Event("session_ended", 0, {"session": sid}))
        assert await anna.socket_closed(1.0) == SESSION_ENDED
        assert await bo.socket_closed(0.3) is None   # only that session's sockets
    finally:
        await anna.close()
        await bo.close()


async def test_idle_expiry_closes_the_socket_and_the_drop_off_follows(fast_server: RunningServer) -> None:
    anna, conversation_id = await _holding(fast_server, "anna", "+46700000504")
    try:
        idle = fast_server.app[appkeys.SESSION_TIMES].idle
        async with fast_server.app[appkeys.DB].write() as session:
            await session.execute(update(StaffSession).values(last_seen_at=utcnow() - idle - timedelta(seconds=1)))
        assert await anna.socket_closed(3.0) == SESSION_ENDED
        async with fast_server.app[appkeys.DB].read() as session:
            assert (await session.execute(select(StaffSession.id))).first() is None
        deadline = time.monotonic() + 10
        while await _state(fast_server, conversation_id) != "queued":
            assert time.monotonic() < deadline, "the drop-off did not hand the chat back"
            await asyncio.sleep(0.2)
    finally:
        await anna.close()


async def test_a_disabled_account_loses_its_socket(fast_server: RunningServer) -> None:
    anna, _ = await _holding(fast_server, "anna", "+46700000505")
    try:
        async with fast_server.app[appkeys.DB].write() as session:
            await session.execute(update(StaffUser).where(StaffUser.name == "anna").values(active=False))
        assert await anna.socket_closed(3.0) == SESSION_ENDED
    finally:
        await anna.close()
