"""Scale-out: inbound messages per second and contact→console delivery for 1, 2 and 3 `lotsa serve`
workers on PostgreSQL and 1 worker on SQLite, in one run.

    LOTSA_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1/postgres .venv/bin/python -m benchmarks.scaleout

For each set-up it makes a fresh database, starts the workers as real processes, brings `--contacts`
web chats through triage and lets `--counsellors` consoles take them (both spread over the workers
round-robin, as a proxy without sticky sessions would), then for `--seconds` every contact writes as
fast as its socket allows (a burst, then 2 a second: bot/webchat.py) while the consoles receive.
Inbound per second counts messages acknowledged (stored) in that saturated phase; the delivery
time runs from a contact's send to the holder's console receiving it, wherever the two are
connected. A second, paced phase (`--rate` messages a second from all contacts together) gives
the delivery time below saturation. "Queue p50/p99/max" is how long after a change to the queue
(a contact queued after triage, a conversation claimed) each console showed it, over every console
and change of the arrival and claiming phases (the database's times against the wall clock: one
machine). The load average is printed with each row: the machine may be shared.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from benchmarks.web_chat_load import percentile
from lotsa.auth import add_user
from lotsa.db import Database, upgrade
from lotsa.models import Conversation
from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.server import PASSWORD, POSTGRES_URL, create_postgres_database, drop_postgres_database
from lotsa_testing.workers import Workers

T = TypeVar("T")


async def bounded(limit: int, jobs: list[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()
    return await asyncio.gather(*(one(job) for job in jobs))


class QueueWatch:
    """When one console first showed each conversation waiting, and first showed it gone after."""

    def __init__(self) -> None:
        self.shown: dict[int, float] = {}
        self.gone: dict[int, float] = {}

    def frame(self, frame: dict[str, Any]) -> None:
        now = time.time()
        waiting = {c["id"] for c in frame["waiting"]}
        for conversation in waiting:
            self.shown.setdefault(conversation, now)
        for conversation in self.shown.keys() - waiting:
            self.gone.setdefault(conversation, now)

    def delays(self, queued: dict[int, float], claimed: dict[int, float]) -> list[float]:
        """Seconds from each change to this console showing it (missing: counted as infinite)."""
        return ([self.shown.get(c, float("inf")) - at for c, at in queued.items()]
                + [self.gone.get(c, float("inf")) - at for c, at in claimed.items()])


class Run:
    """One set-up: its workers, contacts and consoles, and what they timed."""

    def __init__(self, args: argparse.Namespace, workers: Workers) -> None:
        self.args = args
        self.workers = workers
        self.sent: dict[str, float] = {}
        self.delivered: list[float] = []
        self.acked = 0
        self.watches: list[QueueWatch] = []

    def url(self, n: int) -> str:
        return self.workers.workers[n % len(self.workers.workers)].url

    def on_console_frame(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "message" and frame["message"]["author"] == "contact":
            sent = self.sent.pop(frame["message"]["text"], None)
            if sent is not None:
                self.delivered.append(time.monotonic() - sent)

    async def console(self, n: int) -> ConsoleClient:
        client = ConsoleClient(self.url(n))
        watch = QueueWatch()
        self.watches.append(watch)

        def on_frame(frame: dict[str, Any]) -> None:
            if frame["type"] == "queue":
                watch.frame(frame)
            else:
                self.on_console_frame(frame)
        client.on_frame = on_frame
        await client.login(f"c{n}", PASSWORD)
        await client.connect()
        return client

    async def contact(self, n: int) -> ChatClient:
        chat = ChatClient(self.url(n), lang="en")
        await chat.connect()
        for choice in ("en", "sells", "skip"):
            await chat.choose(choice)
        await chat.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued", timeout=60)
        return chat

    async def write(self, n: int, chat: ChatClient, until: float) -> None:
        k = 0
        while time.monotonic() < until:
            text = f"bench-{n}-{k}"
            self.sent[text] = time.monotonic()
            await chat.wait_acked(await chat.say(text), timeout=60)
            self.acked += 1
            k += 1
            # The socket allows a burst of 20, then 2 a second: stay just under it.
            if k >= 15:
                await asyncio.sleep(0.5)

    async def paced(self, n: int, chat: ChatClient, every: float, until: float) -> None:
        """One message every `every` seconds (from a random start): a steady load below saturation."""
        await asyncio.sleep(random.uniform(0, every))
        k = 0
        while time.monotonic() < until:
            text = f"paced-{n}-{k}"
            self.sent[text] = time.monotonic()
            await chat.say(text)
            k += 1
            await asyncio.sleep(every)

    async def queue_delays(self) -> list[float]:
        db = Database(self.workers.database_url)
        try:
            async with db.read() as session:
                rows = (await session.execute(
                    select(Conversation.id, Conversation.queued_at, Conversation.claimed_at))).all()
        finally:
            await db.close()
        queued = {c: q.timestamp() for c, q, _ in rows if q is not None}
        claimed = {c: at.timestamp() for c, _, at in rows if at is not None}
        return [d for watch in self.watches for d in watch.delays(queued, claimed)]

    async def measure(self) -> dict[str, float]:
        consoles = await bounded(5, [lambda n=n: self.console(n) for n in range(self.args.counsellors)])
        chats = await bounded(40, [lambda n=n: self.contact(n) for n in range(self.args.contacts)])
        try:
            taken = 0
            while taken < self.args.contacts:
                answers = await asyncio.gather(*(c.take_next() for c in consoles))
                got = sum(1 for status, a in answers if status == 200 and a["conversation"] is not None)
                if got == 0:
                    await asyncio.sleep(0.1)
                taken += got
            for chat in chats:
                await chat.wait_for(lambda f: f["type"] == "state" and f["state"] == "active", timeout=60)
            await asyncio.sleep(2)   # the last queue frames
            queue_delays = await self.queue_delays()
            self.delivered.clear()
            start = time.monotonic()
            await asyncio.gather(*(self.write(n, chat, start + self.args.seconds) for n, chat in enumerate(chats)))
            elapsed = time.monotonic() - start
            await asyncio.sleep(2)   # the last deliveries
            figures = {"inbound_per_s": self.acked / elapsed, "p50_ms": 1000 * statistics.median(self.delivered),
                       "p99_ms": 1000 * percentile(self.delivered, 99), "delivered": len(self.delivered),
                       "sent": self.acked}
            self.delivered.clear()
            self.sent.clear()
            every = len(chats) / self.args.rate
            until = time.monotonic() + self.args.seconds
            await asyncio.gather(*(self.paced(n, chat, every, until) for n, chat in enumerate(chats)))
            await asyncio.sleep(2)
            figures |= {"paced_p50_ms": 1000 * statistics.median(self.delivered),
                        "paced_p99_ms": 1000 * percentile(self.delivered, 99), "paced_lost": len(self.sent),
                        "queue_p50_ms": 1000 * statistics.median(queue_delays),
                        "queue_p99_ms": 1000 * percentile(queue_delays, 99), "queue_max_ms": 1000 * max(queue_delays),
                        "queue_late": sum(1 for d in queue_delays if d > 1.0) / len(queue_delays)}
            return figures
        finally:
            for chat in chats:
                await chat.close()
            for console in consoles:
                await console.close()


async def one_setup(args: argparse.Namespace, engine: str, count: int, folder: Path) -> dict[str, float]:
    name = None
    if engine == "postgres":
        url, name = await create_postgres_database()
    else:
        url = f"sqlite+aiosqlite:///{folder / 'lotsa.db'}"
    try:
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        try:
            for n in range(args.counsellors):
                await add_user(db, f"c{n}", PASSWORD, "counsellor", max_chats=50)
        finally:
            await db.close()
        workers = Workers(url, folder, count, {"contact_messages_per_minute": "100000"})
        await workers.start()
        try:
            return await Run(args, workers).measure()
        finally:
            await workers.stop()
    finally:
        if name is not None:
            await drop_postgres_database(name)


async def main(args: argparse.Namespace) -> int:
    setups = [("sqlite", 1)] + [("postgres", n) for n in (1, 2, 3)]
    if not POSTGRES_URL:
        print("LOTSA_TEST_POSTGRES_URL is not set: SQLite only", file=sys.stderr)
        setups = setups[:1]
    print(f"{args.contacts} contacts, {args.counsellors} consoles, {args.seconds:.0f} s of writing per set-up; "
          f"{os.cpu_count()} cores")
    print(f"saturated: every contact writes as fast as its socket allows; paced: {args.rate:.0f} messages/s in all")
    print(f"{'set-up':<14}{'inbound/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'delivered':>11}"
          f"{'paced p50':>11}{'paced p99':>11}{'queue p50/p99/max ms':>22}{'>1 s':>7}  load average (1, 5 min)")
    for engine, count in setups:
        with tempfile.TemporaryDirectory(prefix="lotsa-scaleout-") as folder:
            figures = await one_setup(args, engine, count, Path(folder))
        load = os.getloadavg()
        print(f"{engine + ' x' + str(count):<14}{figures['inbound_per_s']:>10.0f}{figures['p50_ms']:>9.0f}"
              f"{figures['p99_ms']:>9.0f}{int(figures['delivered']):>6}/{int(figures['sent']):<5}"
              f"{figures['paced_p50_ms']:>11.0f}{figures['paced_p99_ms']:>11.0f}"
              f"{figures['queue_p50_ms']:>10.0f}/{figures['queue_p99_ms']:.0f}/{figures['queue_max_ms']:.0f}"
              f"{100 * figures['queue_late']:>8.1f}%"
              f"  {load[0]:.1f}, {load[1]:.1f}", flush=True)
        if figures["paced_lost"]:
            print(f"  {figures['paced_lost']:.0f} paced messages never reached a console", flush=True)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contacts", type=int, default=150, help="simultaneous web chats (default 150)")
    parser.add_argument("--counsellors", type=int, default=15, help="consoles taking them (default 15)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long every contact writes (default 10)")
    parser.add_argument("--rate", type=float, default=30.0,
                        help="messages per second from all contacts together in the paced phase (default 30)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=__doc__.split("\n")[0])
    add_arguments(parser)
    sys.exit(asyncio.run(main(parser.parse_args())))
