"""`lotsa bench`: a busy evening against a real `lotsa serve`, beside the machine's ceiling.

It starts a real `lotsa serve` process on a fresh database (SQLite in a temporary folder unless
--database is given) with the SMS and Telegram channels on (their provider APIs are the fakes of
`lotsa_testing.fake_providers`, in a process of their own), and a bare aiohttp handler that parses
and validates the same Twilio webhook and answers 200 (the ceiling). Then, in one run:

1. ceiling: signed SMS webhooks, closed loop, from several client processes, to the bare handler;
2. throughput: the same client, the same load, to Lotsa (`inbound_msgs_per_s`, `ratio`);
3. acknowledgement: SMS and Telegram updates offered open loop at --rate per second (`ack_*`);
4. relay: --conversations web-chat contacts through triage, claimed by --counsellors consoles, then
   each side writes every --interval seconds; the time from send to the other side's socket;
5. burst: --burst web-chat contacts arriving in the same second, until every one is queued;
6. memory: SMS from new numbers until --open-conversations are open; the server's resident memory.

`--json` prints one JSON object as its last line. Figures are what this machine gave at this
moment: benchmarks/RESULTS.md says how they were taken.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import webhook_load as wl
from benchmarks.web_chat_load import ChatPhases, percentile
from lotsa_testing.clients import free_port, wait_healthy

PASSWORD = "bench-password-" + secrets.token_hex(4)


def _ms(values: list[float], p: float) -> float | None:
    return round(percentile(values, p) * 1000, 2) if values else None


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _providers_process(twilio_port: int, telegram_port: int) -> None:
    from lotsa_testing.fake_providers import FakeTelegram, FakeTwilio

    async def serve() -> None:
        twilio = FakeTwilio(account_sid=wl.ACCOUNT_SID, auth_token=wl.AUTH_TOKEN, port=twilio_port)
        telegram = FakeTelegram(token=wl.TELEGRAM_TOKEN, port=telegram_port)
        await twilio.start()
        await telegram.start()
        while True:
            # What was sent is not kept: the fakes answer, the benchmark does not read it back.
            for recorded in (twilio.calls, twilio.times, telegram.calls, telegram.times):
                recorded.clear()
            await asyncio.sleep(1)

    asyncio.run(serve())


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        twilio_port, telegram_port, self.ceiling_port = free_port(), free_port(), free_port()
        self.ports = (twilio_port, telegram_port)
        self.env = {**os.environ, "LOTSA_SECRET_KEY": secrets.token_urlsafe(32), "LOTSA_COOKIE_SECURE": "false",
                    "LOTSA_DATA_DIR": str(workdir), "LOTSA_PUBLIC_URL": self.url, "LOTSA_PORT": str(self.port),
                    "LOTSA_LOG_LEVEL": "WARNING",
                    "LOTSA_TWILIO_ACCOUNT_SID": wl.ACCOUNT_SID, "LOTSA_TWILIO_AUTH_TOKEN": wl.AUTH_TOKEN,
                    "LOTSA_TWILIO_FROM_NUMBER": "+46700000000",
                    "LOTSA_TWILIO_API_URL": f"http://127.0.0.1:{twilio_port}",
                    "LOTSA_TELEGRAM_TOKEN": wl.TELEGRAM_TOKEN, "LOTSA_TELEGRAM_WEBHOOK_SECRET": wl.TELEGRAM_SECRET,
                    "LOTSA_TELEGRAM_API_URL": f"http://127.0.0.1:{telegram_port}/bot",
                    # Many people write from behind the same address (the benchmark's): the flood
                    # defence would put most of them behind the others, which is not what is measured.
                    "LOTSA_NEW_CONVERSATIONS_PER_MINUTE": "100000",
                    "LOTSA_NEW_CONVERSATIONS_PER_ADDRESS_PER_MINUTE": "100000"}
        if args.database:
            self.env["LOTSA_DATABASE_URL"] = args.database
        else:
            self.env.pop("LOTSA_DATABASE_URL", None)

    def _lotsa(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run([sys.executable, "-m", "lotsa.cli", *args], env=self.env, check=True,
                       input=stdin.encode() if stdin else None, capture_output=True, timeout=120)

    def _load(self, url: str, **extra: Any) -> wl.Load:
        return wl.Load(base_url=url, seconds=self.args.duration, processes=self.args.processes,
                       concurrency=self.args.concurrency, numbers=self.args.numbers, **extra)

    async def run(self) -> dict[str, Any]:
        context = multiprocessing.get_context("spawn")
        providers = context.Process(target=_providers_process, args=self.ports, daemon=True)
        providers.start()
        ceiling = wl.start_ceiling(self.ceiling_port)
        self._lotsa("db", "upgrade")
        for i in range(self.args.counsellors):
            self._lotsa("user", "add", f"bench{i}", "--role", "counsellor", "--max-chats", "50",
                        stdin=PASSWORD + "\n")
        server = subprocess.Popen([sys.executable, "-m", "lotsa.cli", "serve"], env=self.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ceiling_url = f"http://127.0.0.1:{self.ceiling_port}"
            if not (await wait_healthy(self.url, 60) and await _listening(ceiling_url)):
                raise SystemExit("lotsa bench: the server did not start")
            return await self._phases(server.pid, ceiling_url)
        finally:
            server.terminate()
            server.wait(timeout=20)
            for process in (ceiling, providers):
                process.terminate()
                process.join(10)

    async def _phases(self, pid: int, ceiling_url: str) -> dict[str, Any]:
        args = self.args
        figures: dict[str, Any] = {"database": "postgresql" if args.database else "sqlite",
                                   "duration_s": args.duration, "client_processes": args.processes,
                                   "in_flight": args.concurrency, "load_average": os.getloadavg()[0]}
        rss_start = _rss_mib(pid)
        chats = ChatPhases(self.url, PASSWORD)
        figures.update(await chats.relay(args.conversations, args.counsellors, args.rounds, args.interval))
        figures.update(await chats.burst(args.burst))
        figures["triage_p99_ms"] = _ms(chats.triage_steps, 99)
        figures["triage_p50_ms"] = _ms(chats.triage_steps, 50)

        top = await wl.drive(self._load(ceiling_url, sid_prefix="C"))
        profiler = _profiler(pid, args.profile, args.duration) if args.profile else None
        lotsa = await wl.drive(self._load(self.url, first_number=1_000_000, sid_prefix="T"))
        if profiler is not None:
            profiler.wait(timeout=60)
        figures.update(ceiling_msgs_per_s=round(top.answered / top.seconds, 1),
                       ceiling_p99_ms=_ms(top.latencies, 99),
                       inbound_msgs_per_s=round(lotsa.answered / lotsa.seconds, 1),
                       inbound_p50_ms=_ms(lotsa.latencies, 50), inbound_p99_ms=_ms(lotsa.latencies, 99),
                       inbound_not_200=sum(n for s, n in lotsa.statuses.items() if s != 200) + lotsa.errors)
        figures["ratio"] = round(figures["inbound_msgs_per_s"] / max(figures["ceiling_msgs_per_s"], 1e-9), 3)
        await asyncio.sleep(1)

        profiler = _profiler(pid, args.profile_ack, args.duration) if args.profile_ack else None
        offered = await wl.drive(self._load(self.url, rate=args.rate, telegram_share=0.1,
                                            first_number=3_000_000, sid_prefix="O"))
        if profiler is not None:
            profiler.wait(timeout=60)
        figures.update(offered_msgs_per_s=args.rate, ack_p50_ms=_ms(offered.latencies, 50),
                       ack_p99_ms=_ms(offered.latencies, 99), ack_max_ms=_ms(offered.latencies, 100),
                       telegram_ack_p99_ms=_ms(offered.telegram_latencies, 99),
                       offered_not_200=sum(n for s, n in offered.statuses.items() if s != 200) + offered.errors)

        fill = await wl.drive(wl.Load(base_url=self.url, seconds=3600, processes=args.processes,
                                      concurrency=args.concurrency, numbers=args.open_conversations,
                                      first_number=5_000_000, sid_prefix="R", only_new=True))
        await asyncio.sleep(2)
        open_conversations = await _open_conversations(self.env)
        rss_end = _rss_mib(pid)
        figures.update(open_conversations=open_conversations, opened_for_memory=fill.answered,
                       rss_mib_start=round(rss_start, 1), rss_mib=round(rss_end, 1),
                       rss_mib_per_1k_conversations=round((rss_end - rss_start) / max(open_conversations, 1) * 1000, 2))
        return figures


def _profiler(pid: int, output: str, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy (the `bench` extra) sampling the server through the throughput phase."""
    fmt = "speedscope" if output.endswith(".json") else "raw" if output.endswith(".txt") else "flamegraph"
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--duration",
                             str(max(1, int(seconds))), "--format", fmt, "--output", output, "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _listening(url: str) -> bool:
    """The ceiling answers anything but a connection error."""
    import aiohttp
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url + "/"):
                    return True
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    return False


async def _open_conversations(env: dict[str, str]) -> int:
    """Counted in the database the server uses."""
    from sqlalchemy import func, select

    from lotsa.db import Database
    from lotsa.models import Conversation, ConversationState
    from lotsa.settings import load_settings

    settings = load_settings(overrides={"data_dir": env["LOTSA_DATA_DIR"], "database_url": env.get("LOTSA_DATABASE_URL")})
    db = Database(settings.effective_database_url)
    try:
        async with db.read() as session:
            return int(await session.scalar(select(func.count(Conversation.id)).where(
                Conversation.state != ConversationState.CLOSED)) or 0)
    finally:
        await db.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each webhook phase")
    parser.add_argument("--processes", type=int, default=2, help="client processes sending webhooks")
    parser.add_argument("--concurrency", type=int, default=32, help="webhooks in flight (closed loop)")
    parser.add_argument("--rate", type=float, default=500.0, help="webhooks per second offered (open loop)")
    parser.add_argument("--numbers", type=int, default=2000, help="distinct phone numbers writing")
    parser.add_argument("--conversations", type=int, default=50, help="web-chat conversations for the relay")
    parser.add_argument("--counsellors", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10, help="messages each way per relay conversation")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a contact's messages")
    parser.add_argument("--burst", type=int, default=200, help="web-chat contacts arriving in the same second")
    parser.add_argument("--open-conversations", type=int, default=10_000,
                        help="SMS conversations opened before the memory is read")
    parser.add_argument("--profile", help="py-spy output of the server during the throughput phase "
                        "(.svg flame graph, .txt collapsed stacks, .json speedscope)")
    parser.add_argument("--profile-ack", help="the same through the acknowledgement phase (--rate offered)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures last")


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="lotsa-bench-") as workdir:
        started = time.time()
        figures = asyncio.run(Bench(args, Path(workdir)).run())
        figures["wall_s"] = round(time.time() - started, 1)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"lotsa bench ({figures['database']}, load average {figures['load_average']:.2f} at start)")
    for key, value in figures.items():
        print(f"  {key}: {value}")
    return 0
