"""The statistics tables as people read them (labels from config/texts, section `statistics`,
tables as row × column matrices, and the SVG charts): shared by /admin/statistics and the HTML
report, so both show the same figures as `lotsa report --format json`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from handoff.charts import bar_chart, heat_map, paired_bar_chart
from handoff.statistics import TOTAL
from lotsa.texts import Catalogue

VOCABULARY_DIMS = {"group": "group", "flag": "flag", "risk": "risk", "need": "need"}
OWN_DIMS = ("answer", "visit", "result", "question", "reply")
FIXED_DIMS = ("check", "question")
"""Dimensions that split a table into several matrices (one per value)."""


@dataclass
class Matrix:
    caption: str
    row_header: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass
class Section:
    name: str
    title: str
    matrices: list[Matrix] = field(default_factory=list)
    chart: Markup | None = None


class Labels:
    def __init__(self, catalogue: Catalogue, lang: str) -> None:
        self.catalogue, self.lang = catalogue, lang

    def t(self, key: str, **values: Any) -> str:
        return self.catalogue.text(key, self.lang, **values)

    def _maybe(self, key: str) -> str | None:
        try:
            return self.t(key)
        except KeyError:
            return None

    def value(self, dim: str, value: str) -> str:
        if value == TOTAL:
            return self.t("statistics.total")
        if value in ("none", "unknown", "other", "no_wrapup"):
            return self.t(f"statistics.{value}")
        if dim in VOCABULARY_DIMS:
            return self._maybe(f"vocabulary.{VOCABULARY_DIMS[dim]}.{value}") or value
        if dim in OWN_DIMS:
            return self._maybe(f"statistics.{dim}.{value}") or value
        if dim == "weekday":
            return self.t(f"statistics.weekday.d{value}")
        if dim == "outcome":
            return self._maybe(f"console.outcome.{value}") or value
        if dim == "check":
            kind, _, name = value.partition(":")
            return f"{self.t('statistics.dims.' + kind)}: {self.value(kind, name)}"
        return value

    def dim(self, dim: str) -> str:
        return self._maybe(f"statistics.dims.{dim}") or dim

    def count(self, value: int | None) -> str:
        return self.t("statistics.suppressed") if value is None else str(value)


def _matrix(rows: list[dict[str, Any]], labels: Labels, caption: str) -> Matrix:
    dims = [k for k in rows[0] if k != "count" and k not in FIXED_DIMS]
    row_dim, col_dim = dims[0], dims[1]
    columns = list(dict.fromkeys(r[col_dim] for r in rows))
    table: dict[str, dict[str, int | None]] = {}
    for r in rows:
        table.setdefault(r[row_dim], {})[r[col_dim]] = r["count"]
    return Matrix(caption, labels.dim(row_dim), [labels.value(col_dim, c) for c in columns],
                  [(labels.value(row_dim, row), [labels.count(cells.get(c)) if c in cells else ""
                                                 for c in columns]) for row, cells in table.items()])


def _split(rows: list[dict[str, Any]], labels: Labels) -> list[Matrix]:
    fixed = next((d for d in FIXED_DIMS if rows and d in rows[0]), None)
    if fixed is None:
        return [_matrix(rows, labels, "")] if rows else []
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r[fixed], []).append(r)
    return [_matrix(part, labels, labels.value(fixed, value)) for value, part in groups.items()
            if any(r["count"] != 0 for r in part)]


def _waits(rows: list[dict[str, Any]], labels: Labels) -> Matrix:
    measures = ("count", "median_wait_seconds", "p90_wait_seconds")
    return Matrix("", labels.dim("risk"), [labels.dim(m) for m in measures],
                  [(labels.value("risk", r["risk"]), [labels.count(r["count"])] + [
                      "" if r[m] is None else str(r[m]) for m in measures[1:]]) for r in rows])


def _period_totals(rows: list[dict[str, Any]], dim: str, labels: Labels) -> list[tuple[str, int | None]]:
    return [(labels.value(dim, r[dim]), r["count"]) for r in rows if r["month"] == TOTAL and r[dim] != TOTAL]


def charts(tables: dict[str, list[dict[str, Any]]], labels: Labels) -> dict[str, Markup]:
    """The four charts: monthly trend, groups and flags, the heat map, waits by risk."""
    t, protected = labels.t, labels.t("statistics.suppressed")
    trend = [(r["month"], r["count"]) for r in tables["contacts"] if r["answer"] == TOTAL and r["month"] != TOTAL]
    heat = tables["hour_weekday"]
    grid = [[next(r["count"] for r in heat if r["weekday"] == str(d) and r["hour"] == str(h)) for h in range(24)]
            for d in range(7)]
    waits = [(labels.value("risk", r["risk"]),
              None if r["median_wait_seconds"] is None else round(r["median_wait_seconds"] / 60, 1),
              None if r["p90_wait_seconds"] is None else round(r["p90_wait_seconds"] / 60, 1))
             for r in tables["waits_by_risk"] if r["risk"] != TOTAL]
    return {
        "contacts": bar_chart("chart-trend", t("statistics.charts.trend"), t("statistics.charts.trend_desc"), trend,
                              protected, rotate_labels=True),
        "group": bar_chart("chart-groups", t("statistics.charts.groups"), t("statistics.charts.groups_desc"),
                           _period_totals(tables["group"], "group", labels), protected, rotate_labels=True),
        "flag": bar_chart("chart-flags", t("statistics.charts.flags"), t("statistics.charts.flags_desc"),
                          _period_totals(tables["flag"], "flag", labels), protected, rotate_labels=True),
        "hour_weekday": heat_map("chart-heatmap", t("statistics.charts.heatmap"), t("statistics.charts.heatmap_desc"),
                                 [labels.value("weekday", str(d)) for d in range(7)], [str(h) for h in range(24)],
                                 grid, protected),
        "waits_by_risk": paired_bar_chart("chart-waits", t("statistics.charts.waits"), t("statistics.charts.waits_desc"),
                                          waits, (t("statistics.charts.median"), t("statistics.charts.p90")),
                                          t("statistics.charts.minutes")),
    }


def sections(tables: dict[str, list[dict[str, Any]]], catalogue: Catalogue, lang: str) -> list[Section]:
    """Every table, titled, as matrices, with its chart where it has one."""
    labels = Labels(catalogue, lang)
    drawn = charts(tables, labels)
    out = []
    for name, rows in tables.items():
        section = Section(name, labels.t(f"statistics.tables.{name}"), chart=drawn.get(name))
        section.matrices = [_waits(rows, labels)] if name == "waits_by_risk" else _split(rows, labels)
        out.append(section)
    return out
