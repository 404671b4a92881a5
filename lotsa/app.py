"""The aiohttp application factory: wires settings, storage, triage, channels and handoff."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import timedelta
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, web

from bot import hooks, telegram, twilio_sms, webchat
from bot.hooks import ProviderChannel
from handoff import audit_view, blocks, console, deadletters
from handoff.directory import Directory
from handoff.dropoff import sweep_forever
from handoff.out_of_hours import OutOfHours
from handoff.queue_state import QueueSnapshots
from handoff.queues import QueueDirectory
from handoff.service import Handoff
from handoff.waits import WaitInfo
from lotsa import appkeys, logs
from lotsa.auth import SessionTimes
from lotsa.channels import OutboundChannel
from lotsa.crypto import Keyring
from lotsa.db import Database, head_revision
from lotsa.events import EventBus
from lotsa.outbox import OutboxRelay
from lotsa.pages import texts_folder
from lotsa.pipeline import Pipeline, TriageScripts
from lotsa.retention import run_periodically
from lotsa.settings import ConfigError, Settings
from lotsa.texts import Catalogue
from triage.assess import Assessor
from triage.script import load_scripts

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
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response


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


def load_assessor(config_dir: Path) -> Assessor:
    """The trained classifier of the configuration; rules and language detection alone without one."""
    model = config_dir / "triage" / "model"
    if (model / "config.cfg").exists():
        return Assessor.load(model)
    log.warning("no trained triage model: red-flag rules only (run `lotsa triage train`)")
    return Assessor.rules_only()


def create_app(settings: Settings, *, channels: Iterable[OutboundChannel] = (),
               relay_poll: float = 1.0) -> web.Application:
    """Build the application; storage opens and closes with it (cleanup context)."""
    logs.silence_content_loggers()
    keyring = Keyring(settings.secret_bytes())
    scripts = TriageScripts(load_scripts(settings.config_dir / "triage"))
    directory = Directory.load(settings.config_dir)
    queues = QueueDirectory.load(settings.config_dir / "queues.yaml", known_referrals=set(directory.referrals))
    handoff = Handoff(queues, directory, WaitInfo(queues), timedelta(seconds=settings.handoff_dropoff_seconds),
                      settings.handoff_sweep_seconds)
    providers = provider_channels(settings, keyring)
    outbound = {c.name: c for c in [*channels, *providers]}

    app = web.Application(middlewares=[security_headers, error_middleware], client_max_size=MAX_BODY)
    app[appkeys.SETTINGS] = settings
    app[appkeys.KEYRING] = keyring
    app[appkeys.HANDOFF] = handoff
    app[appkeys.TEXTS] = Catalogue.load(texts_folder(settings.config_dir))
    app[appkeys.SESSION_TIMES] = SessionTimes(idle=timedelta(minutes=settings.session_idle_minutes),
                                              absolute=timedelta(hours=settings.session_max_hours))
    aiohttp_jinja2.setup(app, loader=jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(Path(webchat.__file__).parent / "templates"),
        jinja2.FileSystemLoader(Path(console.__file__).parent / "templates"),
    ]), autoescape=True)

    async def storage(app: web.Application) -> AsyncIterator[None]:
        db = Database(settings.effective_database_url)
        try:
            revision = await db.current_revision()
            if revision != head_revision():
                raise ConfigError(f"the database schema is at {revision or 'nothing'}, this version needs "
                                  f"{head_revision()}: run `lotsa db upgrade`")
            await scripts.publish(db)
            assessor = await asyncio.get_running_loop().run_in_executor(None, load_assessor, settings.config_dir)
            events = EventBus()
            relay = OutboxRelay(db, keyring, outbound, idle_poll=relay_poll,
                                lease=timedelta(seconds=settings.outbox_lease_seconds))
            pipeline = Pipeline(db, events, scripts, queues, keyring, assessor, outbox_channels=outbound,
                                max_chars=settings.max_message_chars, on_outbox=relay.wake,
                                safe_contact_channels=SAFE_CONTACT_CHANNELS & set(outbound),
                                safe_contact_after=timedelta(minutes=settings.safe_contact_after_minutes),
                                messages_per_minute=settings.contact_messages_per_minute,
                                out_of_hours=OutOfHours(queues, directory).answer)
            pipeline.wait_describer = lambda session, conversation: handoff.waits.describe(
                pipeline, session, conversation)
            for channel in outbound.values():
                if hasattr(channel, "pipeline"):
                    channel.pipeline = pipeline
            app[appkeys.DB], app[appkeys.EVENTS], app[appkeys.PIPELINE] = db, events, pipeline
            app[appkeys.OUTBOX] = relay
            app[appkeys.QUEUE_STATE] = QueueSnapshots(db, events)
            await asyncio.gather(*(p.start() for p in providers))
            task = asyncio.create_task(relay.run(), name="outbox-relay")
            retention = asyncio.create_task(run_periodically(
                db, timedelta(minutes=settings.purge_interval_minutes), settings.retention_days,
                settings.reply_address_grace_hours), name="retention")
            sweeper = asyncio.create_task(sweep_forever(pipeline, handoff.drop_after, handoff.sweep_every),
                                          name="drop-off-sweep")
            stop_polling = asyncio.Event()
            polling = [asyncio.create_task(telegram.poll(p, stop_polling), name="telegram-polling")
                       for p in providers if isinstance(p, telegram.TelegramChannel) and settings.telegram_polling]
            yield
            stop_polling.set()
            retention.cancel()
            sweeper.cancel()
            for poller in polling:
                poller.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            relay.stop()
            try:
                await asyncio.wait_for(task, 10)
            except TimeoutError:
                log.warning("outbox relay did not finish its round in time")
            await asyncio.gather(*polling, retention, return_exceptions=True)
            await asyncio.gather(*(p.close() for p in providers), return_exceptions=True)
            events.close()
        finally:
            await db.close()

    app[appkeys.SOCKETS] = set()

    async def close_sockets(app: web.Application) -> None:
        for ws in list(app[appkeys.SOCKETS]):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server restarting")

    app.on_shutdown.append(close_sockets)
    app.cleanup_ctx.append(storage)
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/neutral", neutral)
    app.router.add_get("/favicon.ico", favicon)
    webchat.setup(app)
    console.setup(app)
    deadletters.setup(app)
    blocks.setup(app)
    audit_view.setup(app)
    hooks.setup(app, settings, providers)
    return app


SAFE_CONTACT_CHANNELS = {"sms", "telegram"}
"""Channels that reach a phone someone else may read: the "is it safe to write now?" rule applies."""


def provider_channels(settings: Settings, keyring: Keyring) -> list[ProviderChannel]:
    """The provider channels whose secrets are configured; the others stay switched off."""
    providers: list[ProviderChannel] = []
    if settings.telegram_token is not None and (settings.telegram_webhook_secret or settings.telegram_polling):
        providers.append(telegram.TelegramChannel(
            settings.telegram_token.get_secret_value(), keyring, api_url=settings.telegram_api_url,
            per_chat_per_second=settings.telegram_per_chat_per_second, per_second=settings.telegram_per_second))
    if settings.twilio_enabled:
        providers.append(twilio_sms.SmsChannel.from_settings(settings, keyring))
    return providers


