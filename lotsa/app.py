"""The aiohttp application factory: wires settings, storage, triage, channels and handoff."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, web

from bot import webchat
from handoff import acute_hold, audit_view, blocks, console, deadletters, staff_admin, statistics_page
from lotsa import appkeys, logs, pages
from lotsa.admin import pages as admin_pages
from lotsa.admin import queue_page
from lotsa.channels import Channel
from lotsa.errors import Refused
from lotsa.events import QUEUE_TOPIC, Event
from lotsa.login_throttle import LoginThrottle
from lotsa.metrics import Metrics
from lotsa.services import Services
from lotsa.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One error path: HTTP errors pass through; anything else is logged (no content) and answered."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except asyncio.CancelledError:
        raise
    except Refused as e:
        return web.json_response({"error": e.code, "message": e.message}, status=e.status)
    except ConnectionResetError:
        # The client went away (e.g. mid-handshake): nothing is wrong here, and nobody to answer.
        log.info("client went away", extra={"route": request.path})
        return web.Response(status=400)
    except Exception:
        log.exception("request failed", extra={"route": request.path})
        return web.json_response({"error": "internal", "message": "Something went wrong on our side."},
                                 status=500)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as e:
        response = e
    embedders = request.app[appkeys.SETTINGS].chat_origins if request.path == "/chat" else []
    if embedders:   # the chat page may be framed by the organisations configured to embed it
        response.headers.setdefault("Content-Security-Policy", CSP.replace(
            "frame-ancestors 'none'", "frame-ancestors " + " ".join(embedders)))
    else:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def server_header(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer, sockets and static files included, names no server software or version."""
    response.headers["Server"] = "Lotsa"


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[appkeys.DB].ping()
    except Exception:
        log.warning("health check: database does not answer")
        return web.json_response({"status": "database unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/chat")


async def favicon(request: web.Request) -> web.Response:
    """No icon: a browser tab with a hotline's logo is exactly what a shared screen should not show."""
    return web.Response(status=204)


async def neutral(request: web.Request) -> web.Response:
    return web.Response(text="<!doctype html><title>Väder</title><p>Väder</p>", content_type="text/html")


def create_app(settings: Settings, *, channels: Iterable[type[Channel]] = (), relay_poll: float = 1.0
               ) -> web.Application:
    """The application: every part built from the settings, every channel adding its own routes,
    and one cleanup context per resource that lives as long as the service."""
    logs.silence_content_loggers()
    services = Services.build(settings, channels, relay_poll)
    metrics = _metrics(services, sockets=lambda: len(app[appkeys.SOCKETS]))
    app = web.Application(middlewares=[security_headers, error_middleware, metrics.time_webhooks],
                          client_max_size=MAX_BODY)
    _install(app, services)
    aiohttp_jinja2.setup(app, loader=jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(pages.TEMPLATES),
        jinja2.FileSystemLoader(Path(webchat.__file__).parent / "templates"),
        jinja2.FileSystemLoader(Path(console.__file__).parent / "templates"),
        jinja2.FileSystemLoader(admin_pages.TEMPLATES),
    ]), autoescape=True)
    app.router.add_static("/static/common/", pages.STATIC)
    app.cleanup_ctx.append(services.database)
    for channel in services.channels.values():
        channel.add_routes(app)
        app.cleanup_ctx.append(channel.running)
    app.cleanup_ctx.extend([services.config_refresh, services.outbox_relay, services.retention,
                            services.dropoff_sweep, services.wait_alerts, services.acute_hold])
    app.on_shutdown.append(close_sockets)
    app.on_response_prepare.append(server_header)
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics.handle)
    app.router.add_get("/neutral", neutral)
    app.router.add_get("/favicon.ico", favicon)
    for routes in (console.setup, deadletters.setup, blocks.setup, audit_view.setup, statistics_page.setup,
                   staff_admin.setup, acute_hold.setup):
        routes(app)
    admin_pages.setup(app, services.live)
    queue_page.setup(app)
    return app


def _metrics(services: Services, sockets: Callable[[], int]) -> Metrics:
    """The application's own registry, told of every stored message and every delivery attempt."""
    metrics = Metrics(services.db, services.settings, services.pipeline.queues.queues,
                      sorted(services.channels), sockets)
    services.conversations.on_message = metrics.count_message
    services.relay.on_attempt = metrics.count_delivery
    return metrics


def _install(app: web.Application, services: Services) -> None:
    """What request handlers reach through the application (typed keys: lotsa.appkeys)."""
    app[appkeys.SETTINGS] = services.settings
    app[appkeys.DB] = services.db
    app[appkeys.EVENTS] = services.conversations.events
    app[appkeys.KEYRING] = services.conversations.outgoing.keyring
    app[appkeys.TEXTS] = services.conversations.outgoing.texts
    app[appkeys.CONVERSATIONS] = services.conversations
    app[appkeys.PIPELINE] = services.pipeline
    app[appkeys.QUEUES] = services.pipeline.queues
    app[appkeys.HANDOFF] = services.handoff
    app[appkeys.OUTBOX] = services.relay
    app[appkeys.CHANNELS] = services.channels
    app[appkeys.SESSION_TIMES] = services.session_times
    app[appkeys.QUEUE_STATE] = services.queue_snapshots()
    events = services.conversations.events
    # A burst of failed log-ins: consoles refresh their queue frame, where supervisors see it.
    app[appkeys.LOGIN_THROTTLE] = LoginThrottle(lambda: events.publish(QUEUE_TOPIC, Event("presence", 0, {})))
    sockets: set[web.WebSocketResponse] = set()
    app[appkeys.SOCKETS] = sockets


async def close_sockets(app: web.Application) -> None:
    sockets = app[appkeys.SOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server restarting")
    await app[appkeys.QUEUE_STATE].close()
