"""Anonymous statistics: rows written when a conversation closes, kept through retention, every count
protected (primary and complementary suppression, Cell Key Method against differencing)."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from handoff.disclosure import protect
from handoff.statistics import build_tables, cross_table, load_records, report
from lotsa import appkeys
from lotsa.models import Conversation, StatisticsRecord, utcnow
from lotsa.retention import purge
from lotsa.statistics_records import period_keys
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer


def record(rng: random.Random, **values: Any) -> StatisticsRecord:
    """A statistics row as lotsa/statistics_records.py writes it (defaults: a routine web chat)."""
    base: dict[str, Any] = dict(cell_key=rng.randrange(2**31), day=date(2026, 1, 10), month="2026-01", hour=20,
                                weekday=2, channel="webchat", group="sells", flags=[], needs=["talk"], language="sv",
                                queue="sells", risk="routine", outcome="supported", referrals=[], source="none",
                                first_time=True, answer="answered", wait_seconds=60)
    return StatisticsRecord(**(base | values))


def counts(rows: list[dict[str, Any]]) -> list[int | None]:
    return [row["count"] for row in rows]


def printed_ok(value: int | None) -> bool:
    return value is None or value == 0 or (isinstance(value, int) and value >= 5)


def lines_of(rows: list[dict[str, Any]], row_dim: str, col_dim: str) -> list[list[int | None]]:
    rows_by: dict[str, list[int | None]] = {}
    cols_by: dict[str, list[int | None]] = {}
    for row in rows:
        rows_by.setdefault(row[row_dim], []).append(row["count"])
        cols_by.setdefault(row[col_dim], []).append(row["count"])
    return list(rows_by.values()) + list(cols_by.values())


def test_counts_of_one_to_four_are_never_printed() -> None:
    assert protect(0, 0.5) == 0
    assert [protect(n, k) for n in range(1, 5) for k in (0.0, 0.5, 0.99)] == [None] * 12
    assert all(protect(n, k / 100) >= 5 for n in range(5, 40) for k in range(100))  # type: ignore[operator]


def test_complementary_suppression_in_a_row_and_a_column() -> None:
    rng = random.Random(7)
    records = ([record(rng, month="2026-01", channel="webchat") for _ in range(30)]
               + [record(rng, month="2026-01", channel="sms") for _ in range(2)]
               + [record(rng, month="2026-01", channel="telegram") for _ in range(12)]
               + [record(rng, month="2026-02", channel="webchat") for _ in range(25)]
               + [record(rng, month="2026-02", channel="sms") for _ in range(9)]
               + [record(rng, month="2026-02", channel="telegram") for _ in range(20)])
    rows = cross_table(records, "month", ["2026-01", "2026-02"], lambda r: [r.month], "channel",
                       ["webchat", "sms", "telegram"], lambda r: [r.channel], additive=True)
    cell = {(r["month"], r["channel"]): r["count"] for r in rows}
    assert cell[("2026-01", "sms")] is None, "2 contacts: suppressed"
    january = [cell[("2026-01", c)] for c in ("webchat", "sms", "telegram", "total")]
    sms = [cell[(m, "sms")] for m in ("2026-01", "2026-02", "total")]
    assert january.count(None) >= 2, f"the row total would give the suppressed cell away: {january}"
    assert sms.count(None) >= 2, f"the column total would give the suppressed cell away: {sms}"
    assert cell[("2026-01", "telegram")] is None, "the smallest other cell of the row goes with it"
    assert cell[("2026-02", "sms")] is None, "the smallest other cell of the column goes with it"
    assert all(line.count(None) != 1 for line in lines_of(rows, "month", "channel"))
    assert all(printed_ok(v) for v in counts(rows))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=80), st.integers(0, 2**20))
def test_no_line_ever_has_a_single_suppressed_cell(cells: list[tuple[int, int]], seed: int) -> None:
    rng = random.Random(seed)
    months, channels = ["2026-01", "2026-02", "2026-03"], ["webchat", "sms", "telegram", "voice"]
    records = [record(rng, month=months[m], channel=channels[c]) for m, c in cells]
    rows = cross_table(records, "month", months, lambda r: [r.month], "channel", channels, lambda r: [r.channel],
                       additive=True)
    assert all(printed_ok(v) for v in counts(rows))
    assert all(line.count(None) != 1 for line in lines_of(rows, "month", "channel"))


def test_the_same_cell_is_the_same_number_in_every_table() -> None:
    rng = random.Random(3)
    records = [record(rng, channel=rng.choice(["webchat", "sms"]), group=rng.choice(["sells", "buys"]),
                      day=date(2026, 1, 1) + timedelta(days=rng.randrange(59)), month="")
               for _ in range(200)]
    for r in records:
        r.month = f"{r.day:%Y-%m}"
    tables = build_tables(records, date(2026, 1, 1), date(2026, 2, 28))
    totals = {name: {row["month"]: row["count"] for row in rows if row[list(row)[1]] == "total"}
              for name, rows in tables.items() if name in ("contacts", "channel", "group", "risk", "first_time")}
    assert len({tuple(sorted(t.items())) for t in totals.values()}) == 1, totals


def test_overlapping_periods_cannot_be_subtracted_to_reveal_a_suppressed_count() -> None:
    """A differencing attack: report A covers 1–14 March, report B 1–15 March; the 15th had 2 contacts
    from buyers (suppressed in a report of the 15th alone). B − A must not give 2 away."""
    exact, ambiguous, trials = 0, 0, 300
    for seed in range(trials):
        rng = random.Random(seed)
        first = [record(rng, day=date(2026, 3, 1 + i % 14), month="2026-03", group="buys") for i in range(23)]
        fifteenth = [record(rng, day=date(2026, 3, 15), month="2026-03", group="buys") for _ in range(2)]
        a = report(first, date(2026, 3, 1), date(2026, 3, 14))["tables"]["group"]
        b = report(first + fifteenth, date(2026, 3, 1), date(2026, 3, 15))["tables"]["group"]
        alone = report(fifteenth, date(2026, 3, 15), date(2026, 3, 15))["tables"]["group"]
        cell = lambda rows: next(r["count"] for r in rows if r["month"] == "total" and r["group"] == "buys")  # noqa: E731
        assert cell(alone) is None
        difference = cell(b) - cell(a)
        exact += difference == 2
        # What could the hidden count be, seen from the difference? The noise of each side is -2…+2.
        consistent = [k for k in range(1, 5) if abs(difference - k) <= 4]
        ambiguous += len(consistent) >= 2
    assert ambiguous == trials, "every difference fits at least two hidden counts"
    assert exact < trials * 0.4, f"the difference gave the true count away in {exact} of {trials} reports"


def test_period_keys_at_midnight_stockholm_across_the_summer_time_change() -> None:
    # 29 March 2026: clocks go from 02:00 CET to 03:00 CEST. Midnight before is 23:00 UTC, after 22:00 UTC.
    assert period_keys(datetime(2026, 3, 28, 22, 59, 59, tzinfo=UTC))["day"] == date(2026, 3, 28)
    assert period_keys(datetime(2026, 3, 28, 23, 0, tzinfo=UTC))["day"] == date(2026, 3, 29)
    assert period_keys(datetime(2026, 3, 29, 21, 59, 59, tzinfo=UTC))["day"] == date(2026, 3, 29)
    assert period_keys(datetime(2026, 3, 29, 22, 0, tzinfo=UTC)) == {"day": date(2026, 3, 30), "month": "2026-03",
                                                                     "hour": 0, "weekday": 0}
    # 25 October 2026: back to CET. Midnight of the 26th is 23:00 UTC on the 25th.
    assert period_keys(datetime(2026, 10, 25, 22, 59, tzinfo=UTC))["day"] == date(2026, 10, 25)
    assert period_keys(datetime(2026, 10, 25, 23, 0, tzinfo=UTC))["day"] == date(2026, 10, 26)
    assert period_keys(datetime(2026, 3, 31, 22, 0, tzinfo=UTC))["month"] == "2026-04"


async def _close_newest(server: RunningServer, created_at: datetime | None = None) -> None:
    """Close the newest open conversation through the state machine (as STOP or a hang-up does)."""
    async with server.app[appkeys.CONVERSATIONS].change() as change:
        conversation = (await change.session.execute(
            select(Conversation).where(Conversation.state != "closed").order_by(Conversation.id.desc()))).scalar()
        assert conversation is not None
        if created_at is not None:
            conversation.created_at = created_at
        change.close(conversation)


async def test_days_are_stockholm_days_in_the_database(server: RunningServer) -> None:
    for n, at in enumerate((datetime(2026, 3, 28, 22, 59, tzinfo=UTC), datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
                            datetime(2026, 3, 29, 21, 59, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC))):
        await server.memory.write(f"+4670000010{n}", "hej")
        await _close_newest(server, at)
    db = server.app[appkeys.DB]
    assert len(await load_records(db, date(2026, 3, 28), date(2026, 3, 28))) == 1
    assert len(await load_records(db, date(2026, 3, 29), date(2026, 3, 29))) == 2
    assert len(await load_records(db, date(2026, 3, 30), date(2026, 3, 30))) == 1
    assert len(await load_records(db, date(2026, 3, 28), date(2026, 3, 30))) == 4


async def test_rows_are_written_on_close_and_statistics_survive_the_purge(any_server: RunningServer) -> None:
    await any_server.add_staff("anna")
    memory, db = any_server.memory, any_server.app[appkeys.DB]
    for n in range(7):
        await memory.write(f"+4670000020{n}", "jag är 15 och säljer sex")
        if n == 6:
            await _close_newest(any_server)
    anna = ConsoleClient(any_server.url)
    try:
        await anna.login("anna", PASSWORD)
        for waiting in (await anna.queue())["waiting"][:6]:
            assert await anna.claim(waiting["id"]) == 200
            assert await anna.close_conversation(waiting["id"], {"outcome": "referred", "referrals": ["emergency_112"],
                                                                 "needs": ["safety"]}) == 200
    finally:
        await anna.close()
    today = utcnow().date()
    start, end = today - timedelta(days=2), today + timedelta(days=2)
    before = report(await load_records(db, start, end), start, end)
    async with db.read() as session:
        rows = (await session.execute(select(StatisticsRecord))).scalars().all()
    assert len(rows) == 7 and len([r for r in rows if r.answer != "answered"]) == 1
    columns = {c.key for c in inspect(StatisticsRecord).columns}
    assert not columns & {"contact_id", "contact_key", "counsellor_id", "text", "created_at", "closed_at"}
    answered = [r for r in rows if r.answer == "answered"]
    assert len(answered) == 6 and all(r.outcome == "referred" and r.referrals == ["emergency_112"] for r in answered)
    assert all("minor" in r.flags and r.risk == "acute" and r.needs == ["safety"] for r in answered)
    assert all(r.wait_seconds is not None and r.wait_seconds % 10 == 0 for r in answered)

    await purge(any_server.app[appkeys.CONVERSATIONS], retention_days=30, reply_address_grace_hours=24,
                now=utcnow() + timedelta(days=31))
    after = report(await load_records(db, start, end), start, end)
    assert after == before, "a year's report works after the transcripts are gone"
    flags = {r["flag"]: r["count"] for r in after["tables"]["flag"] if r["month"] == f"{today:%Y-%m}"}
    assert flags["minor"] is not None and flags["minor"] >= 5
    async with db.read() as session:
        assert all(r.conversation_id is None for r in (await session.execute(select(StatisticsRecord))).scalars())


async def test_the_wrapup_review_feeds_triage_agreement_and_nothing_else(server: RunningServer) -> None:
    """The counsellor confirms (or corrects) group and flags at wrap-up; statistics count agreement per
    group and flag by month; a review outside the vocabulary is refused."""
    await server.add_staff("anna")
    for n in range(12):
        await server.memory.write(f"+4670000030{n:02d}", "jag är 15 och säljer sex")
    anna = ConsoleClient(server.url)
    try:
        await anna.login("anna", PASSWORD)
        waiting = (await anna.queue())["waiting"]
        assert len(waiting) == 12 and all(w["group"] == "sells" and "minor" in w["flags"] for w in waiting)
        first = waiting[0]["id"]
        assert await anna.claim(first) == 200
        for bad in ({"group": "alien"}, {"flags": ["minor", "tired"]}, {"group": 5}):
            status, body = await anna.post(f"/api/console/conversations/{first}/close", {"outcome": "supported", **bad})
            assert status == 400 and body["error"] == "wrapup_required", bad
        for n, item in enumerate(waiting):
            if n:
                assert await anna.claim(item["id"]) == 200
            review = {"group": "sells", "flags": ["minor"]} if n < 9 else {"group": "relative", "flags": []}
            assert await anna.close_conversation(item["id"], {"outcome": "supported", **review}) == 200
    finally:
        await anna.close()
    today = utcnow().date()
    records = await load_records(server.app[appkeys.DB], today - timedelta(days=1), today + timedelta(days=1))
    assert sorted((r.reviewed_group, tuple(r.reviewed_flags or ())) for r in records) == (
        [("relative", ())] * 3 + [("sells", ("minor",))] * 9)
    rows = report(records, today, today)["tables"]["triage_agreement"]
    cell = {(r["check"], r["month"], r["result"]): r["count"] for r in rows}
    month = f"{today:%Y-%m}"
    assert cell[("group:sells", month, "total")] is not None and cell[("group:sells", month, "total")] >= 10
    assert cell[("group:sells", month, "corrected")] is None, "3 corrections: fewer than 5, protected"
    assert cell[("group:sells", month, "agreed")] is None, "else total − agreed would give the 3 away"
    assert cell[("flag:minor", month, "corrected")] is None and cell[("flag:minor", month, "total")] is not None
    assert cell[("group:buys", month, "total")] == 0
