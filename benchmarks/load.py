"""`lotsa bench`: contact-to-console and console-to-contact delivery times under load.

It starts a real `lotsa serve` process on a fresh database (SQLite in a temporary folder unless
--database is given), brings N simultaneous contacts through the web-chat triage, lets counsellors
claim them, then has every contact and counsellor write at a steady pace while it times each
message from the moment it is sent to the moment the other side's WebSocket receives it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lotsa_testing.clients import ChatClient, ConsoleClient, free_port, wait_healthy

PASSWORD = "bench-password-" + secrets.token_hex(4)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _figures(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {"count": len(ms), "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(_percentile(ms, 95), 2), "p99_ms": round(_percentile(ms, 99), 2),
            "max_ms": round(max(ms), 2)}


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LOTSA_SECRET_KEY": secrets.token_urlsafe(32), "LOTSA_COOKIE_SECURE": "false",
                    "LOTSA_DATA_DIR": str(workdir), "LOTSA_PUBLIC_URL": self.url, "LOTSA_PORT": str(self.port),
                    "LOTSA_LOG_LEVEL": "WARNING"}
        if args.database:
            self.env["LOTSA_DATABASE_URL"] = args.database
        else:
            self.env.pop("LOTSA_DATABASE_URL", None)
        self.sent_by_contacts: dict[str, float] = {}
        self.sent_by_staff: dict[str, float] = {}
        self.to_console: list[float] = []
        self.to_contact: list[float] = []

    def _lotsa(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run([sys.executable, "-m", "lotsa.cli", *args], env=self.env, check=True,
                       input=stdin.encode() if stdin else None, capture_output=True, timeout=120)

    def _received(self, sent: dict[str, float], into: list[float]) -> Any:
        def record(frame: dict[str, Any]) -> None:
            message = frame.get("message", frame) if frame.get("type") == "message" else None
            if message is None:
                return
            started = sent.pop(message.get("text", ""), None)
            if started is not None:
                into.append(time.perf_counter() - started)
        return record

    async def run(self) -> dict[str, Any]:
        n, staff_count = self.args.conversations, self.args.counsellors
        self._lotsa("db", "upgrade")
        for i in range(staff_count):
            self._lotsa("user", "add", f"bench{i}", "--role", "counsellor", "--max-chats", "50",
                        stdin=PASSWORD + "\n")
        server = subprocess.Popen([sys.executable, "-m", "lotsa.cli", "serve"], env=self.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        contacts: list[ChatClient] = []
        staff: list[ConsoleClient] = []
        try:
            if not await wait_healthy(self.url):
                raise SystemExit("lotsa bench: the server did not start")
            started = time.perf_counter()
            contacts = [ChatClient(self.url, lang="en") for _ in range(n)]
            await asyncio.gather(*(self._triage(c, i) for i, c in enumerate(contacts)))
            triage_seconds = time.perf_counter() - started

            staff = [ConsoleClient(self.url) for _ in range(staff_count)]
            for i, counsellor in enumerate(staff):
                await counsellor.login(f"bench{i}", PASSWORD)
                await counsellor.connect()
                counsellor.on_frame = self._received(self.sent_by_contacts, self.to_console)
            waiting = (await staff[0].queue())["waiting"]
            assert len(waiting) == n, f"{len(waiting)} of {n} conversations reached the queue"
            holders: dict[int, ConsoleClient] = {}
            for k, conversation in enumerate(waiting):
                counsellor = staff[k % staff_count]
                if await counsellor.claim(conversation["id"]) == 200:
                    holders[conversation["id"]] = counsellor
            for contact in contacts:
                contact.on_frame = self._received(self.sent_by_staff, self.to_contact)
            await asyncio.sleep(0.5)

            load_started = time.perf_counter()
            pairs = list(zip(contacts, [c["id"] for c in waiting], strict=True))
            await asyncio.gather(*(self._talk(contact, cid, holders[cid]) for contact, cid in pairs))
            await asyncio.sleep(1.0)
            load_seconds = time.perf_counter() - load_started
        finally:
            for client in contacts:
                await client.close()
            for counsellor in staff:
                await counsellor.close()
            server.terminate()
            server.wait(timeout=20)
        expected = n * self.args.rounds
        return {
            "conversations": n, "counsellors": staff_count, "rounds": self.args.rounds,
            "database": "postgresql" if self.args.database else "sqlite",
            "triage_seconds_all_contacts": round(triage_seconds, 2),
            "contact_to_console": _figures(self.to_console) if self.to_console else None,
            "console_to_contact": _figures(self.to_contact) if self.to_contact else None,
            "lost_to_console": expected - len(self.to_console),
            "lost_to_contact": expected - len(self.to_contact),
            "messages_per_second": round((len(self.to_console) + len(self.to_contact)) / load_seconds, 1),
        }

    async def _triage(self, contact: ChatClient, index: int) -> None:
        await asyncio.sleep(index * 0.01)
        await contact.connect()
        await contact.choose("en")
        await contact.choose(random.choice(["sells", "buys", "relative", "professional", "other"]))
        await contact.choose("skip")
        await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued", timeout=60)

    async def _talk(self, contact: ChatClient, conversation_id: int, counsellor: ConsoleClient) -> None:
        await asyncio.sleep(random.uniform(0, self.args.interval))
        for round_ in range(self.args.rounds):
            text = f"contact {conversation_id} round {round_} {secrets.token_hex(3)}"
            self.sent_by_contacts[text] = time.perf_counter()
            await contact.say(text)
            await asyncio.sleep(self.args.interval / 2)
            reply = f"counsellor {conversation_id} round {round_} {secrets.token_hex(3)}"
            self.sent_by_staff[reply] = time.perf_counter()
            await counsellor.send(conversation_id, reply)
            await asyncio.sleep(self.args.interval / 2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--counsellors", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a contact's messages")
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures last")


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="lotsa-bench-") as workdir:
        figures = asyncio.run(Bench(args, Path(workdir)).run())
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"lotsa bench: {figures['conversations']} simultaneous conversations, {figures['counsellors']} "
          f"counsellors, {figures['rounds']} rounds each way, {figures['database']}")
    print(f"  all contacts through triage:  {figures['triage_seconds_all_contacts']} s")
    for key, label in (("contact_to_console", "contact -> console"), ("console_to_contact", "console -> contact")):
        f = figures[key]
        print(f"  {label}: median {f['median_ms']} ms, p95 {f['p95_ms']} ms, p99 {f['p99_ms']} ms, "
              f"max {f['max_ms']} ms ({f['count']} messages)")
    print(f"  lost: {figures['lost_to_console']} to console, {figures['lost_to_contact']} to contact; "
          f"{figures['messages_per_second']} messages/s")
    return 0
