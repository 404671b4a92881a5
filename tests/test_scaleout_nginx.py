"""Debian's nginx with the sample site (deploy/nginx/lotsa.conf) in front of two workers on one
PostgreSQL database: a web chat and a console work through it (WebSocket upgrade, any worker for
any request), and the workers take the client's address from X-Forwarded-For only as the trusted
proxy wrote it."""
from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select
from yarl import URL

from handoff.console import SESSION_ENDED
from lotsa.auth import add_user
from lotsa.db import Database
from lotsa.models import LINE_SURGE, Conversation
from lotsa_testing.clients import ChatClient, ConsoleClient, free_port
from lotsa_testing.nginx import PROXY_ADDRESS, nginx_binary, nginx_in_front
from lotsa_testing.server import PASSWORD
from lotsa_testing.workers import Workers

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(nginx_binary() is None, reason="no nginx (scripts/test.sh installs it)")]


async def waiting(url: str, n: int, source_address: str = "127.0.0.1") -> ChatClient:
    """A person through triage; each claims to come from another address in X-Forwarded-For."""
    chat = ChatClient(url, lang="en", forwarded_for=f"198.51.100.{n}")
    chat.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source_address, 0)))
    await chat.connect()
    for choice in ("en", "sells", "skip"):
        await chat.choose(choice)
    await chat.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued", timeout=20)
    return chat


async def test_a_chat_and_a_console_through_nginx_in_front_of_two_workers(tmp_path: Path, postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        await add_user(db, "anna", PASSWORD, "counsellor")
    finally:
        await db.close()
    port = free_port()
    workers = Workers(postgres_url, tmp_path, 2, {
        "trusted_proxies": PROXY_ADDRESS, "public_url": f"http://127.0.0.1:{port}",
        "new_conversations_per_address_per_minute": "1"})
    await workers.start()
    chats: list[ChatClient] = []
    try:
        async with nginx_in_front([f"127.0.0.1:{w.port}" for w in workers.workers], tmp_path / "nginx", port) as url:
            anna = ConsoleClient(url)
            try:
                await anna.login("anna", PASSWORD)
                await anna.connect()
                chats = [await waiting(url, n) for n in range(4)]        # one client, four made-up addresses
                chats.append(await waiting(url, 9, source_address="127.0.0.3"))   # another client
                ranks = await _line_ranks(postgres_url)
                newest = max(ranks)
                # The made-up X-Forwarded-For entries were not believed: a flood from one client …
                assert any(rank == LINE_SURGE for conversation, rank in ranks.items() if conversation != newest)
                # … while the other client, told apart through the proxy, is not part of it.
                assert ranks[newest] != LINE_SURGE
                frame = await anna.wait_for(lambda f: f["type"] == "queue" and len(f["waiting"]) == 5)
                assert {c["id"] for c in frame["waiting"]} == set(ranks)

                assert await anna.claim(newest) == 200
                person = chats[-1]
                await person.wait_for(lambda f: f["type"] == "state" and f["state"] == "active")
                await person.say("hello through the proxy")
                got = await anna.wait_for(lambda f: f["type"] == "message" and f["conversation"] == newest
                                          and f["message"]["author"] == "contact")
                assert got["message"]["text"] == "hello through the proxy"
                await anna.send(newest, "welcome, through any worker")
                reply = await person.wait_for(lambda f: f["type"] == "message" and f["author"] == "counsellor")
                assert reply["text"] == "welcome, through any worker"
            finally:
                await anna.close()
        await _logout_on_one_worker_closes_the_console_on_the_other(workers)
    finally:
        for chat in chats:
            await chat.close()
        await workers.stop()
    assert workers.errors() == []


async def _logout_on_one_worker_closes_the_console_on_the_other(workers: Workers) -> None:
    first, second = workers.workers
    anna = ConsoleClient(first.url)
    try:
        await anna.login("anna", PASSWORD)
        await anna.connect()
        anna.base = URL(second.url)   # the same browser, its next request sent to the other worker
        assert await anna.logout() == 303
        assert await anna.socket_closed(5) == SESSION_ENDED
    finally:
        await anna.close()


async def _line_ranks(url: str) -> dict[int, int]:
    db = Database(url)
    try:
        async with db.read() as session:
            return dict((await session.execute(select(Conversation.id, Conversation.line_rank))).all())
    finally:
        await db.close()
