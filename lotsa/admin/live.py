"""The configuration a worker runs with: the active version of every document.

At start the configuration folder's files are imported (where they changed) and the active versions
replace what was built from the files where they differ. A publish announces itself with its commit
(a `config` event: on PostgreSQL a NOTIFY to every worker, `lotsa triage publish` included), and
every worker switches when it hears it; the worker that publishes switches at once. A worker also
asks the database now and then whether anything was published (one indexed read of the newest
version id): on PostgreSQL every SAFETY_POLL_SECONDS, a safety net should an announcement ever be
missed; on SQLite every POLL_SECONDS, since there another process (`lotsa triage publish`) cannot
announce anything to the worker. Triage scripts switch for new conversations only: a conversation
keeps the script version it pinned when it started (lotsa.triage_scripts).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from handoff.directory import Directory
from handoff.queues import QueueDirectory
from lotsa.admin.bundle import PARTS, Loaded, load
from lotsa.admin.documents import Document, DocumentStore, Key, digest, file_documents
from lotsa.db import Database
from lotsa.events import CONFIG_TOPIC, EventPublisher, Subscription
from lotsa.texts import Catalogue
from lotsa.triage_scripts import TriageScripts, store_versions
from triage.assess import Assessor
from triage.phrasebook import PhraseBook

log = logging.getLogger(__name__)

POLL_SECONDS = 3.0
SAFETY_POLL_SECONDS = 30.0


def adopt(target: Any, source: Any) -> None:
    """Make `target` the newly loaded `source` in place. The texts, the directory and the queues are
    held by reference by many parts (the pipeline, the console, the out-of-hours answer, the waits):
    changing the object they hold switches them all at once, with no part to re-wire."""
    vars(target).update(vars(source))


class LiveConfig:
    def __init__(self, db: Database, events: EventPublisher, config_dir: Path, scripts: TriageScripts,
                 phrases: PhraseBook, texts: Catalogue, directory: Directory, queues: QueueDirectory,
                 on_phrases: Callable[[PhraseBook], None]) -> None:
        self.store = DocumentStore(db)
        self.events = events
        self.config_dir = config_dir
        self.scripts, self.phrases, self.texts = scripts, phrases, texts
        self.directory, self.queues = directory, queues
        self.on_phrases = on_phrases
        self.running: dict[Key, str] = {key: digest(content) for key, content in file_documents(config_dir).items()}
        """The digest of the version of each document this worker runs (at first: the files')."""
        self.seen_id = -1

    async def start(self) -> None:
        files = file_documents(self.config_dir)
        try:
            imported = await self.store.import_files(files)
        except IntegrityError:   # workers starting together: another one imported the same version first
            imported = await self.store.import_files(files)
        if imported:
            log.info("configuration files imported", extra={"documents": len(imported)})
        await self.refresh()
        await self.scripts.publish(self.store.db)

    async def refresh(self) -> None:
        """Switch to whatever was published since the last look (cheap when nothing was)."""
        newest = await self.store.latest_id()
        if newest == self.seen_id:
            return
        active = await self.store.active()
        changed = {key for key, doc in active.items() if self.running.get(key) != doc.digest}
        if changed:
            parts = set().union(*(PARTS[kind] for kind, _ in changed))
            loaded = load({key: doc.content for key, doc in active.items()}, parts)
            async with self.store.db.write() as session:
                await store_versions(session, loaded.scripts.values())
            self.apply(loaded)
            log.info("configuration switched", extra={"documents": len(changed)})
        self.running = {key: doc.digest for key, doc in active.items()}
        self.seen_id = newest

    def apply(self, loaded: Loaded) -> None:
        if loaded.phrases is not None and loaded.phrases.digest != self.phrases.digest:
            self.phrases = loaded.phrases
            self.on_phrases(loaded.phrases)
        if loaded.scripts:
            self.scripts.use(loaded.scripts)
        for target, source in ((self.texts, loaded.texts), (self.directory, loaded.directory),
                               (self.queues, loaded.queues)):
            if source is not None:
                adopt(target, source)

    async def active(self) -> dict[Key, Document]:
        return await self.store.active()

    def poll_seconds(self) -> float:
        return POLL_SECONDS if self.store.db.sqlite else SAFETY_POLL_SECONDS

    async def follow(self) -> None:
        """Switch when a publish is announced (or a resync says announcements may have been missed),
        and every `poll_seconds()` in any case."""
        every = self.poll_seconds()
        while True:
            async with self.events.subscribe(CONFIG_TOPIC) as sub:
                while await _next_or_timeout(sub, every):
                    try:
                        await self.refresh()
                    except Exception:
                        log.exception("configuration refresh failed; trying again")
            await asyncio.sleep(every)   # the publisher ended the subscription (shutting down)


async def _next_or_timeout(sub: Subscription, timeout: float) -> bool:
    """Wait for the next event or `timeout` seconds (True), or the subscription's end (False)."""
    try:
        return await asyncio.wait_for(anext(sub, None), timeout) is not None
    except TimeoutError:
        return True


def swap_assessor(holder: Any) -> Callable[[PhraseBook], None]:
    """The phrase book's new version for the pipeline's classifier (once it is loaded)."""
    def swap(phrases: PhraseBook) -> None:
        assessor: Assessor | None = holder.assessor
        if assessor is not None:
            holder.assessor = assessor.with_phrases(phrases)
    return swap
