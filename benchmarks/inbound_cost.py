"""What one inbound SMS costs the server, one message at a time (no contention, no client noise):
SQL statements, transactions, and CPU time (the whole process, the database thread included).

    python -m benchmarks.inbound_cost [--messages 300] [--in-flight 1] [--database URL] [--profile out.txt]

The real application (create_app with the SMS channel, a fake Twilio REST API on 127.0.0.1) on a
temporary SQLite database (or a PostgreSQL URL); a signed webhook is posted for each message, the
next only after the previous was answered (`--in-flight N`: N at once, the next N after all were
answered, so that the group commit stores them together as it does under load). Half the messages
come from new numbers (a conversation opened, greeted), half from numbers that wrote before (the
conversation found, triage answered).
`--profile` writes cProfile statistics of the server side (sorted by cumulative time; a name ending
in .prof gets the binary statistics, for pstats or snakeviz).
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
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlalchemy import event
from twilio.request_validator import RequestValidator

from bot.twilio_sms import SmsChannel
from lotsa import appkeys, sqlite_direct
from lotsa.app import create_app
from lotsa.db import upgrade
from lotsa.logs import AccessLogger
from lotsa.server import quiet_collector
from lotsa.settings import load_settings
from lotsa_testing.fake_providers import FakeTwilio

PUBLIC = "https://lotsa.example.org"


class Counter:
    """Statements through SQLAlchemy plus those run by sqlite3 directly (`lotsa.sqlite_direct`)."""

    def __init__(self) -> None:
        self._through_sqlalchemy = 0
        self.transactions = 0

    @property
    def statements(self) -> int:
        return self._through_sqlalchemy + sqlite_direct.Counter.statements

    def install(self, engine: Any) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _statement(*_: Any) -> None:
            self._through_sqlalchemy += 1

        @event.listens_for(engine, "commit")
        def _commit(*_: Any) -> None:
            self.transactions += 1


async def measure(messages: int, database: str | None, profile: str | None, in_flight: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lotsa-cost-") as folder:
        url = database or f"sqlite+aiosqlite:///{folder}/lotsa.db"
        await asyncio.to_thread(upgrade, url)
        fake = FakeTwilio()
        await fake.start()
        settings = load_settings(overrides={
            "database_url": url, "data_dir": folder, "secret_key": secrets.token_hex(16), "log_level": "WARNING",
            "twilio_account_sid": fake.account_sid, "twilio_auth_token": fake.auth_token,
            "twilio_from_number": "+46766860000", "twilio_api_url": fake.url, "public_url": PUBLIC,
            "new_conversations_per_minute": 100000, "new_conversations_per_address_per_minute": 100000})
        app = create_app(settings, channels=[SmsChannel])
        app.on_startup.append(quiet_collector)   # as `lotsa serve` does (lotsa.server)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server(access_log_class=AccessLogger)
        counter = Counter()
        counter.install(app[appkeys.DB].engine.sync_engine)
        validator = RequestValidator(fake.auth_token)
        target = str(server.make_url("/hooks/twilio/sms"))
        figures: dict[str, Any] = {"database": "postgresql" if database else "sqlite", "messages": messages,
                                   "in_flight": in_flight}
        try:
            async with aiohttp.ClientSession() as session:
                async def post(number: int, body: str) -> None:
                    params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": fake.account_sid,
                              "From": f"+4670{number:07d}", "To": "+46766860000", "Body": body, "NumMedia": "0"}
                    headers = {"X-Twilio-Signature": validator.compute_signature(PUBLIC + "/hooks/twilio/sms", params)}
                    async with session.post(target, data=params, headers=headers) as r:
                        assert r.status == 200, await r.text()

                await post(9_999_999, "hej")   # warm up: the first request builds caches
                profiler = cProfile.Profile() if profile else None
                for label, number_of in (("new_number", lambda i: i), ("known_number", lambda i: i)):
                    statements, transactions = counter.statements, counter.transactions
                    cpu, wall = time.process_time(), time.perf_counter()
                    if profiler is not None:
                        profiler.enable()
                    for first in range(0, messages // 2, in_flight):
                        await asyncio.gather(*(post(number_of(i), "jag behöver prata med någon")
                                               for i in range(first, min(first + in_flight, messages // 2))))
                    if profiler is not None:
                        profiler.disable()
                    n = messages // 2
                    figures[label] = {
                        "statements_per_msg": round((counter.statements - statements) / n, 2),
                        "transactions_per_msg": round((counter.transactions - transactions) / n, 2),
                        "cpu_ms_per_msg": round((time.process_time() - cpu) / n * 1000, 2),
                        "wall_ms_per_msg": round((time.perf_counter() - wall) / n * 1000, 2)}
                if profiler is not None and profile is not None and profile.endswith(".prof"):
                    profiler.dump_stats(profile)
                elif profiler is not None and profile is not None:
                    with open(profile, "w") as out:
                        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(80)
        finally:
            await server.close()
            await fake.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inbound_cost")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--in-flight", type=int, default=1,
                        help="messages posted at once, each round after the last was answered (1: one at a time; "
                        "more: the group commit stores them in shared transactions, as under load)")
    parser.add_argument("--profile", help="write cProfile statistics here (binary when the name ends in .prof)")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.messages, args.database, args.profile, args.in_flight))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
