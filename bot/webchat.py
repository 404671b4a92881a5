"""The anonymous web chat: a page at /chat and a WebSocket at /chat/ws (docs/protocol.md).

No account and no cookie: the page holds a random resume token in sessionStorage; the contact
key is a keyed hash of it, so the token itself is never stored.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy import select

from lotsa import appkeys, coalesce, feedback
from lotsa.channels import Channel, InboundMessage, register
from lotsa.client_address import client_key
from lotsa.coalesce import Coalescer
from lotsa.conversations import message_json
from lotsa.errors import Refused
from lotsa.events import CONSOLE_TOPIC, RESYNC, Event, conversation_topic
from lotsa.models import Contact, Conversation, ConversationState, Message
from lotsa.origins import chat_origin_allowed
from lotsa.pages import page_context
from lotsa.pipeline import Pipeline
from lotsa.rate_limit import RateLimit
from lotsa.settings import Settings
from lotsa.waiting_line import Line

log = logging.getLogger(__name__)

CHANNEL = "webchat"
STATIC = Path(__file__).parent / "static"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
CID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SOURCE = re.compile(r"^[a-z0-9_-]{1,32}$")
MAX_FRAME = 16 * 1024
HELLO_TIMEOUT = 10.0


def _page_language(request: web.Request) -> str:
    asked = request.query.get("lang")
    if asked in ("sv", "en"):
        return asked
    accept = request.headers.get("Accept-Language", "")
    return "en" if accept.lower().startswith("en") else "sv"


@aiohttp_jinja2.template("chat.html")
async def chat_page(request: web.Request) -> dict[str, Any]:
    settings = request.app[appkeys.SETTINGS]
    return page_context(request, _page_language(request), "chat", languages=("sv", "en"),
                        quick_exit_url=settings.quick_exit_url)


@register
class WebChat(Channel):
    """The web chat is always on: it needs no provider and no secret."""

    name = CHANNEL

    @classmethod
    def from_settings(cls, settings: Settings, pipeline: Pipeline) -> WebChat:
        return cls(pipeline)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/chat", chat_page)
        app.router.add_get("/chat/ws", self.socket)
        app.router.add_static("/static/chat/", STATIC)

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        return await chat_socket(request, self.pipeline)


def _contact_view(payload: dict[str, Any]) -> dict[str, Any]:
    """What the person sees of a message: never a counsellor's account name."""
    return {**payload, "author_name": None, "type": "message"}


class ChatConnection:
    """One open chat page."""

    def __init__(self, pipeline: Pipeline, ws: web.WebSocketResponse, client: str | None = None) -> None:
        self.ws = ws
        self.client = client
        """A keyed digest of the client's address, for the flood limit only (never stored)."""
        self.pipeline = pipeline
        self.keyring = pipeline.keyring
        self.lang = "sv"
        self.contact_key = ""
        self.conversation_id: int | None = None
        self.state = "new"
        self.position: int | None = None
        self.state_sent = False
        self.wait: dict[str, Any] | None = None
        self.last_sent = 0
        self.greeted = False
        self.feedback_asked = False
        """The post-chat feedback question is on the page: no new greeting until it is answered."""
        self.source: str | None = None
        self.greeting_shown_for: int | None = None
        """The conversation whose stored greeting this page already showed before it was stored."""
        self.limit = RateLimit()
        self.typing_limit = RateLimit(burst=3, per_second=1.0)
        """Typing is only an indicator: beyond this it is dropped, not answered."""
        self.erase_limit = RateLimit(burst=3, per_second=0.1)
        self.send_lock = asyncio.Lock()
        self.state_lock = asyncio.Lock()
        """Held from reading the conversation's state to sending it, so an older read is never sent
        after a newer one."""
        self.resubscribe = asyncio.Event()
        self.positions = Coalescer(self.refresh_position, coalesce.PUSH_SECONDS, name="chat-position")
        self.watching: int | None = None
        """The conversation whose place in the shared waiting line this page watches."""
        self.line_seen: tuple[Any, ...] | None = None

    async def send(self, frame: dict[str, Any]) -> None:
        if not self.ws.closed:
            await self.ws.send_json(frame)

    async def hello(self, frame: dict[str, Any]) -> None:
        token = frame.get("token")
        if not isinstance(token, str) or not TOKEN.match(token):
            token = secrets.token_urlsafe(32)
        lang = frame.get("lang")
        self.lang = lang if lang in ("sv", "en") else "sv"
        source = frame.get("source")
        self.source = source if isinstance(source, str) and SOURCE.match(source) else None
        after = frame.get("after")
        self.last_sent = after if isinstance(after, int) and after >= 0 else 0
        self.contact_key = self.keyring.contact_key(CHANNEL, token)
        async with self.pipeline.db.read() as session:
            conversation = (await session.execute(
                select(Conversation).join(Contact).where(Contact.key == self.contact_key)
                .order_by(Conversation.id.desc()).limit(1))).scalar()
        if conversation is not None:
            self.conversation_id = conversation.id
            self.state = conversation.state
            self.lang = conversation.language or self.lang
        await self.send({"type": "welcome", "token": token, "state": self.state, "lang": self.lang})
        await self.catch_up()
        if self.state in ("new", ConversationState.CLOSED):
            await self.greet()

    async def greet(self) -> None:
        for reply in self.pipeline.scripts.for_new_conversation().start(self.lang).replies:
            await self.send({"type": "message", "id": None, "author": "bot", "author_name": None,
                             "text": reply.text, "cid": None, "at": None,
                             "choices": [{"id": c, "label": label} for c, label in reply.choices]})
        self.greeted = True

    async def catch_up(self) -> None:
        """Send every message after the last one the page has, then the current state."""
        if self.conversation_id is None:
            return
        async with self.state_lock, self.send_lock:
            async with self.pipeline.db.read() as session:
                conversation = await session.get(Conversation, self.conversation_id)
                messages = (await session.execute(
                    select(Message).where(Message.conversation_id == self.conversation_id,
                                          Message.id > self.last_sent).order_by(Message.id))).scalars().all()
            placed = (await self.pipeline.place_in_line(conversation.id)
                      if conversation is not None and conversation.state == ConversationState.QUEUED else None)
            for message in messages:
                await self._send_message(message_json(message))
            if conversation is not None:
                position, wait = placed or (None, None)
                await self._place(conversation.state, position, wait)

    async def refresh_position(self) -> None:
        """While waiting: the place in line and the wait after someone else's conversation moved
        (coalesced by `positions`), from the waiting line every waiting page of this process shares
        (one read per change, not one per page). Messages do not wait for it: it does not take the
        send lock."""
        conversation_id = self.conversation_id
        if conversation_id is None or self.state != ConversationState.QUEUED:
            return
        async with self.state_lock:
            placed = await self.pipeline.place_in_line(conversation_id)
            if placed is None:
                return   # no longer waiting: its own state event tells the page, with its messages
            if self.conversation_id == conversation_id and self.state == ConversationState.QUEUED:
                await self._place(ConversationState.QUEUED, *placed)

    async def _place(self, state: str, position: int | None, wait: dict[str, Any] | None) -> None:
        await self._state(state, position)
        if wait is not None and wait != self.wait:
            self.wait = wait
            await self.send(wait)

    async def _send_message(self, payload: dict[str, Any]) -> None:
        if not (payload["greeting"] and self.greeting_shown_for == self.conversation_id):
            await self.send(_contact_view(payload))
        self.last_sent = payload["id"]
        if payload["author"] == "bot":
            asks = any(c["id"].startswith(feedback.PREFIX) for c in payload["choices"])
            if self.feedback_asked and not asks:
                self.feedback_asked = False   # the thanks: a new conversation may start
                await self.greet()
            self.feedback_asked = asks

    async def _state(self, state: str, position: int | None) -> None:
        if (state, position) != (self.state, self.position) or not self.state_sent:
            self.state, self.position, self.state_sent = state, position, True
            self.follow_line()
            await self.send({"type": "state", "state": state, "position": position})

    def follow_line(self) -> None:
        """Watch the shared waiting line while this conversation waits, and only then."""
        wanted = self.conversation_id if self.state == ConversationState.QUEUED else None
        if wanted == self.watching:
            return
        if self.watching is not None:
            self.pipeline.line.unwatch(self.watching, self.on_line)
        if wanted is not None:
            self.pipeline.line.watch(wanted, self.on_line)
        self.watching = wanted

    def on_line(self, line: Line) -> None:
        """Someone else's conversation moved: push only if this person's place (or the claims the
        estimate is made from) changed. A look-up: called for every waiting page of the process."""
        conversation_id = self.conversation_id
        if conversation_id is None or self.state != ConversationState.QUEUED:
            return
        place = line.place(conversation_id)
        if place is None:
            return   # no longer waiting: its own state event tells the page
        claims = line.claims.get(place.queue, [])
        seen = (place.position, len(claims), claims[0] if claims else None)
        if seen != self.line_seen:
            self.line_seen = seen
            self.positions.trigger()

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "typing":
            if (self.conversation_id is not None and self.state == ConversationState.ACTIVE
                    and self.typing_limit.allow()):
                self.pipeline.events.publish(CONSOLE_TOPIC, Event("typing", self.conversation_id))
            return
        if kind == "erase":
            if not self.erase_limit.allow():
                raise Refused("rate", "You are sending very fast. Wait a moment.", 429)
            await self.erase()
            return
        if kind not in ("say", "choose"):
            raise Refused("bad_frame", "Unknown frame type.")
        if not self.limit.allow():
            raise Refused("rate", "You are sending very fast. Wait a moment.", 429)
        cid = frame.get("cid")
        if not isinstance(cid, str) or not CID.match(cid):
            raise Refused("bad_frame", "A message needs a valid cid.")
        text, choice = "", None
        if kind == "say":
            said = frame.get("text")
            if not isinstance(said, str):
                raise Refused("bad_frame", "A message needs text.")
            text = said
        else:
            choice = frame.get("choice")
            if not isinstance(choice, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", choice):
                raise Refused("bad_frame", "Unknown choice.")
        inbound = InboundMessage(channel=CHANNEL, contact_key=self.contact_key,
                                 provider_message_id=f"{self.contact_key[:16]}:{cid}", text=text,
                                 choice=choice, language=self.lang, client_ref=cid, greeted=self.greeted,
                                 source=self.source, client=self.client)
        accepted = await self.pipeline.accept(inbound)
        await self.send({"type": "ack", "cid": cid, "id": accepted.message_id})
        if accepted.conversation_id != self.conversation_id:
            self.conversation_id = accepted.conversation_id
            self.greeting_shown_for = accepted.conversation_id if self.greeted else None
            self.greeted = False
            self.resubscribe.set()
        log.info("webchat message stored", extra={"conversation": accepted.conversation_id,
                                                  "message_id": accepted.message_id})

    async def erase(self) -> None:
        """The person deletes their conversation: transcript gone, statistics kept, token unlinked."""
        erased = await self.pipeline.requests.erase_contact(CHANNEL, self.contact_key)
        log.info("webchat conversation erased by the contact", extra={"conversations": erased.conversations})
        self.conversation_id, self.state, self.last_sent = None, "new", 0
        self.follow_line()
        self.resubscribe.set()
        await self.send({"type": "erased"})

    async def on_event(self, event: Event) -> None:
        if event.kind == "message" and event.conversation_id == self.conversation_id:
            payload = event.data["message"]
            async with self.send_lock:
                if payload["id"] > self.last_sent:
                    await self._send_message(payload)
        elif event.kind == "typing" and event.conversation_id == self.conversation_id:
            await self.send({"type": "typing"})
        elif event.kind == "state" and event.conversation_id == self.conversation_id:
            await self.catch_up()
            if event.data["state"] == ConversationState.CLOSED and not self.feedback_asked:
                await self.greet()
        elif event.kind == RESYNC:
            # Events may have been missed: the messages and the state from the database.
            was = self.state
            await self.catch_up()
            if self.state == ConversationState.CLOSED and was != self.state and not self.feedback_asked:
                await self.greet()

    async def pump(self) -> None:
        """Forward events of this conversation to the page (and, while it waits, its place in line:
        `on_line`)."""
        async with self.positions:
            try:
                await self._pump()
            finally:
                self.state = "gone"
                self.follow_line()
        if not self.ws.closed:
            # The publisher ended the subscription (this page fell behind): the page reconnects
            # and catches up from the database.
            await self.ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"reconnect")

    async def _pump(self) -> None:
        while not self.ws.closed:
            self.resubscribe.clear()
            topics = [conversation_topic(self.conversation_id)] if self.conversation_id else []
            async with self.pipeline.events.subscribe(*topics) as sub:
                await self.catch_up()
                next_event = asyncio.ensure_future(anext(sub, None))
                changed = asyncio.ensure_future(self.resubscribe.wait())
                try:
                    while True:
                        done, _ = await asyncio.wait({next_event, changed}, return_when=asyncio.FIRST_COMPLETED)
                        if changed in done:
                            break
                        event = next_event.result()
                        if event is None:
                            return
                        await self.on_event(event)
                        next_event = asyncio.ensure_future(anext(sub, None))
                finally:
                    next_event.cancel()
                    changed.cancel()


def _parse(data: str) -> dict[str, Any]:
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise Refused("bad_frame", "Frames are JSON objects.") from None
    if not isinstance(frame, dict):
        raise Refused("bad_frame", "Frames are JSON objects.")
    return frame


async def chat_socket(request: web.Request, pipeline: Pipeline) -> web.WebSocketResponse:
    if not chat_origin_allowed(request):
        raise web.HTTPForbidden(text="Forbidden: this site does not embed the chat.")
    # No permessage-deflate: frames are small JSON; one deflate stream per socket would mix a
    # person's words with the rest of the frame (a compression oracle) and cost CPU on every send.
    ws = web.WebSocketResponse(heartbeat=25, max_msg_size=MAX_FRAME, compress=False)
    await ws.prepare(request)
    conn = ChatConnection(pipeline, ws, client_key(request, request.app[appkeys.SETTINGS].trusted_proxies))
    try:
        first = await ws.receive(timeout=HELLO_TIMEOUT)
        if first.type != WSMsgType.TEXT:
            await ws.close(code=4400, message=b"hello expected")
            return ws
        frame = _parse(first.data)
        if frame.get("type") != "hello":
            raise Refused("bad_frame", "The first frame is hello.")
        await conn.hello(frame)
    except (Refused, TimeoutError) as e:
        await ws.close(code=4400, message=str(e).encode()[:120])
        return ws
    request.app[appkeys.SOCKETS].add(ws)
    pump = asyncio.create_task(conn.pump())
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    await conn.on_frame(_parse(msg.data))
                except Refused as e:
                    await conn.send({"type": "error", "code": e.code, "message": e.message})
                except Exception:
                    # One bad frame must not end the person's connection: answer it and go on.
                    log.exception("webchat frame failed", extra={"conversation": conn.conversation_id or 0})
                    await conn.send({"type": "error", "code": "internal",
                                     "message": "Something went wrong on our side. Try again."})
            elif msg.type == WSMsgType.BINARY:
                await conn.send({"type": "error", "code": "bad_frame", "message": "Binary frames are not accepted."})
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        # First, before any await: the handler may be cancelled again here when the client went away.
        request.app[appkeys.SOCKETS].discard(ws)
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
    return ws
