"""The outbox relay: what a delivered item costs, whether draining the outbox holds up inbound
messages, the rates it sustains against the fake providers, and what happens when a provider is down
for a minute.

    .venv/bin/python -m benchmarks.outbox_relay [--messages 300] [--down-seconds 60]
        [--drain-items 2000] [--inbound-rate 200] [--postgres] [--profile out.txt] [--only cost]

First the relay alone (`drain_cost`): the real application with the in-memory channel (a provider
that accepts every message at once, `lotsa_testing.memory`), its relay stopped while a backlog of
`--drain-items` greetings is written, then drained round by round: items/s, CPU ms (the whole
process), commits and SQL statements per delivered item. Then inbound acknowledgement latency
(`Pipeline.accept`, open loop at `--inbound-rate` messages/s from known numbers) with the relay
idle and while it drains a backlog three times that size (only the messages due before the drain
ended count): on SQLite both write through the one writer at a time.
`--only cost` stops there. Then the real server (SQLite in a temporary folder) with Telegram and
Twilio SMS pointed at the fake provider servers on 127.0.0.1, driven through the signed webhooks as
people would, counting what reaches the fakes. Prints one line per figure, then one JSON object
with all of them.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from benchmarks.inbound_cost import Counter as SqlCounter
from benchmarks.web_chat_load import percentile
from lotsa import appkeys, logs
from lotsa.app import create_app
from lotsa.db import upgrade
from lotsa.settings import load_settings
from lotsa_testing.fake_providers import FakeProvider, FakeTelegram, FakeTwilio
from lotsa_testing.server import (
    RunningServer,
    create_postgres_database,
    drop_postgres_database,
    make_settings,
    sqlite_database,
    start_server,
)

PUBLIC = "https://lotsa.example.org"
SECRET = "bench-secret-" + "z" * 20


class Rig:
    def __init__(self, folder: Path, **limits: Any) -> None:
        self.folder = folder
        self.limits = limits
        self.telegram = FakeTelegram()
        self.twilio = FakeTwilio()
        self.server: TestServer | None = None
        self.session: aiohttp.ClientSession | None = None
        self.update_id = 0

    async def __aenter__(self) -> Rig:
        await self.telegram.start()
        await self.twilio.start()
        database = f"sqlite+aiosqlite:///{self.folder / f'{uuid.uuid4().hex}.db'}"
        await asyncio.to_thread(upgrade, database)
        settings = load_settings(overrides={
            "database_url": database, "data_dir": str(self.folder), "secret_key": secrets.token_hex(24),
            "public_url": PUBLIC, "telegram_token": self.telegram.token, "telegram_webhook_secret": SECRET,
            "telegram_api_url": self.telegram.url, "twilio_account_sid": self.twilio.account_sid,
            "twilio_auth_token": self.twilio.auth_token, "twilio_from_number": "+46766860000",
            "twilio_api_url": self.twilio.url, **self.limits})
        self.server = TestServer(create_app(settings, relay_poll=0.2), host="127.0.0.1")
        await self.server.start_server()
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None and self.server is not None
        await self.session.close()
        await self.server.close()
        await self.telegram.stop()
        await self.twilio.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def telegram_first_message(self, chat: int) -> None:
        assert self.session is not None
        self.update_id += 1
        update = {"update_id": self.update_id, "message": {
            "message_id": 1, "date": int(time.time()), "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "A"}, "text": "hej"}}
        async with self.session.post(f"{self.url}/hooks/telegram", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
            assert r.status == 200, r.status

    async def sms_first_message(self, number: int) -> None:
        assert self.session is not None
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": f"+4670{number:07d}", "To": "+46766860000",
                  "Body": "hej", "AccountSid": self.twilio.account_sid}
        signature = RequestValidator(self.twilio.auth_token).compute_signature(PUBLIC + "/hooks/twilio/sms", params)
        async with self.session.post(f"{self.url}/hooks/twilio/sms", data=params,
                                     headers={"X-Twilio-Signature": signature}) as r:
            assert r.status == 200, r.status


async def _wait_count(count: Any, target: int, timeout: float) -> float:
    """Seconds until count() reaches target (monotonic clock), or raise."""
    deadline = time.monotonic() + timeout
    while count() < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {count()} of {target} delivered")
        await asyncio.sleep(0.02)
    return time.monotonic()


async def throughput(folder: Path, channel: str, messages: int, **limits: Any) -> float:
    """Messages per second the relay delivers from a backlog: people write while the provider is
    down, then it comes back and the relay drains the outbox (first to last delivery)."""
    async with Rig(folder, **limits) as rig:
        fake: FakeProvider = rig.telegram if channel == "telegram" else rig.twilio
        send = rig.telegram_first_message if channel == "telegram" else rig.sms_first_message
        await fake.stop()
        for batch in range(0, messages, 20):
            await asyncio.gather(*(send(100_000 + i) for i in range(batch, min(batch + 20, messages))))
        await asyncio.sleep(1)
        await fake.start()
        sent = "sendMessage" if channel == "telegram" else "message"
        await _wait_count(lambda: len(fake.sent(sent)), messages, timeout=messages * 5 + 120)
        return (messages - 1) / max(fake.times[-1] - fake.times[len(fake.times) - messages], 1e-6)


async def outage(folder: Path, down_seconds: float, per_second: float = 1.0) -> dict[str, float]:
    """Telegram is down for `down_seconds` while people keep writing; then it comes back."""
    async with Rig(folder) as rig:
        await rig.telegram.stop()
        written = 0
        started = time.monotonic()
        while time.monotonic() - started < down_seconds:
            await rig.telegram_first_message(200_000 + written)
            written += 1
            await asyncio.sleep(1 / per_second)
        await rig.telegram.start()
        back = time.monotonic()
        done = await _wait_count(lambda: len(rig.telegram.sent("sendMessage")), written, timeout=300)
        await asyncio.sleep(2)
        per_chat = Counter(int(m["chat_id"]) for m in rig.telegram.sent("sendMessage"))
        return {"written_while_down": written, "delivered": len(per_chat),
                "duplicates": sum(n - 1 for n in per_chat.values()),
                "seconds_until_all_delivered_after_recovery": round(done - back, 2)}


NO_FLOOD_LIMITS = {"new_conversations_per_minute": 10**6, "new_conversations_per_address_per_minute": 10**6,
                   "contact_messages_per_minute": 10**6, "log_level": "WARNING"}


async def _backlog(running: RunningServer, first: int, items: int) -> None:
    """`items` new people write once each (32 at a time): one greeting each waits in the outbox."""
    for start in range(first, first + items, 32):
        await asyncio.gather(*(running.memory.write(f"+4671{i:07d}", "hej")
                               for i in range(start, min(start + 32, first + items))))


async def _drain(running: RunningServer) -> int:
    """The relay's rounds back to back, as `OutboxRelay.run` does while there is work: items attempted."""
    relay, attempted = running.app[appkeys.OUTBOX], 0
    while delivered := await relay.deliver_due():
        attempted += delivered
    return attempted


async def _acks(running: RunningServer, rate: float, seconds: float, numbers: range) -> list[tuple[float, float]]:
    """Open loop: a message from a known number every 1/rate s; for each, when it was due to be sent
    (perf_counter) and its time to acknowledgement from then (ms)."""
    latencies: list[tuple[float, float]] = []
    start, count = time.perf_counter(), int(rate * seconds)

    async def one(index: int) -> None:
        due = start + index / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await running.memory.write(f"+4671{numbers[index % len(numbers)]:07d}", "jag behöver prata")
        latencies.append((due, (time.perf_counter() - due) * 1000))

    await asyncio.gather(*(one(i) for i in range(count)))
    return latencies


def _percentiles(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 50), 1), "p99_ms": round(percentile(values, 99), 1),
            "max_ms": round(max(values), 1)}


async def drain_cost(folder: Path, postgres: bool, items: int, inbound_rate: float,
                     profile: str | None = None) -> dict[str, Any]:
    """The relay alone against a provider that answers at once, then inbound acknowledgements while
    it drains; on SQLite, or on a throw-away database of LOTSA_TEST_POSTGRES_URL's server."""
    folder.mkdir(parents=True, exist_ok=True)
    if not postgres:
        return await _drain_cost(folder, await sqlite_database(folder), items, inbound_rate, profile)
    url, name = await create_postgres_database()
    try:
        await asyncio.to_thread(upgrade, url)
        return await _drain_cost(folder, url, items, inbound_rate, profile)
    finally:
        await drop_postgres_database(name)


async def _drain_cost(folder: Path, url: str, items: int, inbound_rate: float, profile: str | None) -> dict[str, Any]:
    test_server, running = await start_server(make_settings(folder, url, **NO_FLOOD_LIMITS))
    relay = running.app[appkeys.OUTBOX]
    counter = SqlCounter()
    counter.install(running.app[appkeys.DB].engine.sync_engine)
    figures: dict[str, Any] = {"database": url.split(":")[0], "items": items}
    try:
        relay.stop()                      # its rounds are driven here
        await asyncio.sleep(0.3)
        await _drain(running)             # anything the start left
        await _backlog(running, 0, items)
        commits, statements = counter.transactions, counter.statements
        profiler = cProfile.Profile() if profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        delivered = await _drain(running)
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if profiler is not None and profile is not None:
            with open(profile, "w") as out:
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        assert delivered == items, (delivered, items)
        figures["drain"] = {"items_per_s": round(items / wall, 1), "cpu_ms_per_item": round(cpu / items * 1000, 3),
                            "commits_per_item": round((counter.transactions - commits) / items, 3),
                            "statements_per_item": round((counter.statements - statements) / items, 3)}

        seconds = max(2.0, items / inbound_rate / 2)
        known = range(0, items)
        idle = await _acks(running, inbound_rate, seconds, known)
        figures["inbound_ack_relay_idle"] = _percentiles([ms for _, ms in idle])
        await _drain(running)             # the replies to those messages
        await _backlog(running, items, 3 * items)   # long enough to outlast the messages, drained fast
        began = time.perf_counter()
        draining = asyncio.create_task(_drain(running))
        acks = asyncio.create_task(_acks(running, inbound_rate, seconds, known))
        drained = await draining
        ended = time.perf_counter()
        during = [ms for due, ms in await acks if due < ended]
        figures["inbound_ack_while_draining"] = {
            **_percentiles(during), "inbound_rate": inbound_rate, "acks_counted": len(during),
            "drain_s": round(ended - began, 2), "drained_items_per_s": round(drained / (ended - began), 1)}
    finally:
        await test_server.close()
    return figures


async def main(args: argparse.Namespace) -> dict[str, Any]:
    logs.configure("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        figures: dict[str, Any] = {}
        figures["relay"] = await drain_cost(folder / "cost", args.postgres, args.drain_items, args.inbound_rate,
                                       args.profile)
        print(f"relay alone, instant provider: {json.dumps(figures['relay'])}", flush=True)
        if args.only == "cost":
            return figures
        raw = {"telegram_per_second": 10_000.0, "telegram_per_chat_per_second": 10_000.0}
        figures["telegram_msgs_per_s_raw"] = round(await throughput(folder, "telegram", args.messages, **raw), 1)
        print(f"telegram, limits lifted: {figures['telegram_msgs_per_s_raw']} messages/s", flush=True)
        figures["telegram_msgs_per_s_limited"] = round(await throughput(folder, "telegram", args.messages), 1)
        print(f"telegram, default limit 30/s: {figures['telegram_msgs_per_s_limited']} messages/s", flush=True)
        figures["sms_msgs_per_s_raw"] = round(await throughput(
            folder, "sms", args.messages, twilio_segments_per_second=10_000.0), 1)
        print(f"sms, limits lifted: {figures['sms_msgs_per_s_raw']} messages/s", flush=True)
        figures["sms_msgs_per_s_limited"] = round(await throughput(
            folder, "sms", args.sms_limited_messages, twilio_segments_per_second=1.0), 2)
        print(f"sms, default 1 segment/s per number: {figures['sms_msgs_per_s_limited']} messages/s", flush=True)
        figures["outage"] = await outage(folder, args.down_seconds)
        print(f"telegram down {args.down_seconds:.0f} s: {json.dumps(figures['outage'])}", flush=True)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--sms-limited-messages", type=int, default=10)
    parser.add_argument("--down-seconds", type=float, default=60.0)
    parser.add_argument("--drain-items", type=int, default=2000, help="the backlog the relay drains alone")
    parser.add_argument("--inbound-rate", type=float, default=200.0,
                        help="inbound messages/s offered while the relay drains")
    parser.add_argument("--postgres", action="store_true", help="the relay-alone part on a throw-away database of "
                        "LOTSA_TEST_POSTGRES_URL's server (default: SQLite)")
    parser.add_argument("--profile", help="write cProfile statistics of the drain here (sorted by cumulative time)")
    parser.add_argument("--only", choices=["cost"], help="cost: only the relay alone and inbound while it drains")
    result = asyncio.run(main(parser.parse_args()))
    print(json.dumps(result))
    sys.exit(0)
