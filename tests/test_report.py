"""`lotsa report`: the JSON contract on standard output (and nothing else), CSV with `<5`, one
self-contained Swedish HTML file; on a fresh database and on a year of demo data."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from lotsa.db import Database
from lotsa.demo_statistics import seed_statistics

TODAY = date(2026, 12, 4)
YEAR = ("--from", "2025-12-01", "--to", "2026-11-30")


def lotsa(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOTSA_DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "lotsa.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


async def seeded(database_url: str) -> int:
    db = Database(database_url)
    try:
        return await seed_statistics(db, TODAY, seed=11)
    finally:
        await db.close()


def check_contract(data: dict[str, Any], start: str, end: str) -> None:
    assert set(data) == {"period", "suppression", "tables"}
    assert data["period"] == {"from": start, "to": end, "timezone": "Europe/Stockholm"}
    assert data["suppression"] == {"min_count": 5}
    for name, rows in data["tables"].items():
        assert rows, name
        for row in rows:
            count = row["count"]
            assert count is None or count == 0 or (type(count) is int and count >= 5), (name, row)
            assert all(isinstance(v, str) for k, v in row.items() if k not in ("count", "median_wait_seconds",
                                                                                "p90_wait_seconds"))


def test_json_on_a_fresh_database_is_the_contract_and_nothing_else(database_url: str) -> None:
    run = lotsa(database_url, "report", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)   # the whole of standard output is the JSON
    check_contract(data, "2026-01-01", "2026-03-31")
    assert {r["count"] for rows in data["tables"].values() for r in rows} == {0}
    assert [r["month"] for r in data["tables"]["contacts"] if r["answer"] == "total"] == [
        "2026-01", "2026-02", "2026-03", "total"]


async def test_json_csv_and_html_on_a_year_of_demo_data(database_url: str, tmp_path: Path) -> None:
    assert await seeded(database_url) > 2500
    run = lotsa(database_url, "report", *YEAR)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    check_contract(data, *YEAR[1::2])
    tables = data["tables"]
    assert set(tables) >= {"contacts", "channel", "group", "language", "risk", "flag", "need", "queue", "outcome",
                           "referral", "campaign", "first_time", "hour_weekday", "waits_by_risk", "triage_agreement",
                           "feedback"}
    year = next(r["count"] for r in tables["contacts"] if r["month"] == "total" and r["answer"] == "total")
    assert 2500 < year < 4500
    evening = sum(r["count"] or 0 for r in tables["hour_weekday"] if r["weekday"] == "total" and r["hour"] in ("20", "21"))
    morning = sum(r["count"] or 0 for r in tables["hour_weekday"] if r["weekday"] == "total" and r["hour"] in ("4", "5"))
    assert evening > 3 * morning, "the evening peak shows"
    assert any(r["campaign"] == "vinterkampanj" and r["month"] == "total" and r["count"] for r in tables["campaign"])
    assert any(r["count"] is None for rows in tables.values() for r in rows), "some small counts are protected"
    routine = next(r for r in tables["waits_by_risk"] if r["risk"] == "routine")
    assert routine["median_wait_seconds"] is not None and routine["p90_wait_seconds"] >= routine["median_wait_seconds"]

    run_csv = lotsa(database_url, "report", *YEAR, "--format", "csv")
    assert run_csv.returncode == 0, run_csv.stderr
    lines = list(csv.DictReader(io.StringIO(run_csv.stdout)))
    assert len(lines) == sum(len(rows) for rows in tables.values())
    assert {line["count"] for line in lines if not line["count"].isdigit()} == {"<5"}
    assert all(line["count"] == "<5" or int(line["count"]) == 0 or int(line["count"]) >= 5 for line in lines)

    out = tmp_path / "rapport.html"
    run_html = lotsa(database_url, "report", *YEAR, "--format", "html", "--out", str(out))
    assert run_html.returncode == 0 and run_html.stdout == "", run_html.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="sv">' in html
    assert "Kontakter per månad" in html and "&lt;5" in html and html.count("<svg") >= 5
    for external in ("<script", "<link", "src=", "url(", "@import"):
        assert external not in html, external
    assert {part.split('"')[0] for part in html.split("http")[1:]} == {"://www.w3.org/2000/svg"}


def test_a_bad_period_is_refused_clearly(database_url: str) -> None:
    for args in (("--from", "2026-13-01", "--to", "2026-12-31"), ("--from", "2026-02-01", "--to", "2026-01-01"),
                 ("--from", "2000-01-01", "--to", "2026-01-01")):
        run = lotsa(database_url, "report", *args)
        assert run.returncode == 2 and run.stdout == "" and "lotsa report:" in run.stderr, args


async def test_json_on_the_database_lotsa_demo_made(tmp_path: Path) -> None:
    """`lotsa demo` seeds a year of statistics; `lotsa report` on its database prints the JSON."""
    import asyncio
    import signal
    from datetime import datetime

    from lotsa.statistics_records import ZONE
    from lotsa_testing.clients import free_port, wait_healthy

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTSA_")} | {"LOTSA_DATA_DIR": str(tmp_path)}
    demo = subprocess.Popen([sys.executable, "-m", "lotsa.cli", "demo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert await wait_healthy(f"http://127.0.0.1:{port}", timeout=60)
        await asyncio.sleep(0.5)
    finally:
        demo.send_signal(signal.SIGINT)
        banner = await asyncio.to_thread(demo.communicate, timeout=30)
    assert "/admin/statistics" in banner[0]
    today = datetime.now(ZONE).date()
    start = date(today.year - 1, today.month, 1).isoformat()
    run = lotsa(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", "report", "--from", start, "--to", today.isoformat())
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    check_contract(data, start, today.isoformat())
    total = next(r["count"] for r in data["tables"]["contacts"] if r["month"] == "total" and r["answer"] == "total")
    assert total is not None and total > 2000
