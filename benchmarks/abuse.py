"""Abuse benchmark: a real `lotsa serve` on 127.0.0.1 attacked as issue 13 describes; it prints
the figures as JSON and stops by itself (every loop is bounded).

1. `/healthz` p50/p99 with no load, then while 16 clients hammer the log-in with wrong passwords:
   once all from one address, once each from its own address and name (behind a trusted proxy,
   `X-Forwarded-For`), so the throttle cannot help and only the password thread pool does.
2. Answer times of wrong-password log-ins for known and unknown names (medians), each attempt
   from its own address and no name tried more than twice (no throttle delay in either).
3. `/healthz` p50/p99 with N people waiting in the web chat (default 1,000) while 50 more join
   per second.
4. A flood of 200 new (acute) conversations from one address against real contacts who were
   waiting before it (one acute, one routine) and one who comes after it: their place in line
   (as the person is shown it, and in the console's take-next order) before and after.

Run: `python -m benchmarks.abuse` (options: --waiting, --join-seconds, --hammer-seconds).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from lotsa.crypto import Keyring, pseudonym
from lotsa_testing.clients import ChatClient, ConsoleClient, free_port, wait_healthy

PASSWORD = "bench-password-" + secrets.token_hex(4)
ACUTE = "hjälp han slår mig nu"
TARGET = "target"
"""The account the one-address hammer goes for (its throttle must not touch the timing accounts)."""


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _ms(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples] or [0.0]
    return {"count": len(samples), "p50_ms": round(statistics.median(ms), 1),
            "p99_ms": round(_percentile(ms, 99), 1), "max_ms": round(max(ms), 1)}


class Server:
    """`lotsa serve` on a fresh SQLite database in a temporary folder, 127.0.0.1 trusted as a proxy."""

    def __init__(self, workdir: Path, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LOTSA_SECRET_KEY": secrets.token_urlsafe(32), "LOTSA_COOKIE_SECURE": "false",
                    "LOTSA_DATA_DIR": str(workdir), "LOTSA_PUBLIC_URL": self.url, "LOTSA_PORT": str(self.port),
                    "LOTSA_LOG_LEVEL": "WARNING", "LOTSA_TRUSTED_PROXIES": "127.0.0.1",
                    **{f"LOTSA_{k.upper()}": v for k, v in settings.items()}}
        self.env.pop("LOTSA_DATABASE_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    def lotsa(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run([sys.executable, "-m", "lotsa.cli", *args], env=self.env, check=True,
                       input=stdin.encode() if stdin else None, capture_output=True, timeout=120)

    def add_staff(self, name: str, role: str = "counsellor") -> None:
        self.lotsa("user", "add", name, "--role", role, "--max-chats", "50", stdin=PASSWORD + "\n")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Server]:
        self.process = subprocess.Popen([sys.executable, "-m", "lotsa.cli", "serve"], env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not await wait_healthy(self.url, timeout=60):
                raise SystemExit("benchmarks.abuse: the server did not start")
            yield self
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def _probe(url: str, seconds: float, every: float) -> list[float]:
    times: list[float] = []
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.get(url + "/healthz") as r:
                await r.read()
            times.append(time.perf_counter() - started)
            await asyncio.sleep(every)
    return times


async def probe_healthz(url: str, seconds: float, every: float = 0.02) -> list[float]:
    """GET /healthz one after another (a pause of `every` between) for `seconds`, from a process of
    its own: the benchmark's own clients must not delay the measurement."""
    probe = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.abuse", "--probe", url, "--probe-seconds", str(seconds),
        stdout=asyncio.subprocess.PIPE)
    out, _ = await probe.communicate()
    return [float(t) for t in json.loads(out)]


async def _login(session: aiohttp.ClientSession, url: str, name: str, password: str,
                 address: str | None = None) -> tuple[int, float]:
    headers = {"Origin": url, **({"X-Forwarded-For": address} if address else {})}
    started = time.perf_counter()
    async with session.post(url + "/console/login", data={"name": name, "password": password},
                            headers=headers, allow_redirects=False) as r:
        await r.read()
        return r.status, time.perf_counter() - started


async def hammer_logins(server: Server, seconds: float, spread: bool) -> dict[str, Any]:
    """16 clients posting wrong passwords for `seconds` while /healthz is probed."""
    deadline = time.monotonic() + seconds
    attempts = 0

    async def client(k: int) -> None:
        nonlocal attempts
        async with aiohttp.ClientSession() as session:
            n = 0
            while time.monotonic() < deadline:
                name, address = (f"guess{k}-{n}", f"198.18.{k}.{n % 250 + 1}") if spread else (TARGET, None)
                await _login(session, server.url, name, "wrong password", address)
                attempts += 1
                n += 1

    hammer = asyncio.gather(*(client(k) for k in range(16)))
    health = await probe_healthz(server.url, seconds)
    await hammer
    return {"healthz": _ms(health), "login_attempts_per_s": round(attempts / seconds, 1)}


async def known_vs_unknown(server: Server, names: int) -> dict[str, Any]:
    known: list[float] = []
    unknown: list[float] = []
    answers: set[tuple[str, int]] = set()
    async with aiohttp.ClientSession() as session:
        for round_ in range(3):   # a name's first three failures are never slowed down
            for k in range(names):
                for kind, name, into in (("known", f"bench{k}", known), ("unknown", f"nobody{k}", unknown)):
                    status, took = await _login(session, server.url, name, "wrong password",
                                                f"198.19.{round_}.{k * 2 + (kind == 'unknown') + 1}")
                    answers.add((kind, status))
                    into.append(took)
    return {"known": _ms(known), "unknown": _ms(unknown),
            "median_difference_ms": round(abs(statistics.median(known) - statistics.median(unknown)) * 1000, 1),
            "statuses": sorted({status for _, status in answers})}


async def _join_acute(url: str, address: str, keep: list[ChatClient] | None = None) -> None:
    """One person writes a red-flag sentence: acute, in line at once."""
    chat = ChatClient(url, lang="sv", forwarded_for=address)
    await chat.connect()
    await chat.wait_acked(await chat.say(ACUTE), timeout=60)
    if keep is None:
        await chat.close()
    else:
        keep.append(chat)


async def _bounded(jobs: Sequence[Callable[[], Awaitable[None]]], at_once: int) -> None:
    gate = asyncio.Semaphore(at_once)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()
    await asyncio.gather(*(run(job) for job in jobs))


async def waiting_load(server: Server, waiting: int, join_seconds: float) -> dict[str, Any]:
    """`waiting` people in line with their chat open, then 50 more join per second."""
    kept: list[ChatClient] = []
    started = time.perf_counter()
    jobs = [lambda k=k: _join_acute(server.url, f"10.1.{k // 250}.{k % 250 + 1}", kept) for k in range(waiting)]
    await _bounded(jobs, 20)
    setup_seconds = time.perf_counter() - started
    idle = await probe_healthz(server.url, 2.0)
    deadline = time.monotonic() + join_seconds
    joined: list[ChatClient] = []

    async def joiners() -> int:
        tasks = []
        n = 0
        while time.monotonic() < deadline:
            tasks.append(asyncio.create_task(_join_acute(server.url, f"10.2.{n // 250}.{n % 250 + 1}", joined)))
            n += 1
            await asyncio.sleep(1 / 50)
        await asyncio.gather(*tasks, return_exceptions=True)
        return n

    join_task = asyncio.create_task(joiners())
    busy = await probe_healthz(server.url, join_seconds)
    n_joined = await join_task
    positions_ok = sum(1 for chat in kept if chat.position is not None)
    for chat in [*kept, *joined]:
        await chat.close()
    return {"waiting": waiting, "setup_seconds": round(setup_seconds, 1), "healthz_idle": _ms(idle),
            "joined": n_joined, "join_seconds": join_seconds, "healthz_while_joining": _ms(busy),
            "waiting_pages_with_a_position": positions_ok}


async def _routine(url: str, address: str) -> ChatClient:
    chat = ChatClient(url, lang="en", forwarded_for=address)
    await chat.connect()
    for choice in ("en", "sells", "skip"):
        await chat.choose(choice)
    await chat.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued", timeout=30)
    return chat


async def flood(server: Server, size: int) -> dict[str, Any]:
    """Real contacts wait; `size` acute conversations come from one address; one more real contact."""
    console = ConsoleClient(server.url)
    await console.login("sara", PASSWORD)
    acute = ChatClient(server.url, lang="sv", forwarded_for="192.0.2.10")
    await acute.connect()
    await acute.wait_acked(await acute.say(ACUTE))
    routine = await _routine(server.url, "192.0.2.11")
    before = await _rank(server, console, {"acute": acute, "routine": routine})
    started = time.perf_counter()
    await _bounded([lambda: _join_acute(server.url, "203.0.113.66") for _ in range(size)], 10)
    flood_seconds = time.perf_counter() - started
    later = ChatClient(server.url, lang="sv", forwarded_for="192.0.2.12")
    await later.connect()
    await later.wait_acked(await later.say(ACUTE))
    after = await _rank(server, console, {"acute": acute, "routine": routine, "came_after": later})
    frame = await console.connect()
    for chat in (acute, routine, later):
        await chat.close()
    await console.close()
    return {"flood": size, "flood_seconds": round(flood_seconds, 1), "before": before, "after": after,
            "supervisor_sees_surge": bool((frame.get("supervisor") or {}).get("surge"))}


async def _rank(server: Server, console: ConsoleClient, chats: dict[str, ChatClient]) -> dict[str, Any]:
    """Each contact's place as they are shown it, and in the console's take-next order (found by
    the pseudonym the console shows, which the benchmark can work out: it knows the secret key)."""
    await asyncio.sleep(1.0)   # the last position frames arrive (at most one per 250 ms)
    waiting = (await console.queue())["waiting"]
    keyring = Keyring(server.env["LOTSA_SECRET_KEY"].encode())
    found: dict[str, Any] = {"waiting": len(waiting), "surge": sum(1 for c in waiting if c.get("surge"))}
    for name, chat in chats.items():
        shown = pseudonym(keyring.contact_key("webchat", chat.token or ""))
        rank = next((n for n, c in enumerate(waiting, start=1) if c["pseudonym"] == shown), None)
        found[name] = {"shown_position": chat.position, "take_next_rank": rank}
    return found


async def main(args: argparse.Namespace) -> dict[str, Any]:
    parts = set(args.parts.split(","))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lotsa-abuse-") as tmp:
        server = Server(Path(tmp) / "a", new_conversations_per_address_per_minute="100000",
                        new_conversations_per_minute="100000")
        server.lotsa("db", "upgrade")
        for name in [TARGET, *(f"bench{k}" for k in range(args.names if "names" in parts else 0))]:
            server.add_staff(name)
        async with server.running():
            results["healthz_no_load"] = _ms(await probe_healthz(server.url, 3.0))
            if "logins" in parts:
                results["login_hammer_one_address"] = await hammer_logins(server, args.hammer_seconds, spread=False)
                results["login_hammer_16_addresses"] = await hammer_logins(server, args.hammer_seconds, spread=True)
                await asyncio.sleep(2)
            if "names" in parts:
                results["known_vs_unknown_names"] = await known_vs_unknown(server, args.names)
            if "waiting" in parts:
                results["waiting_line"] = await waiting_load(server, args.waiting, args.join_seconds)
        if "flood" in parts:
            flooded = Server(Path(tmp) / "b")
            flooded.lotsa("db", "upgrade")
            flooded.add_staff("sara", "supervisor")
            async with flooded.running():
                results["flood_from_one_address"] = await flood(flooded, args.flood)
    return results


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hammer-seconds", type=float, default=10.0)
    parser.add_argument("--names", type=int, default=15, help="known accounts (and as many unknown names)")
    parser.add_argument("--waiting", type=int, default=1000)
    parser.add_argument("--join-seconds", type=float, default=10.0)
    parser.add_argument("--flood", type=int, default=200)
    parser.add_argument("--parts", default="logins,names,waiting,flood", help="which measurements, comma-separated")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--probe-seconds", type=float, default=1.0, help=argparse.SUPPRESS)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.abuse", description=__doc__.split("\n")[0])
    arguments(parser)
    parsed = parser.parse_args()
    if parsed.probe:
        print(json.dumps(asyncio.run(_probe(parsed.probe, parsed.probe_seconds, 0.02))))
    else:
        print(json.dumps(asyncio.run(main(parsed)), indent=2))
