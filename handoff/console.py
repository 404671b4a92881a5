"""The counsellor console: log-in, the queue, claiming, chatting and closing (docs/protocol.md)."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy import select, update

from handoff import claims
from handoff.dropoff import heartbeat
from handoff.notes import add_note
from handoff.queue_state import QueueSnapshot
from handoff.skills import supervises
from handoff.supervision import PRESENCES, me_json, overview, overview_of, queues_json
from handoff.transfer import TransferRequest, transfer
from handoff.wrapup import OUTCOMES, parse_wrapup
from lotsa import appkeys, audit
from lotsa.auth import AuthError, authenticate, has_sessions, login, logout, session_alive
from lotsa.client_address import client_key
from lotsa.coalesce import Coalescer
from lotsa.errors import Refused, ascii_id
from lotsa.events import (
    CONSOLE_TOPIC,
    QUEUE_TOPIC,
    RESYNC,
    SESSION_TOPIC,
    Event,
    Subscription,
    conversation_topic,
    write_announcing,
)
from lotsa.models import ConversationState, Role, StaffUser, utcnow
from lotsa.origins import site_origins
from lotsa.pages import page_context
from lotsa.rate_limit import RateLimit

log = logging.getLogger(__name__)

COOKIE = "lotsa_staff"
SECURE_COOKIE = "__Host-lotsa_staff"
"""With `cookie_secure` the browser keeps the cookie only if it came over HTTPS, for this host
alone (no Domain) and path /: no subdomain or plain-http page can set or shadow it."""


def settings_secure(request: web.Request) -> bool:
    return request.app[appkeys.SETTINGS].cookie_secure


def cookie_name(request: web.Request) -> str:
    return SECURE_COOKIE if settings_secure(request) else COOKIE


STATIC = Path(__file__).parent / "static"


def _lang(request: web.Request) -> str:
    return "en" if request.headers.get("Accept-Language", "").lower().startswith("en") else "sv"


def same_origin(request: web.Request) -> bool:
    """The request comes from this site's own pages.

    Browsers say so in `Sec-Fetch-Site`; without it, `Origin` must be this site (its public URL or
    the host asked for). `Origin: null` (sent under a no-referrer policy) counts only with the former.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and origin in site_origins(request)


async def current_staff(request: web.Request) -> tuple[str, StaffUser] | None:
    cookie = request.cookies.get(cookie_name(request))
    if not cookie:
        return None
    return await authenticate(request.app[appkeys.DB], cookie, request.app[appkeys.SESSION_TIMES],
                              request.app[appkeys.EVENTS])


def route_id(request: web.Request, what: str = "conversation") -> int:
    """The `{id}` of a JSON route (see `lotsa.errors.ascii_id`), else a JSON 404 naming `what`."""
    value = ascii_id(request.match_info["id"])
    if value is None:
        raise Refused("not_found", f"No such {what}.", 404)
    return value


STAFF = (Role.COUNSELLOR, Role.SUPERVISOR, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)


async def require_staff(request: web.Request, *, state_changing: bool,
                        roles: Collection[str] = STAFF) -> tuple[str, StaffUser]:
    """The logged-in staff member, with one of `roles`; state-changing requests need the CSRF token."""
    found = await current_staff(request)
    if found is None:
        raise Refused("login_required", "Log in first.", 401)
    sid, user = found
    if user.role not in roles:
        raise Refused("role", "Your role may not do this.", 403)
    if state_changing:
        expected = request.app[appkeys.KEYRING].csrf_token(sid)
        given = request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(expected, given):
            raise Refused("csrf", "The CSRF token is missing or wrong.", 403)
    return sid, user


async def console_page(request: web.Request) -> web.StreamResponse:
    found = await current_staff(request)
    if found is None:
        return aiohttp_jinja2.render_template("login.html", request, _login_context(request, None, ""))
    sid, user = found
    return aiohttp_jinja2.render_template("console.html", request, page_context(
        request, _lang(request), "console", vocabulary=True, user=user,
        csrf_token=request.app[appkeys.KEYRING].csrf_token(sid)))


def _login_context(request: web.Request, error: str | None, name: str) -> dict[str, Any]:
    return page_context(request, _lang(request), "console", script=False, error=error, name=name)


async def _form(request: web.Request) -> Any:
    try:
        return await request.post()
    except (UnicodeDecodeError, ValueError):   # e.g. a body that is not UTF-8
        raise web.HTTPBadRequest(text="The form cannot be read.") from None


async def login_post(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        raise web.HTTPForbidden(text="Forbidden: cross-site log-in.")
    form = await _form(request)
    name = str(form.get("name", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    settings = request.app[appkeys.SETTINGS]
    try:
        cookie, user = await login(request.app[appkeys.DB], name, password, request.app[appkeys.SESSION_TIMES],
                                   address=client_key(request, settings.trusted_proxies),
                                   throttle=request.app[appkeys.LOGIN_THROTTLE])
    except AuthError as e:
        log.info("console log-in refused")
        response = aiohttp_jinja2.render_template("login.html", request, _login_context(request, str(e), name))
        response.set_status(401)
        return response
    log.info("console log-in", extra={"staff": user.id})
    await audit.record(request.app[appkeys.DB], user, "staff.login")
    async with request.app[appkeys.DB].write() as session:   # a log-in starts a shift: available
        await session.execute(update(StaffUser).where(StaffUser.id == user.id).values(presence="available")
                              .execution_options(synchronize_session=False))
    response = web.HTTPSeeOther("/console")
    response.set_cookie(cookie_name(request), cookie, httponly=True, secure=settings.cookie_secure, samesite="Strict",
                        path="/", max_age=settings.session_max_hours * 3600)
    raise response


async def logout_post(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    found = await current_staff(request)
    if found is not None:
        sid, _ = found
        token = str(form.get("csrf", ""))
        if not hmac.compare_digest(request.app[appkeys.KEYRING].csrf_token(sid), token):
            raise web.HTTPForbidden(text="Forbidden: missing CSRF token.")
        await _log_out(request, found[1])
    response = web.HTTPSeeOther("/console")
    response.del_cookie(cookie_name(request), path="/", secure=settings_secure(request))
    raise response


async def _log_out(request: web.Request, user: StaffUser) -> None:
    """End the session (its console sockets close); with no other session left the counsellor is
    away, so nobody waits on them while their drop-off runs."""
    db, events = request.app[appkeys.DB], request.app[appkeys.EVENTS]
    await logout(db, request.cookies[cookie_name(request)], events)
    await audit.record(db, user, "staff.logout")
    if not await has_sessions(db, user.id):
        async with write_announcing(db, events) as (session, announcements):
            await session.execute(update(StaffUser).where(StaffUser.id == user.id).values(presence="away")
                                  .execution_options(synchronize_session=False))
            announcements.append((QUEUE_TOPIC, Event("presence", 0, {})))


async def api_queue(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=False)
    async with request.app[appkeys.DB].read() as session:
        return web.json_response(await claims.queue_lists(session, request.app[appkeys.QUEUES], user,
                                                          _lang(request)))


async def api_conversation(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=False)
    db = request.app[appkeys.DB]
    async with db.read() as session:
        conversation, key, messages, names = await claims.load(session, route_id(request), user)
        notes = await claims.notes_of(session, conversation.id)
        earlier = await claims.earlier_of(session, conversation)
    holder = names.get(conversation.counsellor_id or 0)
    log.info("conversation opened", extra={"staff": user.id, "conversation": conversation.id})
    await audit.record(db, user, "conversation.opened", f"conversation:{conversation.id}")
    return web.json_response({
        "conversation": claims.summary(conversation, key, request.app[appkeys.QUEUES], _lang(request), holder,
                                       user=user, earlier=earlier, texts=request.app[appkeys.TEXTS]),
        "messages": claims.transcript(messages, names), "notes": notes})


CLAIM_REFUSALS = {
    "already_claimed": (409, "Someone else took this conversation."),
    "at_capacity": (409, "You have as many chats as you can take."),
    "not_skilled": (403, "This conversation needs a language or queue you do not take."),
}


async def _claimed(request: web.Request, user: StaffUser, result: claims.Claim) -> web.Response:
    if not result.ok:
        status, message = CLAIM_REFUSALS[result.reason]
        raise Refused(result.reason, message, status)
    assert result.conversation is not None
    log.info("conversation claimed", extra={"staff": user.id, "conversation": result.conversation.id})
    db = request.app[appkeys.DB]
    await audit.record(db, user, "conversation.claimed", f"conversation:{result.conversation.id}")
    async with db.read() as session:
        conversation, key, _, _ = await claims.load(session, result.conversation.id, user)
    return web.json_response({"conversation": claims.summary(conversation, key, request.app[appkeys.QUEUES],
                                                             _lang(request), user.name, user=user,
                                                             texts=request.app[appkeys.TEXTS])})


async def api_claim(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=True)
    result = await claims.claim(request.app[appkeys.CONVERSATIONS], route_id(request), user)
    return await _claimed(request, user, result)


async def api_take_next(request: web.Request) -> web.Response:
    """The first waiting conversation this counsellor may take; `conversation` null when none."""
    _, user = await require_staff(request, state_changing=True)
    result = await claims.take_next(request.app[appkeys.CONVERSATIONS], user)
    if result.reason == "nothing_waiting":
        return web.json_response({"conversation": None})
    return await _claimed(request, user, result)


async def _json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise Refused("json_expected", "Send application/json.", 415)
    try:
        body = await request.json()
        json.dumps(body, ensure_ascii=False).encode()  # a lone surrogate ("\ud800") is not text: refused
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        raise Refused("bad_json", "The body is not valid JSON.", 400) from None
    if not isinstance(body, dict):
        raise Refused("bad_json", "The body is a JSON object.", 400)
    return body


async def api_send(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=True)
    body = await _json_body(request)
    text = body.get("text")
    if not isinstance(text, str):
        raise Refused("bad_text", "text is a string.", 400)
    message = await request.app[appkeys.PIPELINE].counsellor_message(route_id(request), user, text)
    payload = claims.transcript([message], {user.id: user.name})[0]
    return web.json_response({"message": payload}, status=201)


async def api_close(request: web.Request) -> web.Response:
    """Close with the wrap-up (outcome, referrals given, needs confirmed): required."""
    _, user = await require_staff(request, state_changing=True)
    handoff = request.app[appkeys.HANDOFF]
    body = await _json_body(request) if request.can_read_body else None
    wrapup = parse_wrapup(body, set(handoff.directory.referrals))
    conversation = await claims.close(request.app[appkeys.CONVERSATIONS], route_id(request), user, wrapup)
    log.info("conversation closed", extra={"staff": user.id, "conversation": conversation.id})
    await audit.record(request.app[appkeys.DB], user, "conversation.closed", f"conversation:{conversation.id}")
    return web.json_response({"conversation": {"id": conversation.id, "state": conversation.state}})


async def api_note(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=True)
    text = (await _json_body(request)).get("text")
    if not isinstance(text, str):
        raise Refused("bad_text", "text is a string.", 400)
    conversation_id = route_id(request)
    note = await add_note(request.app[appkeys.DB], request.app[appkeys.EVENTS], conversation_id, user, text)
    log.info("note added", extra={"staff": user.id, "conversation": conversation_id})
    return web.json_response({"note": note}, status=201)


async def api_transfer(request: web.Request) -> web.Response:
    """To a queue (`queue`) or a colleague (`to`), with a `note`. A supervisor may move any
    open conversation: that is how they reassign."""
    _, user = await require_staff(request, state_changing=True)
    body = await _json_body(request)
    queue, to, note = body.get("queue"), body.get("to"), body.get("note", "")
    if not all(v is None or isinstance(v, str) for v in (queue, to)) or not isinstance(note, str):
        raise Refused("bad_target", "queue, to and note are strings.", 400)
    done = await transfer(request.app[appkeys.CONVERSATIONS], request.app[appkeys.QUEUES],
                          route_id(request), user, TransferRequest(note=note, queue=queue, to=to))
    conversation = done.conversation
    log.info("conversation transferred", extra={"staff": user.id, "conversation": conversation.id})
    await audit.record(request.app[appkeys.DB], user, "conversation.transferred", f"conversation:{conversation.id}",
                       queue=queue, to=to)
    answer: dict[str, Any] = {"conversation": {"id": conversation.id, "state": conversation.state,
                                               "queue": conversation.queue}}
    if done.outside_skills:
        answer["outside_skills"] = True
    return web.json_response(answer)


async def api_presence(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=True)
    presence = (await _json_body(request)).get("presence")
    if presence not in PRESENCES:
        raise Refused("bad_presence", f"presence is one of {', '.join(PRESENCES)}.", 400)
    async with write_announcing(request.app[appkeys.DB], request.app[appkeys.EVENTS]) as (session, announcements):
        await session.execute(update(StaffUser).where(StaffUser.id == user.id).values(presence=presence)
                              .execution_options(synchronize_session=False))
        # Everyone's lists show presence: tell the consoles, as for any queue change.
        announcements.append((QUEUE_TOPIC, Event("presence", 0, {})))
    return web.json_response({"presence": presence})


async def api_directory(request: web.Request) -> web.Response:
    """Canned replies, referrals, wrap-up outcomes, queues and colleagues for the console's tools."""
    _, user = await require_staff(request, state_changing=False)
    lang = _lang(request)
    handoff = request.app[appkeys.HANDOFF]
    async with request.app[appkeys.DB].read() as session:
        colleagues = (await session.execute(select(StaffUser.name).where(
            StaffUser.active.is_(True), StaffUser.id != user.id).order_by(StaffUser.name))).scalars().all()
    return web.json_response({
        "canned": handoff.directory.canned_list(lang), "referrals": handoff.directory.referral_list(lang),
        "outcomes": list(OUTCOMES), "queues": queues_json(request.app[appkeys.QUEUES], lang, utcnow()),
        "colleagues": list(colleagues)})


async def api_overview(request: web.Request) -> web.Response:
    """Supervisors: every open conversation and every counsellor's presence."""
    await require_staff(request, state_changing=False, roles=SUPERVISORS)
    handoff = request.app[appkeys.HANDOFF]
    async with request.app[appkeys.DB].read() as session:
        return web.json_response(await overview(session, request.app[appkeys.QUEUES], _lang(request),
                                                handoff.drop_after))


FORWARDED = 1000
"""How many of the messages a console socket sent it remembers, so a resync does not send them again."""
SESSION_ENDED = 4401
"""The console socket's close code when its session ended (log-out, expiry, account disabled)."""


class ConsoleConnection:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse, sid: str, user: StaffUser) -> None:
        self.request = request
        self.ws = ws
        self.sid = sid
        self.user = user
        self.db = request.app[appkeys.DB]
        self.events = request.app[appkeys.EVENTS]
        self.queues = request.app[appkeys.QUEUES]
        self.lang = _lang(request)
        self.held: set[int] = set()
        self.closing: asyncio.Future[bool] | None = None
        self.typing_limit = RateLimit(burst=3, per_second=1.0)
        self.snapshots = request.app[appkeys.QUEUE_STATE]
        self.snapshot: QueueSnapshot | None = None
        """The newest snapshot handed out since the last frame (`on_snapshot`), not sent yet."""
        self.pushes = Coalescer(self.send_queue, 0, name="console-queue")
        """Never two frames at once, never the last one skipped; how often is the snapshots' business."""
        self.forwarded: dict[int, None] = {}
        """The ids of the last FORWARDED messages sent (in order): a resync sends only the others."""

    @property
    def sees_all(self) -> bool:
        return supervises(self.user)

    def on_snapshot(self, snapshot: QueueSnapshot) -> None:
        """A snapshot read after a change: the frame goes out from it at once."""
        self.snapshot = snapshot
        self.pushes.trigger()

    async def send_queue(self, fresh: bool = False) -> None:
        """The queue frame, from the process's shared snapshot filtered for this counsellor."""
        snapshot, self.snapshot = self.snapshot, None
        if snapshot is None or fresh:
            snapshot = await self.snapshots.get(fresh=fresh)
        self.user = snapshot.staff.get(self.user.id, self.user)
        lists = claims.lists_of(snapshot.waiting, snapshot.active, self.queues, self.user, self.lang)
        if fresh or snapshot.version == self.events.version(QUEUE_TOPIC):
            # A snapshot older than the last event would undo what `follow` already saw; the
            # trailing push after it brings the list up to date.
            self.held = {c["id"] for c in lists["mine"]}
        await self.ws.send_json(self._queue_frame(snapshot, lists))

    def _queue_frame(self, snapshot: QueueSnapshot, lists: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        now = utcnow()
        online_after = now - self.request.app[appkeys.HANDOFF].drop_after
        frame: dict[str, Any] = {
            "type": "queue", **lists, "queues": queues_json(self.queues, self.lang, now),
            "me": me_json(self.user, snapshot.counts.get(self.user.id, 0), online_after)}
        if self.sees_all:
            app = self.request.app
            frame["supervisor"] = {
                **overview_of(snapshot.staff.values(), snapshot.active, self.queues, self.lang, online_after),
                "surge": app[appkeys.PIPELINE].flood.surging(), "acute_held": app[appkeys.PIPELINE].flood.acute_held,
                "login_burst": app[appkeys.LOGIN_THROTTLE].burst()}
        return frame

    def follow(self, event: Event) -> None:
        """Which conversations this counsellor holds, from a state event at once: the queue frame
        that says so may come up to an interval later."""
        if event.kind != "state":
            return
        data = event.data
        if data.get("state") == ConversationState.ACTIVE and data.get("counsellor") == self.user.id:
            self.held.add(event.conversation_id)
        else:
            self.held.discard(event.conversation_id)

    def _visible(self, event: Event) -> bool:
        return (self.sees_all or event.conversation_id in self.held
                or event.data.get("counsellor") == self.user.id)

    async def on_event(self, event: Event) -> None:
        if event.kind == "alert":
            if self.sees_all:
                await self.ws.send_json({"type": "alert", "conversation": event.conversation_id,
                                         "reason": event.data["reason"]})
            return
        if event.kind not in ("message", "typing", "note") or not self._visible(event):
            return
        if event.kind == "message":
            await self.send_message(event.conversation_id, event.data["message"])
        elif event.kind == "typing":
            await self.ws.send_json({"type": "typing", "conversation": event.conversation_id})
        else:
            await self.ws.send_json({"type": "note", "conversation": event.conversation_id,
                                     "note": event.data["note"]})

    async def send_message(self, conversation_id: int, message: dict[str, Any]) -> None:
        self.forwarded[message["id"]] = None
        if len(self.forwarded) > FORWARDED:
            del self.forwarded[next(iter(self.forwarded))]
        await self.ws.send_json({"type": "message", "conversation": conversation_id, "message": message})

    async def catch_up(self, since: float) -> None:
        """Events from `since` (Unix time) on may have been missed (a resync): the queue read again,
        then the messages written since then in the conversations this console shows that it has
        not sent yet (the page opens a conversation with its whole transcript)."""
        snapshot = self.snapshot = await self.snapshots.get(fresh=True)
        await self.send_queue()
        shown = ({row[0].id for row in (*snapshot.waiting, *snapshot.active)} if self.sees_all
                 else set(self.held))
        if not shown:
            return
        async with self.db.read() as session:
            missed = await claims.messages_since(session, shown, datetime.fromtimestamp(since, UTC))
        for conversation_id, message in missed:
            if message["id"] not in self.forwarded:
                await self.send_message(conversation_id, message)

    async def end(self) -> None:
        """The session ended: close the socket; with no more heartbeats, the drop-off follows."""
        if self.closing is None:
            log.info("console socket closed: session ended", extra={"staff": self.user.id})
            self.closing = asyncio.ensure_future(self.ws.close(code=SESSION_ENDED, message=b"session ended"))
        await asyncio.shield(self.closing)   # the socket handler cancels this task once the socket ends

    async def beat(self) -> None:
        """Stamp this counsellor as present while the socket is open (drop-off detection), after
        checking that the session still holds (idle or absolute expiry, a disabled account)."""
        every = self.request.app[appkeys.HANDOFF].heartbeat_every
        times = self.request.app[appkeys.SESSION_TIMES]
        while True:
            try:
                if not await session_alive(self.db, self.sid, times, self.events):
                    await self.end()
                    return
                await heartbeat(self.db, self.user.id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("console heartbeat failed", extra={"staff": self.user.id})
            await asyncio.sleep(every)

    async def pump(self) -> None:
        """Messages, typing and notes go out as they come; queue frames go out when the process's
        snapshots hand out a new one (at most one per interval, the last one after the last change),
        by their own task."""
        bus = self.events
        async with bus.subscribe(QUEUE_TOPIC, CONSOLE_TOPIC, SESSION_TOPIC) as sub, self.pushes:
            self.snapshots.watch(self.on_snapshot)
            try:
                await self.send_queue(fresh=True)
                if await self._pump(sub):
                    return
            finally:
                self.snapshots.unwatch(self.on_snapshot)
        # The publisher ended the subscription (this console fell behind): the console reconnects
        # and reads everything again.
        await self.ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"reconnect")

    async def _pump(self, sub: Subscription) -> bool:
        """Until this console's session ends (True) or the subscription does (False)."""
        async for event in sub:
            if event.kind == "session_ended":
                if event.data.get("session") == self.sid:
                    await self.end()
                    return True
            elif event.kind == "state":
                self.follow(event)
            elif event.kind == RESYNC:
                await self.catch_up(event.data["since"])
            else:
                await self.on_event(event)
        return False

    async def on_frame(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except (ValueError, RecursionError):
            return
        if isinstance(frame, dict) and frame.get("type") == "typing":
            conversation = frame.get("conversation")
            if isinstance(conversation, int) and conversation in self.held and self.typing_limit.allow():
                self.events.publish(conversation_topic(conversation), Event("typing", conversation))


async def console_socket(request: web.Request) -> web.WebSocketResponse:
    if not same_origin(request):
        raise web.HTTPForbidden(text="Forbidden: cross-site WebSocket.")
    found = await current_staff(request)
    if found is None:
        raise web.HTTPUnauthorized(text="Log in first.")
    # No permessage-deflate (as the chat socket): small frames, no compression oracle over the
    # contacts' text and the console's own data, no deflate per console on every queue change.
    ws = web.WebSocketResponse(heartbeat=25, max_msg_size=16 * 1024, compress=False)
    await ws.prepare(request)
    request.app[appkeys.SOCKETS].add(ws)
    conn = ConsoleConnection(request, ws, *found)
    await heartbeat(conn.db, conn.user.id)
    pump = asyncio.create_task(conn.pump())
    beat = asyncio.create_task(conn.beat())
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await conn.on_frame(msg.data)
    finally:
        # First, before any await: the handler may be cancelled again here when the client went away.
        request.app[appkeys.SOCKETS].discard(ws)
        pump.cancel()
        beat.cancel()
        await asyncio.gather(pump, beat, return_exceptions=True)
        if conn.closing is not None:
            await asyncio.gather(conn.closing, return_exceptions=True)
    return ws


def setup(app: web.Application) -> None:
    app.router.add_get("/console", console_page)
    app.router.add_post("/console/login", login_post)
    app.router.add_post("/console/logout", logout_post)
    app.router.add_get("/console/ws", console_socket)
    app.router.add_get("/api/console/queue", api_queue)
    app.router.add_get("/api/console/conversations/{id}", api_conversation)
    app.router.add_post("/api/console/conversations/{id}/claim", api_claim)
    app.router.add_post("/api/console/conversations/{id}/messages", api_send)
    app.router.add_post("/api/console/conversations/{id}/close", api_close)
    app.router.add_post("/api/console/conversations/{id}/notes", api_note)
    app.router.add_post("/api/console/conversations/{id}/transfer", api_transfer)
    app.router.add_post("/api/console/next", api_take_next)
    app.router.add_post("/api/console/presence", api_presence)
    app.router.add_get("/api/console/directory", api_directory)
    app.router.add_get("/api/console/overview", api_overview)
    app.router.add_static("/static/console/", STATIC)
