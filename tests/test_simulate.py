"""`lotsa simulate` and Erlang C: the formula against the published case, the simulation against the
formula, acute first, skills, and the simulation's line against the console's real "take next"."""
from __future__ import annotations

import json
import random
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handoff.claims import take_next
from handoff.erlang import Load, erlang_c, mixture_quantile
from handoff.queues import QueueDirectory
from handoff.simulate import Contact, Line, Plan, PlanError, figures, load_plan, simulate
from lotsa import appkeys
from lotsa.models import (
    LINE_FRONT,
    LINE_NORMAL,
    LINE_SURGE,
    RISK_RANK,
    Conversation,
    StaffUser,
    TriageScriptVersion,
    utcnow,
)
from lotsa.models import (
    Contact as ContactRow,
)
from lotsa.settings import default_config_dir
from lotsa_testing.server import LOTSA, RunningServer

RULES = QueueDirectory.load(default_config_dir() / "queues.yaml").rules()


def plan(**values: Any) -> Plan:
    return Plan(**{"per_hour": 10, "risk_mix": {"routine": 1}, "chat_minutes": 3, "staff": [{"count": 2}],
                   **values})


def test_erlang_c_gives_the_published_case() -> None:
    """100 contacts per 30 minutes, 3 minutes each, 14 counsellors, 20 s target (A = 10 erlangs):
    P(wait) 0.174 and 88.8 % answered within 20 s (pyworkforce and the CRAN ErlangC package agree)."""
    load = Load(per_second=100 / 1800, handle_seconds=180, servers=14)
    assert load.traffic == pytest.approx(10)
    assert round(load.p_wait, 3) == 0.174
    assert round(load.service_level(20), 3) == 0.888
    assert load.mean_wait() == pytest.approx(load.p_wait * 180 / 4)


def test_erlang_c_at_its_edges() -> None:
    assert erlang_c(0, 3) == 0 and erlang_c(10, 10) == 1 and erlang_c(12, 10) == 1
    assert erlang_c(1, 1_000) < 1e-12
    overloaded = Load(12 / 3600, 3600, 10)
    assert overloaded.overloaded and overloaded.service_level(60) == 0 and overloaded.mean_wait() == float("inf")
    steady = Load(100 / 1800, 180, 14)
    assert mixture_quantile([(1.0, steady)], 0.5) == 0          # most never wait
    p90 = mixture_quantile([(1.0, steady)], 0.9)
    assert steady.p_wait_longer(p90) == pytest.approx(0.1, abs=1e-6)
    assert mixture_quantile([(0.5, steady), (0.5, overloaded)], 0.9) == float("inf")


def test_the_simulation_agrees_with_erlang_c_over_a_long_steady_period() -> None:
    """One rate all day, no priorities, nobody gives up: ten simulated days of the published case
    (48,000 contacts) wait as often as Erlang C says, and are answered within 20 s as often."""
    steady = plan(per_hour=200, chat_minutes=3, staff=[{"count": 14}], days=10, seed=7)
    found = figures(simulate(steady, RULES), 20)
    assert found["contacts"] > 47_000 and found["gave_up"] == 0
    assert found["waited"] == pytest.approx(0.174, abs=0.015)
    assert found["within_target"] == pytest.approx(0.888, abs=0.015)


def test_the_simulation_is_deterministic_for_a_seed() -> None:
    day = plan(per_hour=30, patience_minutes=2, seed=3)
    first, again = simulate(day, RULES), simulate(day, RULES)
    assert [(c.ident, c.taken_at, c.gave_up) for c in first] == [(c.ident, c.taken_at, c.gave_up) for c in again]
    other = simulate(plan(per_hour=30, patience_minutes=2, seed=4), RULES)
    assert [c.arrived for c in other] != [c.arrived for c in first]


def test_acute_contacts_are_answered_first_when_the_line_is_long() -> None:
    busy = plan(per_hour=20, chat_minutes=25, staff=[{"count": 6}], patience_minutes=30, days=5,
                risk_mix={"acute": 0.1, "elevated": 0.1, "routine": 0.8})
    contacts = simulate(busy, RULES)
    by_risk = {risk: figures([c for c in contacts if c.risk == risk], 20) for risk in RISK_RANK}
    assert by_risk["routine"]["gave_up"] > 0
    # Taken first, not at once: an acute contact still waits for the next counsellor to be free.
    assert by_risk["acute"]["wait_p50_s"] < by_risk["elevated"]["wait_p50_s"] < by_risk["routine"]["wait_p50_s"]
    assert by_risk["acute"]["wait_p90_s"] < by_risk["routine"]["wait_p90_s"] / 2
    gave_up = {risk: f["gave_up"] / f["contacts"] for risk, f in by_risk.items()}
    assert gave_up["acute"] < gave_up["elevated"] < gave_up["routine"] / 2
    assert {c.queue for c in contacts if c.risk == "acute"} == {"acute"}
    assert "acute" not in {c.queue for c in contacts if c.risk != "acute"}


def test_counsellors_take_only_their_languages_and_queues() -> None:
    swedish_only = plan(per_hour=6, language_mix={"sv": 1, "en": 1}, staff=[{"count": 3, "languages": ["sv"]}],
                        patience_minutes=5, days=2)
    contacts = simulate(swedish_only, RULES)
    assert all(c.taken_at is None and c.gave_up for c in contacts if c.language == "en")
    assert all(c.taken_at is not None for c in contacts if c.language == "sv")
    buyers_desk = plan(per_hour=6, group_mix={"sells": 1, "buys": 1}, staff=[{"count": 3, "queues": ["buys"]}],
                       patience_minutes=5)
    taken = {c.queue for c in simulate(buyers_desk, RULES) if c.taken_at is not None}
    assert taken == {"buys"}


async def test_the_line_takes_next_as_the_console_does(server: RunningServer) -> None:
    """Random waiting conversations (risks, queues, languages, handed back, surge newcomers, equal
    waiting times) and counsellors with random skills: the simulation's line and the real
    `take_next` on the database pick the same conversation, every time."""
    rng = random.Random(5)
    queues, languages = [rule.id for rule in RULES], ["sv", "en", "ro"]
    for n in range(6):
        await server.add_staff(f"c{n}", languages=rng.sample(languages, rng.randint(0, 2)),
                               queues=rng.sample(queues, rng.randint(0, 3)), max_chats=50)
    db, line, start = server.app[appkeys.DB], Line(), utcnow() - timedelta(hours=1)
    async with db.write() as session:
        version = (await session.execute(select(TriageScriptVersion.version))).scalars().first()
        for n in range(60):
            contact = ContactRow(key=f"k{n:062d}", channel="webchat")
            session.add(contact)
            await session.flush()
            risk = rng.choice(list(RISK_RANK))
            row = Conversation(contact_id=contact.id, channel="webchat", state="queued", language=rng.choice(languages),
                               queue=rng.choice(queues), risk=risk, risk_rank=RISK_RANK[risk],
                               line_rank=rng.choice([LINE_FRONT, LINE_NORMAL, LINE_NORMAL, LINE_SURGE]),
                               script_version=version, queued_at=start + timedelta(seconds=rng.randint(0, 20)))
            session.add(row)
            await session.flush()
            line.add(Contact(row.id, risk, row.queue, row.language, row.queued_at.timestamp(), 0, 0, row.line_rank))
    async with db.read() as session:
        staff = list((await session.execute(select(StaffUser))).scalars())
    conversations = server.app[appkeys.CONVERSATIONS]
    taken = 0
    for _ in range(90):
        user = rng.choice(staff)
        claim = await take_next(conversations, user)
        expected = line.take(user)
        assert (claim.conversation.id if claim.conversation else None) == (expected.ident if expected else None)
        taken += claim.conversation is not None
    assert taken >= 40


def test_a_bad_plan_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("per_hour: [1, 2]\nrisk_mix: {urgent: 1}\nchat_minutes: 0\nstaff: [{count: 2}]\n")
    with pytest.raises(PlanError) as error:
        load_plan(path)
    message = str(error.value)
    assert str(path) in message and "per_hour" in message and "risk_mix" in message and "chat_minutes" in message


def test_lotsa_simulate_prints_the_table_and_json(tmp_path: Path) -> None:
    result = subprocess.run(LOTSA + ["simulate", "--counsellors", "5", "--days", "2", "--json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("acute ") for line in lines) and any(line.startswith("Erlang C") for line in lines)
    report = json.loads(lines[-1])
    assert report["plan"]["counsellors"] == 5 and report["plan"]["days"] == 2
    assert set(report["by_risk"]) == {"acute", "elevated", "routine"}
    assert report["all"]["contacts"] == sum(r["contacts"] for r in report["by_risk"].values())
    assert {"waited", "wait_p50_s", "wait_p90_s", "within_target"} <= set(report["erlang_c"])
    bad = subprocess.run(LOTSA + ["simulate", "--risk-mix", "acute=lots"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "--risk-mix" in bad.stderr
