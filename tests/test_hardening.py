"""Smaller holes found by trying the service as an attacker would: the chat socket's Origin,
typing and erase floods, clients that drop mid-handshake, the Server header, the staff cookie's
prefix, and transfers to a colleague who does not take the conversation's language."""
from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from lotsa import appkeys
from lotsa.events import CONSOLE_TOPIC
from lotsa.server import GC_THRESHOLDS, quiet_collector
from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server

EMBEDDER = "https://partner.example"


@pytest.fixture
async def embedding_server(tmp_path: Path, database_url: str) -> AsyncIterator[RunningServer]:
    test_server, running = await start_server(make_settings(tmp_path, database_url, chat_origins=[EMBEDDER]))
    yield running
    await test_server.close()


async def _ws_status(url: str, origin: str | None) -> int:
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(url + "/chat/ws", origin=origin)
        except aiohttp.WSServerHandshakeError as e:
            return e.status
        await ws.close()
        return 101


async def test_the_chat_socket_takes_this_site_and_configured_embedders_only(
        embedding_server: RunningServer) -> None:
    url = embedding_server.url
    assert await _ws_status(url, url) == 101
    assert await _ws_status(url, EMBEDDER) == 101
    assert await _ws_status(url, None) == 101   # no browser page: nothing to guard
    assert await _ws_status(url, "https://evil.example") == 403
    assert await _ws_status(url, "null") == 403


async def _active_chat(server: RunningServer) -> tuple[ChatClient, ConsoleClient, int]:
    contact = ChatClient(server.url, lang="en")
    await contact.connect()
    for choice in ("en", "sells", "skip"):
        await contact.choose(choice)
    await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued")
    await server.add_staff("anna")
    anna = ConsoleClient(server.url)
    await anna.login("anna", PASSWORD)
    status, taken = await anna.take_next()
    assert status == 200
    await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "active")
    return contact, anna, taken["conversation"]["id"]


async def test_typing_floods_are_not_relayed(server: RunningServer) -> None:
    contact, anna, _ = await _active_chat(server)
    try:
        relayed = 0
        async with server.app[appkeys.EVENTS].subscribe(CONSOLE_TOPIC) as sub:
            assert contact.ws is not None
            for _ in range(200):
                await contact.ws.send_json({"type": "typing"})
            await asyncio.sleep(0.5)
            while not sub.queue.empty():
                relayed += (await anext(sub)).kind == "typing"
        assert 1 <= relayed <= 5
    finally:
        await contact.close()
        await anna.close()


async def test_erase_floods_are_refused(server: RunningServer) -> None:
    contact = ChatClient(server.url, lang="en")
    await contact.connect()
    try:
        assert contact.ws is not None
        for _ in range(20):
            await contact.ws.send_json({"type": "erase"})
        refused = await contact.wait_for(lambda f: f["type"] == "error")
        assert refused["code"] == "rate"
        erased = [f for f in list(contact.frames._queue) if f["type"] == "erased"]   # type: ignore[attr-defined]
        assert len(erased) <= 3
    finally:
        await contact.close()


async def test_a_client_that_drops_mid_handshake_logs_no_error(server: RunningServer,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    port = int(server.url.rsplit(":", 1)[1])
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /chat/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    writer.close()
    for _ in range(5):
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(server.url + "/chat/ws", origin=server.url)
            await ws.send_json({"type": "hello"})
            transport = ws._response.connection.transport   # type: ignore[union-attr]
            assert transport is not None
            transport.abort()
    await asyncio.sleep(0.5)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]


async def test_the_server_header_names_no_software(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        for path in ("/healthz", "/chat", "/no/such/page", "/static/chat/chat.js"):
            async with session.get(server.url + path) as r:
                assert r.headers.get("Server") == "Lotsa", path


async def test_no_socket_negotiates_compression(server: RunningServer) -> None:
    """A browser offers permessage-deflate; neither the chat nor the console socket takes it."""
    await server.add_staff("anna")
    console = ConsoleClient(server.url)
    await console.login("anna", PASSWORD)
    try:
        for path in ("/chat/ws", "/console/ws"):
            ws = await console.session.ws_connect(server.url + path, origin=server.url, compress=15)
            assert ws.compress == 0, path
            await ws.close()
    finally:
        await console.close()


async def test_the_secure_staff_cookie_has_the_host_prefix(tmp_path: Path, database_url: str) -> None:
    test_server, server = await start_server(make_settings(tmp_path, database_url, cookie_secure=True))
    try:
        await server.add_staff("anna")
        async with aiohttp.ClientSession() as session, session.post(
                server.url + "/console/login", data={"name": "anna", "password": PASSWORD},
                headers={"Origin": server.url}, allow_redirects=False) as r:
            cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("__Host-lotsa_staff=")
        assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    finally:
        await test_server.close()


async def test_a_counsellor_cannot_hand_a_chat_to_a_colleague_without_its_language(
        server: RunningServer) -> None:
    contact, anna, conversation_id = await _active_chat(server)
    await server.add_staff("sven", languages=["sv"])
    await server.add_staff("sara", role="supervisor")
    sara = ConsoleClient(server.url)
    try:
        status, refused = await anna.transfer(conversation_id, "Sven, can you?", to="sven")
        assert (status, refused["error"]) == (403, "not_skilled")
        await sara.login("sara", PASSWORD)
        status, moved = await sara.transfer(conversation_id, "", to="sven")
        assert status == 200 and moved["outside_skills"] is True
    finally:
        await contact.close()
        await anna.close()
        await sara.close()


async def test_only_the_chat_page_may_be_framed_and_only_by_embedders(embedding_server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(embedding_server.url + "/chat") as r:
            assert f"frame-ancestors {EMBEDDER}" in r.headers["Content-Security-Policy"]
            assert "X-Frame-Options" not in r.headers
        async with session.get(embedding_server.url + "/console") as r:
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
            assert r.headers["X-Frame-Options"] == "DENY"


async def test_the_served_app_keeps_the_collector_quiet() -> None:
    """Full collections walk every object (a thousand open sockets: 100-200 ms of a stalled loop):
    what is loaded at start is frozen out of their sight, and they run far less often."""
    before = gc.get_threshold()
    try:
        await quiet_collector(web.Application())
        assert gc.get_threshold() == GC_THRESHOLDS and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
