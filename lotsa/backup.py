"""`lotsa db backup FILE`: a consistent copy of a SQLite database, safe while the service runs.

SQLite's online backup API copies the database in one step inside one read transaction: in WAL
mode that is a snapshot that does not block the service's writers, and every transaction committed
before it began (every message acknowledged by then) is in the copy. The copy is written next to
FILE and renamed into place once it passed an integrity check, so FILE is never half written.
PostgreSQL has its own tools for this (the README gives the `pg_dump`/`pg_restore` commands).
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from lotsa.db import is_sqlite


class BackupRefused(Exception):
    """The backup cannot be taken; the message says why and what to do instead."""


POSTGRES_ADVICE = ("lotsa db backup copies SQLite databases only. For PostgreSQL use pg_dump (see the "
                   "README, \"Backup and restore\"): pg_dump --format=custom --file=lotsa.dump DATABASE")


def backup(database_url: str, target: Path) -> int:
    """Copy the database at `database_url` to `target` (which must not exist): its size in bytes."""
    if not is_sqlite(database_url):
        raise BackupRefused(POSTGRES_ADVICE)
    source_path = make_url(database_url).database
    if not source_path or source_path == ":memory:" or not Path(source_path).exists():
        raise BackupRefused(f"there is no SQLite database at {source_path!r}")
    if target.exists():
        raise BackupRefused(f"{target} exists already: choose a new file")
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)   # one step: one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")   # a single self-contained file
            checked = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
    finally:
        source.close()
    if checked != "ok":
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"the copy failed its integrity check: {checked}")
    os.replace(partial, target)
    return target.stat().st_size
