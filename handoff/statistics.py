"""The anonymous statistics of a period, from the rows that survive retention
(`statistics_records`, written by lotsa/statistics_records.py), every count protected by
handoff/disclosure.py. `lotsa report`, the HTML report and /admin/statistics all print these tables.

A table is a list of rows `{DIMENSION: VALUE, …, "count": int ≥ 5, 0 or None}`; `total` as a value
is the margin over that dimension. Months and the other dimensions are in Europe/Stockholm time.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from handoff.disclosure import MIN_COUNT, Cell, protect_table
from lotsa.db import Database
from lotsa.models import StatisticsRecord
from lotsa.statistics_records import ANSWERS
from triage.vocabulary import FLAGS, GROUPS, NEEDS, RISKS

TIMEZONE = "Europe/Stockholm"
TOTAL = "total"
WAIT_MIN_RECORDS = 10
"""A median or 90th percentile of fewer answered contacts than this is not printed: with few
records a percentile is one person's own waiting time."""
FEEDBACK = {"helped": ("yes", "partly", "no"), "again": ("yes", "no")}
Values = Callable[[StatisticsRecord], Sequence[str]]


async def load_records(db: Database, start: date, end: date) -> list[StatisticsRecord]:
    """The statistics rows of contacts that came in from `start` to `end` (Stockholm days, inclusive)."""
    async with db.read() as session:
        rows = await session.execute(select(StatisticsRecord).where(StatisticsRecord.day >= start,
                                                                    StatisticsRecord.day <= end)
                                     .order_by(StatisticsRecord.id))
        return list(rows.scalars().all())


def months(start: date, end: date) -> list[str]:
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _ordered(known: Sequence[str], seen: set[str]) -> list[str]:
    return list(known) + sorted(seen - set(known))


def cross_table(records: Sequence[StatisticsRecord], row_dim: str, rows: Sequence[str], row_of: Values,
                col_dim: str, cols: Sequence[str], col_of: Values, *, additive: bool,
                fixed: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Rows × columns with the protected count of each cell, and a `total` row: every record is in one
    row (a month, a weekday). `additive`: also in exactly one column, so a `total` column too.
    Otherwise (a record may count in several columns: flags, needs, referrals) a row has no total.
    Every row and column (with its total, where printed) is a line of the complementary suppression."""
    keys: dict[tuple[str, str], list[int]] = {}
    for record in records:
        columns = col_of(record)
        for r in [*row_of(record), TOTAL]:
            for c in [*columns, TOTAL] if additive else columns:
                keys.setdefault((r, c), []).append(record.cell_key)
    row_values = [*rows, TOTAL]
    col_values = [*cols, TOTAL] if additive else list(cols)
    cells: list[Cell] = []
    index: dict[tuple[str, str], int] = {}
    for r in row_values:
        for c in col_values:
            index[(r, c)] = len(cells)
            cells.append(Cell({**(fixed or {}), row_dim: r, col_dim: c}, keys.get((r, c), []),
                              total=TOTAL in (r, c)))
    lines = [[index[(r, c)] for c in col_values] for r in row_values]
    lines += [[index[(r, c)] for r in row_values] for c in col_values]
    return protect_table(cells, lines)


def _by_month(records: Sequence[StatisticsRecord], period: list[str], dim: str, known: Sequence[str],
              values: Values, *, additive: bool = True) -> list[dict[str, Any]]:
    seen = {v for record in records for v in values(record)}
    return cross_table(records, "month", period, lambda r: [r.month], dim, _ordered(known, seen), values,
                       additive=additive)


def _or_none(values: Sequence[str]) -> list[str]:
    return list(values) or ["none"]


def quantile(values: Sequence[int], share: float) -> int:
    """The nearest-rank quantile of sorted values."""
    return values[max(0, math.ceil(share * len(values)) - 1)]


def waits_by_risk(records: Sequence[StatisticsRecord]) -> list[dict[str, Any]]:
    answered = [r for r in records if r.wait_seconds is not None]
    cells = []
    for risk in [*RISKS, TOTAL]:
        waits = sorted(r.wait_seconds or 0 for r in answered if risk in (r.risk, TOTAL))
        cell = Cell({"risk": risk}, [r.cell_key for r in answered if risk in (r.risk, TOTAL)], total=risk == TOTAL)
        enough = len(waits) >= WAIT_MIN_RECORDS
        cell.extra = {"median_wait_seconds": quantile(waits, 0.5) if enough else None,
                      "p90_wait_seconds": quantile(waits, 0.9) if enough else None}
        cells.append(cell)
    rows = protect_table(cells, [list(range(len(cells)))])
    for row in rows:
        if row["count"] is None:
            row["median_wait_seconds"] = row["p90_wait_seconds"] = None
    return rows


def _flag_result(flag: str) -> Values:
    def result(r: StatisticsRecord) -> list[str]:
        return ["agreed" if (flag in r.flags) == (flag in (r.reviewed_flags or [])) else "corrected"]
    return result


def _answer_to(question: str) -> Values:
    def answer(r: StatisticsRecord) -> list[str]:
        return [str(getattr(r, f"feedback_{question}"))]
    return answer


def triage_agreement(records: Sequence[StatisticsRecord], period: list[str]) -> list[dict[str, Any]]:
    """Per group (as triage found it) and per flag (triage or counsellor set it): how often the
    counsellor's wrap-up agreed, by month."""
    reviewed = [r for r in records if r.reviewed_group is not None]
    rows: list[dict[str, Any]] = []
    for group in GROUPS:
        subset = [r for r in reviewed if r.group == group]
        rows += cross_table(subset, "month", period, lambda r: [r.month], "result", ("agreed", "corrected"),
                            lambda r: ["agreed" if r.reviewed_group == r.group else "corrected"],
                            additive=True, fixed={"check": f"group:{group}"})
    for flag in FLAGS:
        subset = [r for r in reviewed if r.reviewed_flags is not None and flag in set(r.flags) | set(r.reviewed_flags)]
        rows += cross_table(subset, "month", period, lambda r: [r.month], "result", ("agreed", "corrected"),
                            _flag_result(flag),
                            additive=True, fixed={"check": f"flag:{flag}"})
    return rows


def feedback(records: Sequence[StatisticsRecord], period: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for question, answers in FEEDBACK.items():
        subset = [r for r in records if getattr(r, f"feedback_{question}") is not None]
        rows += cross_table(subset, "month", period, lambda r: [r.month], "reply", answers,
                            _answer_to(question), additive=True,
                            fixed={"question": question})
    return rows


def build_tables(records: Sequence[StatisticsRecord], start: date, end: date) -> dict[str, list[dict[str, Any]]]:
    """Every table of the report, protected."""
    period = months(start, end)
    return {
        "contacts": _by_month(records, period, "answer", ANSWERS, lambda r: [r.answer]),
        "channel": _by_month(records, period, "channel", ("webchat", "telegram", "sms", "voice"),
                             lambda r: [r.channel]),
        "group": _by_month(records, period, "group", GROUPS, lambda r: [r.group]),
        "language": _by_month(records, period, "language", ("sv", "en", "ro", "bg"), lambda r: [r.language]),
        "risk": _by_month(records, period, "risk", RISKS, lambda r: [r.risk]),
        "flag": _by_month(records, period, "flag", (*FLAGS, "none"), lambda r: _or_none(r.flags), additive=False),
        "need": _by_month(records, period, "need", (*NEEDS, "none"), lambda r: _or_none(r.needs), additive=False),
        "queue": _by_month(records, period, "queue", (), lambda r: [r.queue]),
        "outcome": _by_month(records, period, "outcome", (), lambda r: [r.outcome]),
        "referral": _by_month(records, period, "referral", ("none",), lambda r: _or_none(r.referrals),
                              additive=False),
        "campaign": _by_month(records, period, "campaign", ("none",), lambda r: [r.source]),
        "first_time": _by_month(records, period, "visit", ("first_time", "returning"),
                                lambda r: ["first_time" if r.first_time else "returning"]),
        "hour_weekday": cross_table(records, "weekday", [str(d) for d in range(7)], lambda r: [str(r.weekday)],
                                    "hour", [str(h) for h in range(24)], lambda r: [str(r.hour)], additive=True),
        "waits_by_risk": waits_by_risk(records),
        "triage_agreement": triage_agreement(records, period),
        "feedback": feedback(records, period),
    }


def report(records: Sequence[StatisticsRecord], start: date, end: date) -> dict[str, Any]:
    """The report as `lotsa report --format json` prints it (the contract in DESIGN.md)."""
    return {"period": {"from": start.isoformat(), "to": end.isoformat(), "timezone": TIMEZONE},
            "suppression": {"min_count": MIN_COUNT}, "tables": build_tables(records, start, end)}
