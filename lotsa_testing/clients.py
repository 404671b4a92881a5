"""Python clients that speak the web-chat and console protocols (docs/protocol.md).

Used by the integration tests and by `lotsa bench` (benchmarks/load.py); they do what a person's browser does.
"""
from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
from yarl import URL


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_healthy(base_url: str, timeout: float = 20.0) -> bool:
    """Wait until GET /healthz answers 200; False when it did not within `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            try:
                async with session.get(f"{base_url}/healthz") as r:
                    if r.status == 200:
                        return True
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    return False


async def _next_matching(frames: asyncio.Queue[dict[str, Any]], predicate: Callable[[dict[str, Any]], bool],
                         timeout: float) -> dict[str, Any]:
    """The next frame matching `predicate` (frames before it are consumed)."""
    async def find() -> dict[str, Any]:
        while True:
            frame = await frames.get()
            if predicate(frame):
                return frame
    return await asyncio.wait_for(find(), timeout)


class ChatClient:
    """A person in the web chat. Keeps the resume token and resends unacknowledged messages."""

    def __init__(self, base_url: str, lang: str = "sv", token: str | None = None,
                 forwarded_for: str | None = None) -> None:
        self.base = URL(base_url)
        self.headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        """As if through a reverse proxy for this client address (the server must trust 127.0.0.1)."""
        self.lang = lang
        self.token = token
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.messages: dict[int, dict[str, Any]] = {}
        self.greeting: list[dict[str, Any]] = []
        self.pending: dict[str, dict[str, Any]] = {}
        self.state: str | None = None
        self.position: int | None = None
        self.on_frame: Callable[[dict[str, Any]], None] | None = None
        """Called with every frame as it arrives (the benchmark timestamps them)."""
        self._reader: asyncio.Task[None] | None = None

    @property
    def last_id(self) -> int:
        return max(self.messages, default=0)

    async def connect(self) -> dict[str, Any]:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.base.with_path("/chat/ws"), origin=str(self.base),
                                                headers=self.headers)
        await self.ws.send_json({"type": "hello", "token": self.token, "after": self.last_id, "lang": self.lang})
        welcome = await self.ws.receive_json(timeout=10)
        assert welcome["type"] == "welcome", welcome
        self.token = welcome["token"]
        self.state = welcome["state"]
        self.greeting = []
        self._reader = asyncio.create_task(self._read(self.ws))
        for frame in list(self.pending.values()):
            await self.ws.send_json(frame)
        return welcome

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = msg.json()
            if self.on_frame is not None:
                self.on_frame(frame)
            if frame["type"] == "message":
                if frame["id"] is None:
                    self.greeting.append(frame)
                else:
                    self.messages[frame["id"]] = frame
            elif frame["type"] == "ack":
                self.pending.pop(frame["cid"], None)
            elif frame["type"] == "state":
                self.state, self.position = frame["state"], frame["position"]
            await self.frames.put(frame)

    async def _send(self, frame: dict[str, Any]) -> str:
        cid = secrets.token_urlsafe(16)
        frame = {**frame, "cid": cid}
        self.pending[cid] = frame
        assert self.ws is not None
        try:
            await self.ws.send_json(frame)
        except (ConnectionError, RuntimeError):
            pass  # kept in `pending`: sent again after the next connect
        return cid

    async def say(self, text: str) -> str:
        return await self._send({"type": "say", "text": text})

    async def choose(self, choice: str) -> str:
        return await self._send({"type": "choose", "choice": choice})

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """The next frame matching `predicate` (frames before it are consumed)."""
        return await _next_matching(self.frames, predicate, timeout)

    async def wait_acked(self, cid: str, timeout: float = 10.0) -> None:
        async def acked() -> None:
            while cid in self.pending:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(acked(), timeout)

    def texts(self, author: str | None = None) -> list[str]:
        return [m["text"] for _, m in sorted(self.messages.items()) if author in (None, m["author"])]

    async def disconnect(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def close(self) -> None:
        await self.disconnect()
        if self.session is not None:
            await self.session.close()


class ConsoleClient:
    """A counsellor's browser: log-in cookie, CSRF token, the JSON API and the console socket."""

    def __init__(self, base_url: str) -> None:
        self.base = URL(base_url)
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.on_frame: Callable[[dict[str, Any]], None] | None = None
        self._reader: asyncio.Task[None] | None = None

    def _headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, "Origin": str(self.base)}

    async def login(self, name: str, password: str) -> None:
        async with self.session.post(self.base.with_path("/console/login"), data={"name": name, "password": password},
                                     headers={"Origin": str(self.base)}) as r:
            if r.status != 200:
                raise PermissionError(f"log-in refused: {r.status}")
            page = await r.text()
        marker = 'name="csrf-token" content="'
        start = page.index(marker) + len(marker)
        self.csrf = page[start:page.index('"', start)]

    async def logout(self) -> int:
        async with self.session.post(self.base.with_path("/console/logout"), data={"csrf": self.csrf},
                                     headers={"Origin": str(self.base)}, allow_redirects=False) as r:
            return r.status

    async def socket_closed(self, timeout: float) -> int | None:
        """Wait until the server closes the console socket: its close code (None: still open)."""
        assert self.ws is not None and self._reader is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        except TimeoutError:
            return None
        return self.ws.close_code

    async def queue(self) -> dict[str, Any]:
        async with self.session.get(self.base.with_path("/api/console/queue")) as r:
            r.raise_for_status()
            return await r.json()

    async def claim(self, conversation_id: int) -> int:
        async with self.session.post(self.base.with_path(f"/api/console/conversations/{conversation_id}/claim"),
                                     headers=self._headers()) as r:
            return r.status

    async def conversation(self, conversation_id: int) -> dict[str, Any]:
        async with self.session.get(self.base.with_path(f"/api/console/conversations/{conversation_id}")) as r:
            r.raise_for_status()
            return await r.json()

    async def send(self, conversation_id: int, text: str) -> dict[str, Any]:
        async with self.session.post(self.base.with_path(f"/api/console/conversations/{conversation_id}/messages"),
                                     json={"text": text}, headers=self._headers()) as r:
            r.raise_for_status()
            return (await r.json())["message"]

    async def close_conversation(self, conversation_id: int, wrapup: dict[str, Any] | None = None) -> int:
        """Close with a wrap-up (by default: a support talk, no referrals); `{}` sends none."""
        body = {"outcome": "supported", "referrals": [], "needs": []} if wrapup is None else wrapup
        async with self.session.post(self.base.with_path(f"/api/console/conversations/{conversation_id}/close"),
                                     json=body, headers=self._headers()) as r:
            return r.status

    async def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """A state-changing console request: (status, JSON answer)."""
        async with self.session.post(self.base.with_path(path), json=body, headers=self._headers()) as r:
            return r.status, await r.json()

    async def get(self, path: str) -> tuple[int, dict[str, Any]]:
        async with self.session.get(self.base.with_path(path)) as r:
            return r.status, await r.json()

    async def take_next(self) -> tuple[int, dict[str, Any]]:
        return await self.post("/api/console/next")

    async def note(self, conversation_id: int, text: str) -> tuple[int, dict[str, Any]]:
        return await self.post(f"/api/console/conversations/{conversation_id}/notes", {"text": text})

    async def transfer(self, conversation_id: int, note: str, queue: str | None = None,
                       to: str | None = None) -> tuple[int, dict[str, Any]]:
        return await self.post(f"/api/console/conversations/{conversation_id}/transfer",
                               {"note": note, "queue": queue, "to": to})

    async def set_presence(self, presence: str) -> tuple[int, dict[str, Any]]:
        return await self.post("/api/console/presence", {"presence": presence})

    async def connect(self) -> dict[str, Any]:
        self.ws = await self.session.ws_connect(self.base.with_path("/console/ws"), origin=str(self.base))
        self._reader = asyncio.create_task(self._read(self.ws))
        return await self.wait_for(lambda f: f["type"] == "queue")

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                frame = msg.json()
                if self.on_frame is not None:
                    self.on_frame(frame)
                await self.frames.put(frame)

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        return await _next_matching(self.frames, predicate, timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.session.close()


async def waiting_chat(base_url: str) -> ChatClient:
    """A person in the web chat who went through triage (English, sells, no more questions) and waits."""
    contact = ChatClient(base_url, lang="en")
    await contact.connect()
    for choice in ("en", "sells", "skip"):
        await contact.choose(choice)
    await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued")
    return contact
