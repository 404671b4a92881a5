"""How fast an admin's change ends a counsellor's open console: the time from the admin's form post
(disable, or password reset: the latter includes hashing the new password) to the console socket's
close (code 4401, session ended), and whether the chat the counsellor held is back in the queue
first in line (ahead of everyone waiting; behind only chats handed back in earlier rounds). Runs the real server on a free
port of 127.0.0.1 with a throw-away SQLite database; prints JSON.

Run: `python -m benchmarks.staff_sessions [--rounds N]`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lotsa import appkeys
from lotsa.models import Conversation, StaffUser
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.queue import queue_position
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, sqlite_database, start_server


async def _holding(server: RunningServer, name: str, address: str) -> tuple[ConsoleClient, int, int]:
    await server.add_staff(name)
    client = ConsoleClient(server.url)
    await client.login(name, PASSWORD)
    for text in ("hello", "2", "1"):
        await server.memory.write(address, text)
    conversation_id = (await server.memory.write(address, "skip")).conversation_id
    assert await client.claim(conversation_id) == 200
    await client.connect()
    async with server.app[appkeys.DB].read() as session:
        user_id = (await session.execute(select(StaffUser.id).where(StaffUser.name == name))).scalar_one()
    return client, conversation_id, user_id


async def _round(server: RunningServer, admin: ConsoleClient, n: int, action: str) -> dict[str, Any]:
    client, conversation_id, user_id = await _holding(server, f"c{action[0]}{n}", f"+4670555{n:04d}")
    started = time.perf_counter()
    async with admin.session.post(admin.base.with_path(f"/admin/staff/{user_id}/{action}"),
                                  data={"csrf": admin.csrf}, headers={"Origin": str(admin.base)},
                                  allow_redirects=False) as r:
        assert r.status in (200, 303), r.status
    code = await client.socket_closed(5.0)
    closed_ms = (time.perf_counter() - started) * 1000
    async with server.app[appkeys.DB].read() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        place = await queue_position(session, conversation)
    await client.close()
    return {"closed_ms": closed_ms, "code": code, "place": place, "state": conversation.state, "round": n}


async def run_rounds(rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        url = await sqlite_database(Path(folder))
        test_server, server = await start_server(make_settings(Path(folder), url))
        try:
            await server.add_staff("ada", "admin")
            admin = ConsoleClient(server.url)
            await admin.login("ada", PASSWORD)
            figures: dict[str, Any] = {}
            for action in ("disable", "password"):
                results = [await _round(server, admin, n, action) for n in range(rounds)]
                times = sorted(r["closed_ms"] for r in results)
                figures[action] = {
                    "rounds": rounds, "socket_closed_p50_ms": round(statistics.median(times), 1),
                    "socket_closed_max_ms": round(times[-1], 1),
                    "all_closed_4401": all(r["code"] == 4401 for r in results)}
                if action == "disable":
                    # Ahead of everyone waiting; behind only the chats handed back in earlier rounds.
                    figures[action]["chat_back_first_in_line"] = all(
                        r["state"] == "queued" and r["place"] == r["round"] + 1 for r in results)
            await admin.close()
            return figures
        finally:
            await test_server.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.staff_sessions")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run_rounds(args.rounds))))


if __name__ == "__main__":
    main()
