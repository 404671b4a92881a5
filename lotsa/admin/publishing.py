"""Publish, roll back and compare document versions: one path for the admin pages and the CLI.

A publish names the version the draft was based on; when another was published meanwhile the publish
is refused with a conflict (and the diff), so two admins never silently undo each other. Every publish
is in the audit log: who, which document, the version before and after, the comment."""
from __future__ import annotations

import difflib

from sqlalchemy.exc import IntegrityError

from lotsa import audit
from lotsa.admin.bundle import Loaded, validate
from lotsa.admin.documents import Conflict, Document, DocumentStore, digest, latest
from lotsa.admin.live import LiveConfig
from lotsa.db import Database
from lotsa.events import CONFIG_TOPIC, Event, write_announcing
from lotsa.models import ConfigDocument, StaffUser
from lotsa.pg_events import publisher_for
from lotsa.triage_scripts import store_versions

MAX_COMMENT = 500
MAX_CONTENT = 512 * 1024


class Refusal(Exception):
    """Not published, for a reason the admin can act on."""


async def check(store: DocumentStore, kind: str, name: str, draft: str) -> Loaded:
    """Validate the draft against the active versions of everything else (raises bundle.Invalid)."""
    active = await store.active()
    if (kind, name) not in active:
        raise Refusal(f"no document {kind}/{name}")
    return validate(kind, name, draft, {key: doc.content for key, doc in active.items()})


async def publish(db: Database, kind: str, name: str, draft: str, *, author: StaffUser | str, comment: str,
                  base_version: int | None, live: LiveConfig | None = None) -> Document:
    """Make the draft the active version. `base_version`: the version the draft was edited from (None:
    whatever is active, as the CLI does). Raises Refusal, bundle.Invalid or Conflict."""
    comment = comment.strip()
    if not comment:
        raise Refusal("a comment is required: say what changed and why")
    if len(comment) > MAX_COMMENT or len(draft) > MAX_CONTENT:
        raise Refusal("the comment or the document is too long")
    store = DocumentStore(db)
    loaded = await check(store, kind, name, draft)
    # Announced with the commit: every worker switches when it hears it (lotsa.admin.live).
    events = live.events if live is not None else publisher_for(db)
    try:
        async with write_announcing(db, events) as (session, announcements):
            current = await latest(session, kind, name)
            assert current is not None
            if base_version is not None and current.version != base_version:
                raise Conflict(Document.of(current))
            if current.digest == digest(draft):
                raise Refusal(f"nothing changed: the draft is version {current.version}")
            row = ConfigDocument(kind=kind, name=name, version=current.version + 1, content=draft,
                                 digest=digest(draft), author=_name(author), comment=comment)
            session.add(row)
            await store_versions(session, loaded.scripts.values())
            audit.add(session, author, "config.published", f"{kind}:{name}", comment=comment[:200],
                      before=f"v{current.version} {current.digest[:12]}", after=f"v{row.version} {row.digest[:12]}",
                      lines_changed=changed_lines(current.content, draft))
            await session.flush()
            published = Document.of(row)
            announcements.append((CONFIG_TOPIC, Event("config", 0, {"document": row.id})))
    except IntegrityError:
        # Another publish took this version number between our read and our write.
        active = await store.versions(kind, name)
        raise Conflict(active[0]) from None
    if live is not None:
        await live.refresh()
    return published


async def rollback(db: Database, kind: str, name: str, version: int, *, author: StaffUser | str,
                   comment: str = "", live: LiveConfig | None = None) -> Document:
    """Publish an old version's content again, as the newest version."""
    old = await DocumentStore(db).get(kind, name, version)
    if old is None:
        raise Refusal(f"{kind}/{name} has no version {version}")
    note = f"rollback to version {version}" + (f": {comment.strip()}" if comment.strip() else "")
    return await publish(db, kind, name, old.content, author=author, comment=note, base_version=None, live=live)


def diff(before: Document | str, after: Document | str, names: tuple[str, str] = ("", "")) -> list[str]:
    """A unified diff between two versions (or texts), line by line."""
    a = before.content if isinstance(before, Document) else before
    b = after.content if isinstance(after, Document) else after
    labels = (f"version {before.version}" if isinstance(before, Document) else names[0],
              f"version {after.version}" if isinstance(after, Document) else names[1])
    return [line.rstrip("\n") for line in difflib.unified_diff(
        a.splitlines(keepends=True), b.splitlines(keepends=True), labels[0], labels[1])]


def changed_lines(before: str, after: str) -> int:
    return sum(1 for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
               if line[:1] in "+-" and not line.startswith(("+++", "---")))


def _name(author: StaffUser | str) -> str:
    return author.name if isinstance(author, StaffUser) else author
