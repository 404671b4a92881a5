"""Events and background work across worker processes on PostgreSQL (issue 15), part by part: two
publishers on one real database stand for two workers."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from lotsa.db import Database
from lotsa.events import CONSOLE_TOPIC, QUEUE_TOPIC, Event, Subscription, conversation_topic, write_announcing
from lotsa.leadership import Leadership
from lotsa.pg_events import NOTIFY_LIMIT, PgEventBus, connect_kwargs

pytestmark = pytest.mark.postgres


@pytest.fixture
async def two_workers(postgres_url: str) -> AsyncIterator[tuple[PgEventBus, PgEventBus]]:
    dbs = [Database(postgres_url), Database(postgres_url)]
    buses = [PgEventBus(db, max_backoff=0.2, keepalive=0.5) for db in dbs]
    for bus in buses:
        await bus.start()
    yield buses[0], buses[1]
    for bus, db in zip(buses, dbs, strict=True):
        bus.close()
        await bus.stop()
        await db.close()


async def drain(sub: Subscription, quiet: float = 0.3) -> list[Event]:
    """Every event that arrives until none came for `quiet` seconds."""
    got: list[Event] = []
    while True:
        try:
            got.append(await asyncio.wait_for(anext(sub), quiet))
        except (TimeoutError, StopAsyncIteration):
            return got


async def test_an_event_reaches_every_worker_once_and_in_order(two_workers: tuple[PgEventBus, PgEventBus]) -> None:
    a, b = two_workers
    async with a.subscribe(QUEUE_TOPIC, conversation_topic(7)) as on_a, \
            b.subscribe(QUEUE_TOPIC, conversation_topic(7)) as on_b, b.subscribe(conversation_topic(8)) as other:
        version_before = b.version(QUEUE_TOPIC)
        for n in range(20):
            a.publish(QUEUE_TOPIC, Event("state", 7, {"n": n}))
        a.publish(conversation_topic(7), Event("typing", 7))
        a.publish(conversation_topic(7), Event("typing", 7))   # equal payloads are not merged
        local, remote = await drain(on_a), await drain(on_b)
        assert local == remote
        assert [e.data.get("n") for e in remote] == [*range(20), None, None]
        assert await drain(other, 0.1) == []
        assert b.version(QUEUE_TOPIC) == version_before + 20   # shared reads on B see they are stale


async def test_a_message_too_long_for_notify_travels_as_its_id(two_workers: tuple[PgEventBus, PgEventBus]) -> None:
    a, b = two_workers
    payload = {"id": 123, "text": "å" * NOTIFY_LIMIT}
    async with b.subscribe(CONSOLE_TOPIC) as on_b:
        a.publish(CONSOLE_TOPIC, Event("message", 5, {"message": payload, "counsellor": None}))
        a.publish(CONSOLE_TOPIC, Event("typing", 5))
        # No message 123 in this empty database: the event is dropped, the next one still comes.
        assert [e.kind for e in await drain(on_b, 3)] == ["typing"]   # after a database read: a busy machine


async def kill_listeners(postgres_url: str) -> int:
    """pg_terminate_backend on every worker's listening connection: how many there were."""
    admin = await asyncpg.connect(**connect_kwargs(postgres_url))
    try:
        return int(await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'lotsa-events' AND datname = current_database()"))
    finally:
        await admin.close()


async def test_a_lost_listening_connection_reconnects_and_tells_every_subscriber_to_reread(
        two_workers: tuple[PgEventBus, PgEventBus], postgres_url: str) -> None:
    a, b = two_workers
    async with b.subscribe(QUEUE_TOPIC) as on_queue, b.subscribe(conversation_topic(3)) as on_chat:
        before = time.time()
        version = b.version(QUEUE_TOPIC)
        assert await kill_listeners(postgres_url) == 2
        # Every subscription, whatever its topic, hears once that it may have missed events since a
        # little before the connection went; it stays open (the sockets behind it too).
        for sub in (on_queue, on_chat):
            resyncs = await drain(sub, 5)
            assert [e.kind for e in resyncs] == ["resync"]
            assert before - 10 < resyncs[0].data["since"] < before
        assert b.resyncs == 1 and b.version(QUEUE_TOPIC) > version   # shared reads start over
        await asyncio.wait_for(a.connected.wait(), 5)
        a.publish(QUEUE_TOPIC, Event("presence", 0))
        assert [e.kind for e in await drain(on_queue, 1)] == ["presence"]


async def test_a_change_is_announced_with_its_commit_and_only_then(
        two_workers: tuple[PgEventBus, PgEventBus]) -> None:
    a, b = two_workers
    async with b.subscribe(QUEUE_TOPIC) as on_b, a.subscribe(QUEUE_TOPIC) as on_a:
        with pytest.raises(RuntimeError):
            async with write_announcing(a.db, a) as (_, announcements):
                announcements.append((QUEUE_TOPIC, Event("state", 1, {"state": "queued"})))
                raise RuntimeError("rolled back")
        # A worker killed right after the commit, before handing the event to its own subscribers:
        # the NOTIFY went with the commit, the other worker hears it.
        async with a.db.write() as session:
            await a.publish_in(session, [(QUEUE_TOPIC, Event("state", 2, {"state": "queued"}))])
            heard_before_commit = await drain(on_b, 0.3)
        assert heard_before_commit == []
        assert [(e.kind, e.conversation_id) for e in await drain(on_b)] == [("state", 2)]
        assert await drain(on_a, 0.1) == []   # the killed worker's own subscribers were not told


async def test_a_background_job_runs_on_one_worker_and_moves_when_it_dies(postgres_url: str) -> None:
    dbs = [Database(postgres_url) for _ in range(3)]
    leaders = [Leadership(db, retry_every=0.1, check_every=0.1) for db in dbs]
    running: list[int] = []

    def job(worker: int) -> object:
        async def run() -> None:
            running.append(worker)
            await asyncio.Event().wait()
        return run

    tasks = [asyncio.create_task(leader.run("job", job(n))) for n, leader in enumerate(leaders)]  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0.5)
        assert len(running) == 1
        first = running[0]
        tasks[first].cancel()   # the worker dies: its session ends and the lock goes with it
        await asyncio.gather(tasks[first], return_exceptions=True)
        for _ in range(50):
            if len(running) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(running) == 2 and running[1] != first
        assert sum(1 for leader in leaders if leader.leading) == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for db in dbs:
            await db.close()
