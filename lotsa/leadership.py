"""Background work that must run once across workers: whichever worker holds the job's lock runs it.

On PostgreSQL each job has a session-level advisory lock (`pg_try_advisory_lock`), taken on a
connection of its own that the job's worker keeps open while it runs the job. When that worker
dies (even by SIGKILL) PostgreSQL ends its session and releases the lock, and another worker takes
it over at its next try (`retry_every`). A worker that loses the connection stops the job at once:
it cannot know whether another one has taken over. On SQLite there is one worker: it runs the job.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # ships no type information

from lotsa.db import Database
from lotsa.pg_events import connect_kwargs

log = logging.getLogger(__name__)

Job = Callable[[], Coroutine[Any, Any, None]]


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job's name."""
    return int.from_bytes(hashlib.sha256(f"lotsa:{name}".encode()).digest()[:8], "big", signed=True)


class Leadership:
    def __init__(self, db: Database, retry_every: float = 2.0, check_every: float = 2.0) -> None:
        self.db = db
        self.retry_every = retry_every
        self.check_every = check_every
        self.leading: set[str] = set()
        """The jobs this worker runs now (diagnostics, tests)."""

    async def run(self, name: str, job: Job) -> None:
        """Run `job` whenever this worker holds the lock of `name`; until cancelled."""
        if self.db.sqlite:
            await job()
            return
        while True:
            try:
                await self._lead_once(name, job)
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
                log.warning("leadership connection failed", extra={"job": name, "error": type(e).__name__})
            await asyncio.sleep(self.retry_every)

    async def _lead_once(self, name: str, job: Job) -> None:
        conn = await asyncpg.connect(**connect_kwargs(self.db.url, f"lotsa-leader {name}"), timeout=10)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(name)):
                await asyncio.sleep(self.retry_every)
            log.info("this worker runs a background job", extra={"job": name})
            self.leading.add(name)
            task = asyncio.create_task(job(), name=f"led-{name}")
            try:
                while not task.done():
                    await asyncio.wait({task}, timeout=self.check_every)
                    if not task.done():
                        await conn.fetchval("SELECT 1", timeout=self.check_every * 2)
            finally:
                self.leading.discard(name)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        finally:
            conn.terminate()   # the session ends: the lock is released with it
