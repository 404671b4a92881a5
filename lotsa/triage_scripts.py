"""The triage scripts in use: the current version of each, and any older version a conversation
started with (stored in the database, so it survives restarts and is the same on every worker)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lotsa import audit
from lotsa.db import Database
from lotsa.models import TriageScriptVersion
from triage.runner import TriageRunner
from triage.script import TriageScript


class TriageScripts:
    """The current script per name, and any pinned version a conversation started with."""

    def __init__(self, scripts: dict[str, TriageScript], default: str = "default") -> None:
        if default not in scripts:
            raise ValueError(f"no triage script named {default!r}")
        self.current = scripts
        self.default = default
        self._runners = {s.version: TriageRunner(s) for s in scripts.values()}

    async def publish(self, db: Database) -> None:
        """Store every current version (idempotent) so conversations can pin it. Workers starting
        together may store the same version at the same moment: the one that loses finds it stored."""
        try:
            await self._store(db)
        except IntegrityError:
            await self._store(db)

    async def _store(self, db: Database) -> None:
        async with db.write() as session:
            await store_versions(session, self.current.values())

    def use(self, scripts: dict[str, TriageScript]) -> None:
        """Switch to newly published scripts (stored already: `store_versions`): conversations opened
        from now on start with them; those under way keep the version they pinned."""
        if self.default not in scripts:
            raise ValueError(f"no triage script named {self.default!r}")
        for script in scripts.values():
            self._runners.setdefault(script.version, TriageRunner(script))
        self.current = scripts

    def for_new_conversation(self) -> TriageRunner:
        return self._runners[self.current[self.default].version]

    async def pinned(self, session: AsyncSession, version: str) -> TriageRunner:
        runner = self._runners.get(version)
        if runner is None:
            row = await session.get(TriageScriptVersion, version)
            if row is None:
                raise LookupError(f"triage script version {version} is not stored")
            runner = self._runners[version] = TriageRunner(TriageScript.from_content(row.content))
        return runner


async def store_versions(session: AsyncSession, scripts: Iterable[TriageScript]) -> None:
    """Store each script version not stored yet, in the caller's transaction, so a conversation can
    pin it (by its hash) before any worker runs it."""
    for script in scripts:
        if await session.get(TriageScriptVersion, script.version) is None:
            session.add(TriageScriptVersion(version=script.version, name=script.name, content=script.content))
            audit.add(session, "system", "config.triage_script_published", f"script:{script.name}",
                      version=script.version[:16])
