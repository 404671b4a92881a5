"""`lotsa report`: the anonymous statistics of a period as JSON (the contract in DESIGN.md), CSV
(`<5` for a protected count) or one self-contained Swedish HTML file (inline CSS and SVG, no
external request) that a coordinator attaches to a report to the council."""
from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from handoff.statistics import load_records, report
from handoff.statistics_view import sections
from lotsa.db import Database
from lotsa.texts import Catalogue

FORMATS = ("json", "csv", "html")
TEMPLATES = Path(__file__).parent / "templates"
CSS = Path(__file__).parent / "static" / "statistics.css"
MAX_DAYS = 5 * 366
REPORT_LANGUAGE = "sv"


class PeriodError(ValueError):
    """The period is not two ISO dates in order, at most `MAX_DAYS` apart."""


def parse_period(start: str, end: str) -> tuple[date, date]:
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise PeriodError("--from and --to are dates, YYYY-MM-DD") from None
    if last < first:
        raise PeriodError("--to is before --from")
    if (last - first).days > MAX_DAYS:
        raise PeriodError("the period is longer than five years")
    return first, last


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = ("table", "dimension_1", "value_1", "dimension_2", "value_2", "dimension_3", "value_3", "count",
               "median_wait_seconds", "p90_wait_seconds")


def as_csv(data: dict[str, Any]) -> str:
    """One line per cell: its table, up to three dimension/value pairs and the count (`<5` when
    protected); the waiting-time table adds its median and 90th percentile."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name, rows in data["tables"].items():
        for row in rows:
            pairs = [(k, v) for k, v in row.items() if k not in ("count", "median_wait_seconds", "p90_wait_seconds")]
            flat = [x for pair in pairs for x in pair] + [""] * (6 - 2 * len(pairs))
            count = "<5" if row["count"] is None else row["count"]
            writer.writerow([name, *flat, count, *(("" if row.get(m) is None else row[m])
                                                   for m in ("median_wait_seconds", "p90_wait_seconds"))])
    return out.getvalue()


def as_html(data: dict[str, Any], catalogue: Catalogue, lang: str = REPORT_LANGUAGE) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    template = environment.get_template("statistics_report.html")
    return template.render(lang=lang, t=lambda key, **v: catalogue.text(key, lang, **v), period=data["period"],
                           sections=sections(data["tables"], catalogue, lang), css=CSS.read_text(encoding="utf-8"))


async def render(db: Database, catalogue: Catalogue, start: date, end: date, fmt: str) -> str:
    """The report of the period in `fmt` (json, csv or html)."""
    data = report(await load_records(db, start, end), start, end)
    if fmt == "csv":
        return as_csv(data)
    if fmt == "html":
        return as_html(data, catalogue)
    return as_json(data)


