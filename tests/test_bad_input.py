"""Bad input gets a clear answer: refused with a 4xx or an error frame, never a 500 or a crash."""
from __future__ import annotations

import aiohttp
import pytest

from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer


async def _hello(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{url}/chat/ws")
    await ws.send_json({"type": "hello", "token": None, "after": 0, "lang": "en"})
    assert (await ws.receive_json(timeout=5))["type"] == "welcome"
    return ws


async def _next_error(ws: aiohttp.ClientWebSocketResponse) -> dict:
    while True:
        frame = await ws.receive_json(timeout=5)
        if frame["type"] == "error":
            return frame


@pytest.mark.parametrize("first", ["not json", "[1, 2]", '{"type": "say", "text": "hi"}', ""])
async def test_a_socket_that_does_not_start_with_hello_is_closed(server: RunningServer, first: str) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{server.url}/chat/ws")
        await ws.send_str(first)
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4400


@pytest.mark.parametrize("frame, code", [
    ("{oops", "bad_frame"),
    ('"a string"', "bad_frame"),
    ('{"type": "shout"}', "bad_frame"),
    ('{"type": "say", "text": "no cid"}', "bad_frame"),
    ('{"type": "say", "text": "bad cid", "cid": "<script>"}', "bad_frame"),
    ('{"type": "say", "text": 42, "cid": "abcdefgh12"}', "bad_frame"),
    ('{"type": "say", "text": "   ", "cid": "abcdefgh13"}', "empty"),
    ('{"type": "say", "text": "a\\u0000b", "cid": "abcdefgh14"}', "bad_text"),
    ('{"type": "say", "text": "' + "x" * 4001 + '", "cid": "abcdefgh15"}', "too_long"),
    ('{"type": "choose", "choice": "../../etc", "cid": "abcdefgh16"}', "bad_frame"),
])
async def test_bad_frames_get_an_error_frame_and_the_connection_stays(server: RunningServer, frame: str,
                                                                      code: str) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await _hello(session, server.url)
        await ws.send_str(frame)
        error = await _next_error(ws)
        assert error["code"] == code and error["message"]
        await ws.send_json({"type": "choose", "choice": "en", "cid": "stillalive1"})
        while (await ws.receive_json(timeout=5))["type"] != "ack":
            pass
        await ws.close()


async def test_binary_and_oversize_frames(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await _hello(session, server.url)
        await ws.send_bytes(b"\x00\xff\xfe binary")
        assert (await _next_error(ws))["code"] == "bad_frame"
        await ws.send_str('{"type": "say", "text": "' + "x" * 20000 + '", "cid": "abcdefgh17"}')
        msg = await ws.receive(timeout=5)
        while msg.type == aiohttp.WSMsgType.TEXT:
            msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        async with session.get(f"{server.url}/healthz") as r:
            assert r.status == 200


async def test_a_flood_is_refused(server: RunningServer) -> None:
    contact = ChatClient(server.url)
    await contact.connect()
    try:
        for n in range(40):
            await contact.say(f"flood {n}")
        error = await contact.wait_for(lambda f: f["type"] == "error")
        assert error["code"] == "rate"
    finally:
        await contact.close()


async def test_console_api_refuses_clearly(server: RunningServer) -> None:
    await server.add_staff("anna")
    base = server.url
    async with aiohttp.ClientSession() as anon:
        async with anon.get(f"{base}/api/console/queue") as r:
            assert r.status == 401 and (await r.json())["error"] == "login_required"
        async with anon.post(f"{base}/api/console/conversations/1/claim") as r:
            assert r.status == 401
        async with anon.post(f"{base}/console/login", data={"name": "anna", "password": PASSWORD},
                             headers={"Origin": "https://evil.example"}) as r:
            assert r.status == 403
        async with anon.get(f"{base}/console/ws", headers={"Origin": base}) as r:
            assert r.status in (400, 401)

    anna = ConsoleClient(base)
    try:
        await anna.login("anna", PASSWORD)
        s = anna.session
        async with s.post(f"{base}/api/console/conversations/1/claim", headers={"Origin": base}) as r:
            assert r.status == 403 and (await r.json())["error"] == "csrf"
        h = anna._headers()
        for path, status in (("/api/console/conversations/abc/claim", 404),
                             ("/api/console/conversations/99999999999999999999/claim", 404),
                             ("/api/console/conversations/0/claim", 404),
                             ("/api/console/conversations/5/claim", 409)):
            async with s.post(base + path, headers=h) as r:
                assert r.status == status, path
        url = f"{base}/api/console/conversations/5/messages"
        async with s.post(url, data="{not json", headers={**h, "Content-Type": "application/json"}) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_json"
        async with s.post(url, data="text=hi", headers={**h, "Content-Type": "text/plain"}) as r:
            assert r.status == 415
        async with s.post(url, json=["a list"], headers=h) as r:
            assert r.status == 400
        async with s.post(url, json={"text": None}, headers=h) as r:
            assert r.status == 400
        async with s.post(url, json={"text": "x" * 70000}, headers=h) as r:
            assert r.status == 413
        async with s.post(url, json={"text": "hello"}, headers=h) as r:
            assert r.status == 409 and (await r.json())["error"] == "not_yours"
        async with s.get(f"{base}/api/console/conversations/5") as r:
            assert r.status == 404
    finally:
        await anna.close()


async def test_wrong_passwords_slow_the_account_down_but_never_lock_it(server: RunningServer) -> None:
    await server.add_staff("bo")
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            async with session.post(f"{server.url}/console/login", data={"name": "bo", "password": "wrong"},
                                    headers={"Origin": server.url}) as r:
                assert r.status == 401
        async with session.post(f"{server.url}/console/login", data={"name": "bo", "password": PASSWORD},
                                headers={"Origin": server.url}, allow_redirects=False) as r:
            assert r.status == 303   # logged in
