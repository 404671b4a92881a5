"""Supervisor alerts are raised once per conversation and reason: an acute contact waiting, a wait
past its queue's limit; a second check raises nothing again."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from handoff.wait_alerts import raise_alerts
from lotsa import appkeys
from lotsa.models import Conversation, utcnow
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[RunningServer]:
    """The checks run when the test says (the service's own round only once, at start)."""
    test_server, running = await start_server(make_settings(tmp_path, database_url, alert_check_seconds=600))
    yield running
    await test_server.close()


async def test_alerts_are_raised_once_and_reach_supervisors_only(server: RunningServer) -> None:
    await server.add_staff("sara", "supervisor")
    await server.add_staff("anna")
    app = server.app
    db, events, queues = app[appkeys.DB], app[appkeys.EVENTS], app[appkeys.QUEUES]
    sara, anna = ConsoleClient(server.url), ConsoleClient(server.url)
    anna_got: list[dict[str, Any]] = []
    anna.on_frame = anna_got.append
    acute_queue = queues.get("acute")
    assert acute_queue is not None
    try:
        for client, name in ((sara, "sara"), (anna, "anna")):
            await client.login(name, PASSWORD)
            await client.connect()
        acute = (await server.memory.write("+46700000301", "hjälp han slår mig nu och jag är 16")).conversation_id
        assert await raise_alerts(db, events, queues) == [(acute, "acute")]
        frame = await sara.wait_for(lambda f: f["type"] == "alert")
        assert (frame["conversation"], frame["reason"]) == (acute, "acute")
        assert await raise_alerts(db, events, queues) == []

        async with db.write() as session:   # it has waited longer than its queue allows
            await session.execute(update(Conversation).where(Conversation.id == acute)
                                  .values(queued_at=utcnow() - acute_queue.max_wait - timedelta(seconds=1)))
        assert await raise_alerts(db, events, queues) == [(acute, "wait")]
        assert (await sara.wait_for(lambda f: f["type"] == "alert"))["reason"] == "wait"
        assert await raise_alerts(db, events, queues) == []
        await asyncio.sleep(0.3)   # what anna would have got with sara's
        assert anna_got and not any(f["type"] == "alert" for f in anna_got)
    finally:
        await sara.close()
        await anna.close()
