"""The `lotsa report` command: the period checked, the report written to a file or to standard
output (and nothing else there: logs go to standard error)."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from handoff.report import PeriodError, parse_period, render
from lotsa.db import Database
from lotsa.settings import Settings, config_folder
from lotsa.texts import Catalogue


def run_report(settings: Settings, start: str, end: str, fmt: str, out: Path | None) -> int:
    try:
        first, last = parse_period(start, end)
    except PeriodError as e:
        print(f"lotsa report: {e}", file=sys.stderr)
        return 2
    catalogue = Catalogue.load(config_folder(settings.config_dir, "texts"))

    async def run() -> str:
        db = Database(settings.effective_database_url)
        try:
            return await render(db, catalogue, first, last, fmt)
        finally:
            await db.close()

    text = asyncio.run(run())
    if out is not None:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0
