"""The documents admins edit, stored as published versions (lotsa.models.ConfigDocument).

A kind is one sort of document: a triage script (by its `name`), a phrase list (by file:
`suicide`, `cues`, …), the texts of one language (`sv`, `en`, …), the canned replies, the referral
directory, the queues and their hours. The files of the configuration folder are the first version of
each, imported by `lotsa db upgrade` or at the first start; the highest version is the active one.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lotsa.db import Database
from lotsa.models import ConfigDocument
from lotsa.settings import config_folder, default_config_dir

KINDS = ("triage_script", "phrases", "texts", "canned_replies", "referrals", "queues")
FROM_FILES = "config"
"""The author of a version imported from the configuration folder."""
Key = tuple[str, str]
"""(kind, name)."""


def relative_path(kind: str, name: str) -> str:
    """Where the document lives in a configuration folder."""
    return {"triage_script": f"triage/{name}.yaml", "phrases": f"triage/phrases/{name}.yaml",
            "texts": f"texts/{name}.yaml", "canned_replies": "canned_replies.yaml",
            "referrals": "referrals.yaml", "queues": "queues.yaml"}[kind]


def digest(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


@dataclass(frozen=True)
class Document:
    id: int
    kind: str
    name: str
    version: int
    content: str
    digest: str
    author: str
    comment: str
    created_at: datetime

    @classmethod
    def of(cls, row: ConfigDocument) -> Document:
        return cls(row.id, row.kind, row.name, row.version, row.content, row.digest, row.author, row.comment,
                   row.created_at)

    @property
    def key(self) -> Key:
        return self.kind, self.name

    def summary(self) -> dict[str, object]:
        return {"version": self.version, "author": self.author, "comment": self.comment,
                "created_at": self.created_at.isoformat(), "digest": self.digest[:12]}


def _script_name(path: Path) -> str:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else path.stem


def _file_or_default(config_dir: Path, name: str) -> Path:
    path = config_dir / name
    return path if path.exists() else default_config_dir() / name


def file_documents(config_dir: Path) -> dict[Key, str]:
    """Every document of a configuration folder, as written (the loaders validate them)."""
    found: dict[Key, str] = {}
    for path in sorted((config_dir / "triage").glob("*.yaml")):
        found["triage_script", _script_name(path)] = path.read_text(encoding="utf-8")
    for kind, folder in (("phrases", "triage/phrases"), ("texts", "texts")):
        for path in sorted(config_folder(config_dir, folder).glob("*.yaml")):
            found[kind, path.stem] = path.read_text(encoding="utf-8")
    for kind in ("canned_replies", "referrals", "queues"):
        found[kind, kind] = _file_or_default(config_dir, f"{kind}.yaml").read_text(encoding="utf-8")
    return found


class Conflict(Exception):
    """The draft was based on an older version than the active one: publishing it would undo what was
    published in between."""

    def __init__(self, active: Document) -> None:
        super().__init__(f"version {active.version} was published meanwhile")
        self.active = active


async def latest(session: AsyncSession, kind: str, name: str) -> ConfigDocument | None:
    return (await session.execute(
        select(ConfigDocument).where(ConfigDocument.kind == kind, ConfigDocument.name == name)
        .order_by(ConfigDocument.version.desc()).limit(1))).scalar()


class DocumentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def latest_id(self) -> int:
        """The newest version's id: one indexed read tells a worker whether anything was published."""
        async with self.db.read() as session:
            return int(await session.scalar(select(func.max(ConfigDocument.id))) or 0)

    async def active(self) -> dict[Key, Document]:
        """The active (highest) version of every document."""
        newest = (select(ConfigDocument.kind, ConfigDocument.name, func.max(ConfigDocument.version).label("v"))
                  .group_by(ConfigDocument.kind, ConfigDocument.name).subquery())
        query = select(ConfigDocument).join(newest, (ConfigDocument.kind == newest.c.kind)
                                            & (ConfigDocument.name == newest.c.name)
                                            & (ConfigDocument.version == newest.c.v))
        async with self.db.read() as session:
            return {(row.kind, row.name): Document.of(row) for row in (await session.execute(query)).scalars()}

    async def versions(self, kind: str, name: str) -> list[Document]:
        """Every version of a document, newest first."""
        async with self.db.read() as session:
            rows = (await session.execute(
                select(ConfigDocument).where(ConfigDocument.kind == kind, ConfigDocument.name == name)
                .order_by(ConfigDocument.version.desc()))).scalars()
            return [Document.of(row) for row in rows]

    async def get(self, kind: str, name: str, version: int) -> Document | None:
        async with self.db.read() as session:
            row = (await session.execute(select(ConfigDocument).where(
                ConfigDocument.kind == kind, ConfigDocument.name == name,
                ConfigDocument.version == version))).scalar()
            return Document.of(row) if row is not None else None

    async def import_files(self, files: Mapping[Key, str]) -> list[Key]:
        """The files as a new version where they differ from the last version imported from files
        (the first import: version 1). A folder an operator changes and deploys is what runs next; an
        admin's later versions stay active until then. Returns what was imported."""
        imported = []
        async with self.db.write() as session:
            for (kind, name), content in files.items():
                last_import = (await session.execute(
                    select(ConfigDocument.digest).where(ConfigDocument.kind == kind, ConfigDocument.name == name,
                                                        ConfigDocument.author == FROM_FILES)
                    .order_by(ConfigDocument.version.desc()).limit(1))).scalar()
                if last_import == digest(content):
                    continue
                current = await latest(session, kind, name)
                session.add(ConfigDocument(kind=kind, name=name, version=(current.version if current else 0) + 1,
                                           content=content, digest=digest(content), author=FROM_FILES,
                                           comment="imported from the configuration folder"))
                imported.append((kind, name))
        return imported


async def import_configuration(database_url: str, config_dir: Path) -> list[Key]:
    """`lotsa db upgrade`: the configuration folder's files as the first version (or a new one where a
    file changed since it was last imported)."""
    db = Database(database_url)
    try:
        return await DocumentStore(db).import_files(file_documents(config_dir))
    finally:
        await db.close()
