"""The parts of a running Lotsa, built once from the settings, and the background work that lives
as long as the service (one aiohttp cleanup context each).

Everything is built before the server starts, so every channel gets the pipeline in its
constructor; what needs the event loop or the database (the schema check, the classifier, the
outbox relay, retention, the drop-off sweep) starts and stops in its cleanup context.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

import bot
from handoff.directory import Directory
from handoff.dropoff import sweep_forever
from handoff.notes import read_note
from handoff.out_of_hours import OutOfHours
from handoff.queue_state import QueueSnapshots
from handoff.queues import QueueDirectory
from handoff.service import Handoff
from handoff.wait_alerts import check_forever
from handoff.waits import WaitInfo
from lotsa.admin.live import LiveConfig, swap_assessor
from lotsa.auth import SessionTimes, end_sessions_of_other_keys
from lotsa.channels import Channel, registered
from lotsa.conversations import Conversations
from lotsa.crypto import Keyring
from lotsa.db import Database, head_revision
from lotsa.events import EventBus, EventPublisher
from lotsa.flood import follow_hold
from lotsa.leadership import Leadership
from lotsa.outbox import OutboxRelay
from lotsa.outgoing import Outgoing
from lotsa.pg_events import publisher_for
from lotsa.pipeline import Pipeline
from lotsa.retention import run_periodically
from lotsa.settings import ConfigError, Settings, config_folder
from lotsa.texts import Catalogue
from lotsa.triage_scripts import TriageScripts
from triage.assess import Assessor
from triage.phrasebook import PhraseBook, load_phrasebook
from triage.script import load_scripts

log = logging.getLogger(__name__)


def load_assessor(config_dir: Path, phrases: PhraseBook) -> Assessor:
    """The trained classifier of the configuration; rules and language detection alone without one."""
    model = config_dir / "triage" / "model"
    if (model / "config.cfg").exists():
        return Assessor.load(model, phrases)
    log.warning("no trained triage model: red-flag rules only (run `lotsa triage train`)")
    return Assessor.rules_only(phrases)


def build_conversations(settings: Settings, db: Database, events: EventPublisher | None = None) -> Conversations:
    """The state machine over `db`, for the service or a command (`lotsa purge`)."""
    outgoing = Outgoing(Keyring(settings.secret_bytes()), Catalogue.load(config_folder(settings.config_dir, "texts")),
                        safe_contact_after=timedelta(minutes=settings.safe_contact_after_minutes))
    return Conversations(db, events or EventBus(), outgoing)


@dataclass
class Services:
    settings: Settings
    db: Database
    conversations: Conversations
    pipeline: Pipeline
    handoff: Handoff
    relay: OutboxRelay
    channels: dict[str, Channel]
    phrases: PhraseBook
    live: LiveConfig
    leadership: Leadership

    @classmethod
    def build(cls, settings: Settings, extra_channels: Iterable[type[Channel]] = (),
              relay_poll: float = 1.0) -> Services:
        db = Database(settings.effective_database_url)
        conversations = build_conversations(settings, db, publisher_for(db, {"note": read_note}))
        directory = Directory.load(settings.config_dir)
        queues = QueueDirectory.load(settings.config_dir / "queues.yaml", known_referrals=set(directory.referrals))
        handoff = Handoff(queues, directory, WaitInfo(queues), timedelta(seconds=settings.handoff_dropoff_seconds),
                          settings.handoff_sweep_seconds)
        phrases = load_phrasebook(config_folder(settings.config_dir, "triage/phrases"))
        scripts = TriageScripts(load_scripts(settings.config_dir / "triage", phrases_digest=phrases.digest))
        pipeline = Pipeline(conversations, scripts, queues,
                            conversations.outgoing.keyring, None,
                            max_chars=settings.max_message_chars,
                            messages_per_minute=settings.contact_messages_per_minute,
                            out_of_hours=OutOfHours(queues, directory, conversations.outgoing.texts).answer,
                            wait_describer=handoff.waits.describe,
                            new_per_address_per_minute=settings.new_conversations_per_address_per_minute,
                            new_per_minute=settings.new_conversations_per_minute)
        bot.load_adapters()
        built = (cls_.from_settings(settings, pipeline) for cls_ in [*registered(), *extra_channels])
        channels = {channel.name: channel for channel in built if channel is not None}
        delivering = {name: c for name, c in channels.items() if c.delivers}
        conversations.outgoing.deliver_through(delivering)
        relay = OutboxRelay(conversations.db, conversations.outgoing.keyring, delivering, idle_poll=relay_poll,
                            lease=timedelta(seconds=settings.outbox_lease_seconds))
        conversations.on_outbox = relay.wake
        live = LiveConfig(conversations.db, conversations.events, settings.config_dir, scripts, phrases, conversations.outgoing.texts,
                          directory, queues, swap_assessor(pipeline))
        return cls(settings, conversations.db, conversations, pipeline, handoff, relay, channels, phrases, live,
                   Leadership(db))

    @property
    def session_times(self) -> SessionTimes:
        return SessionTimes(idle=timedelta(minutes=self.settings.session_idle_minutes),
                            absolute=timedelta(hours=self.settings.session_max_hours),
                            key_tag=self.conversations.outgoing.keyring.session_tag)

    def queue_snapshots(self) -> QueueSnapshots:
        return QueueSnapshots(self.db, self.conversations.events)

    # -- cleanup contexts: one per resource ------------------------------------------------------

    async def database(self, app: web.Application) -> AsyncIterator[None]:
        """The schema must be this version's; the configuration's active versions are in use and the
        triage scripts stored so conversations can pin them; the classifier is loaded (off the event loop)."""
        try:
            revision = await self.db.current_revision()
            if revision != head_revision():
                raise ConfigError(f"the database schema is at {revision or 'nothing'}, this version needs "
                                  f"{head_revision()}: run `lotsa db upgrade`")
            await self.live.start()
            self.phrases = self.live.phrases
            await end_sessions_of_other_keys(self.db, self.conversations.outgoing.keyring.session_tag,
                                             self.conversations.events)
            self.pipeline.assessor = await asyncio.get_running_loop().run_in_executor(
                None, load_assessor, self.settings.config_dir, self.phrases)
            await self.conversations.events.start()
            yield
            self.conversations.events.close()
            await self.conversations.events.stop()
            await self.pipeline.line.close()
        finally:
            await self.db.close()

    async def config_refresh(self, app: web.Application) -> AsyncIterator[None]:
        """What other workers (or `lotsa triage publish`) published, switched to when it is announced."""
        async with _background(self.live.follow(), "config-refresh"):
            yield

    async def outbox_relay(self, app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(self.relay.run(), name="outbox-relay")
        yield
        self.relay.stop()
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            log.warning("outbox relay did not finish its round in time")

    # Retention, the drop-off sweep and the wait alerts run on one worker at a time (lotsa.leadership).

    async def retention(self, app: web.Application) -> AsyncIterator[None]:
        settings = self.settings
        async with _background(self.leadership.run("retention", lambda: run_periodically(
                self.conversations, timedelta(minutes=settings.purge_interval_minutes), settings.retention_days,
                settings.reply_address_grace_hours)), "retention"):
            yield

    async def dropoff_sweep(self, app: web.Application) -> AsyncIterator[None]:
        async with _background(self.leadership.run("drop-off-sweep", lambda: sweep_forever(
                self.conversations, self.handoff.drop_after, self.handoff.sweep_every)), "drop-off-sweep"):
            yield

    async def acute_hold(self, app: web.Application) -> AsyncIterator[None]:
        """A supervisor's hold of the acute lane, on whichever worker, holds it on this one too."""
        async with _background(follow_hold(self.conversations.events, self.pipeline.flood), "acute-hold"):
            yield

    async def wait_alerts(self, app: web.Application) -> AsyncIterator[None]:
        async with _background(self.leadership.run("wait-alerts", lambda: check_forever(
                self.db, self.conversations.events, self.pipeline.queues, self.settings.alert_check_seconds)),
                "wait-alerts"):
            yield


@asynccontextmanager
async def _background(coroutine: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """A task that runs while the block runs, cancelled (and awaited) after it."""
    task = asyncio.create_task(coroutine, name=name)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
