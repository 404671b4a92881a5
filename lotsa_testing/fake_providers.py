"""Small fake provider servers on 127.0.0.1 for tests and benchmarks: the Telegram Bot API and the
Twilio REST API. The real python-telegram-bot and twilio libraries talk to them over HTTP, so what
is tested is the real client code, not a mock of it. They record what was sent and can be told to
fail (429, 500) or go down. Never used by the service itself.
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Failure:
    status: int
    remaining: int
    retry_after: int | None = None


@dataclass
class FakeProvider:
    """Shared by both fakes: a server on a free port that records calls and can fail on demand."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    """When each call arrived (monotonic clock), for benchmarks."""
    failures: list[Failure] = field(default_factory=list)
    server: TestServer | None = None
    port: int | None = None
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def fail_next(self, status: int, count: int = 1, retry_after: int | None = None) -> None:
        self.failures.append(Failure(status, count, retry_after))

    def _failure(self) -> Failure | None:
        while self.failures and self.failures[0].remaining <= 0:
            self.failures.pop(0)
        if not self.failures:
            return None
        self.failures[0].remaining -= 1
        return self.failures[0]

    async def _record(self, method: str, params: dict[str, Any]) -> None:
        self.calls.append((method, params))
        self.times.append(time.monotonic())
        async with self.arrived:
            self.arrived.notify_all()

    def sent(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def wait_for(self, method: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.sent(method)) >= count), timeout)
        return self.sent(method)

    def _app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> str:
        """Listen (again, on the same port after `stop`); returns the base URL."""
        self.server = TestServer(self._app(), host="127.0.0.1", port=self.port or 0)
        await self.server.start_server(access_log=None)
        self.port = self.server.port
        return self.url

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class FakeTelegram(FakeProvider):
    """The Bot API methods Lotsa uses: getMe, sendMessage, deleteMessage, answerCallbackQuery,
    getUpdates, deleteWebhook."""

    token: str = "123456:TEST-token"
    updates: list[dict[str, Any]] = field(default_factory=list)
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    def queue_update(self, update: dict[str, Any]) -> None:
        """An update for a bot that polls (getUpdates)."""
        self.updates.append(update)
        self._new_update.set()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params: dict[str, Any] = dict(await request.post()) if request.body_exists else {}
        if request.content_type == "application/json":
            params = await request.json()
        for key in ("reply_markup",):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        if method not in ("getUpdates", "getMe", "deleteWebhook"):
            failure = self._failure()
            if failure is not None:
                body: dict[str, Any] = {"ok": False, "error_code": failure.status,
                                        "description": "Too Many Requests" if failure.status == 429 else "Error"}
                if failure.retry_after is not None:
                    body["parameters"] = {"retry_after": failure.retry_after}
                return web.json_response(body, status=failure.status)
        result = await getattr(self, f"_{method}", self._unknown)(params)
        await self._record(method, params)
        return web.json_response({"ok": True, "result": result})

    async def _unknown(self, params: dict[str, Any]) -> Any:
        raise web.HTTPNotFound(text=json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}),
                               content_type="application/json")

    async def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": 4242, "is_bot": True, "first_name": "Lotsa", "username": "lotsa_test_bot"}

    async def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"}, "text": params.get("text", "")}

    async def _deleteMessage(self, params: dict[str, Any]) -> bool:
        return True

    async def _answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    async def _deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), min(float(params.get("timeout") or 0), 1.0))
            except TimeoutError:
                pass
        return list(self.updates)


@dataclass
class FakeTwilio(FakeProvider):
    """The REST resources Lotsa uses: Messages (send) and Calls (place a callback, redirect a call)."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-auth-token"
    hang_seconds: float = 0.0
    """Take a message, then wait this long before answering (to kill the sender mid-request)."""

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages.json", self._list_messages)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", self._calls)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls/{call}.json", self._call_update)
        return app

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return (request.headers.get("Authorization") == f"Basic {expected}"
                and request.match_info["sid"] == self.account_sid)

    async def _guard(self, request: web.Request) -> web.Response | None:
        if not self._authorised(request):
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        failure = self._failure()
        if failure is not None:
            return web.json_response({"code": 20429 if failure.status == 429 else 20500,
                                      "message": "Too Many Requests" if failure.status == 429 else "Error",
                                      "status": failure.status}, status=failure.status)
        return None

    async def _messages(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        params = {k: str(v) for k, v in (await request.post()).items()}
        message = {**params, "sid": "SM" + uuid.uuid4().hex, "date_created": formatdate(usegmt=True)}
        await self._record("message", message)
        if self.hang_seconds:
            await asyncio.sleep(self.hang_seconds)
        return web.json_response(self._resource(message), status=201)

    async def _list_messages(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        found = [m for name, m in reversed(self.calls) if name == "message"
                 and m.get("To") == request.query.get("To", m.get("To"))
                 and m.get("From") == request.query.get("From", m.get("From"))]
        size = int(request.query.get("PageSize", "50"))
        return web.json_response({"messages": [self._resource(m) for m in found[:size]], "next_page_uri": None,
                                  "page": 0, "page_size": size, "uri": request.path_qs})

    def _resource(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"sid": params["sid"], "account_sid": self.account_sid, "to": params.get("To"),
                "from": params.get("From"), "body": params.get("Body"), "status": "sent",
                "date_created": params["date_created"], "num_segments": "1", "direction": "outbound-api"}

    async def _calls(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        params = {k: str(v) for k, v in (await request.post()).items()}
        sid = "CA" + uuid.uuid4().hex
        await self._record("call", {**params, "sid": sid})
        return web.json_response({"sid": sid, "account_sid": self.account_sid, "to": params.get("To"),
                                  "from": params.get("From"), "status": "queued"}, status=201)

    async def _call_update(self, request: web.Request) -> web.Response:
        refused = await self._guard(request)
        if refused is not None:
            return refused
        params = {k: str(v) for k, v in (await request.post()).items()}
        await self._record("call_update", {**params, "sid": request.match_info["call"]})
        return web.json_response({"sid": request.match_info["call"], "account_sid": self.account_sid,
                                  "status": "in-progress"})
