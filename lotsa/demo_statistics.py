"""A year of synthetic closed conversations for `lotsa demo`, as the statistics rows they leave
(the rows every report is computed from), so /admin/statistics and `lotsa report` show something on
first run: a realistic mix of groups, channels and languages, evening peaks, risk flags, and campaigns
that drive contacts in their months. Never used outside the demo and the tests."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from lotsa.db import Database
from lotsa.models import StatisticsRecord
from lotsa.statistics_records import CELL_KEY_RANGE, ZONE, period_keys
from triage.vocabulary import risk_for

CHANNELS = {"webchat": 55, "sms": 20, "telegram": 15, "voice": 10}
GROUPS = {"sells": 40, "buys": 20, "relative": 15, "professional": 15, "other": 10}
LANGUAGES = {"sv": 70, "en": 14, "ro": 8, "bg": 5, "uk": 3}
FLAGS = {"minor": 0.04, "immediate_danger": 0.03, "suicide": 0.03, "trafficking": 0.06}
NEEDS_BY_GROUP = {"sells": ("talk", "exit", "health", "safety", "economy"), "buys": ("talk", "legal", "information"),
                  "relative": ("talk", "information", "legal"), "professional": ("information", "legal"),
                  "other": ("information",)}
QUEUES = {"sells": "sells", "buys": "buys", "relative": "relatives", "professional": "professionals", "other": "general"}
REFERRALS_BY_GROUP = {"sells": ("mikamottagning", "vardguiden_1177", "jourer", "kronofogden"), "buys": ("kast",),
                      "relative": ("mikamottagning", "socialjour"), "professional": ("regionkoordinator", "stodtelefon_jamy"),
                      "other": ("vardguiden_1177",)}
HOURS = [1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 5, 5, 5, 6, 6, 7, 9, 11, 13, 13, 10, 5]
"""Relative contacts per hour of the day: quiet nights, an evening peak (19–22)."""
WEEKDAYS = [9, 9, 9, 10, 11, 12, 11]
CAMPAIGNS = {1: "vinterkampanj", 2: "vinterkampanj", 6: "sommar", 7: "sommar", 9: "skolkampanj", 10: "skolkampanj"}
WAIT_MEAN_SECONDS = {"acute": 25, "elevated": 90, "routine": 240}


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _when(rng: random.Random, day: date) -> datetime:
    hour = rng.choices(range(24), HOURS)[0]
    return datetime.combine(day, time(hour, rng.randrange(60)), ZONE)


def synthetic_record(rng: random.Random, day: date) -> StatisticsRecord:
    """One closed conversation's statistics row."""
    group, channel = _pick(rng, GROUPS), _pick(rng, CHANNELS)
    flags = sorted(f for f, p in FLAGS.items() if rng.random() < p * (2.5 if group == "sells" else 1))
    risk = risk_for(flags)
    needs = sorted(set(rng.sample(NEEDS_BY_GROUP[group], k=min(len(NEEDS_BY_GROUP[group]), rng.choice((1, 1, 2))))))
    answer = rng.choices(("answered", "left_before_answer", "out_of_hours", "ended_in_triage"), (80, 8, 8, 4))[0]
    answered = answer == "answered"
    campaign = CAMPAIGNS.get(day.month)
    values: dict[str, Any] = {
        "cell_key": rng.randrange(CELL_KEY_RANGE), **period_keys(_when(rng, day)), "channel": channel,
        "group": group, "flags": flags, "needs": needs, "language": _pick(rng, LANGUAGES),
        "queue": "acute" if risk == "acute" else QUEUES[group], "risk": risk, "answer": answer,
        "source": campaign if campaign and rng.random() < 0.3 else "none", "first_time": rng.random() < 0.7,
        "outcome": (("emergency" if risk == "acute" and rng.random() < 0.5 else
                     rng.choices(("supported", "referred", "information"), (5, 3, 2))[0]) if answered else "no_wrapup"),
        "referrals": sorted(set(rng.sample(REFERRALS_BY_GROUP[group], k=1))) if answered and rng.random() < 0.4 else [],
        "wait_seconds": int(rng.expovariate(1 / WAIT_MEAN_SECONDS[risk]) // 10 * 10) if answered else None,
    }
    if answered and rng.random() < 0.85:
        values["reviewed_group"] = group if rng.random() < 0.88 else _pick(rng, GROUPS)
        values["reviewed_flags"] = flags if rng.random() < 0.93 else sorted(set(flags) ^ {rng.choice(list(FLAGS))})
    if answered and channel != "voice" and rng.random() < 0.35:
        values["feedback_helped"] = rng.choices(("yes", "partly", "no"), (6, 3, 1))[0]
        values["feedback_again"] = rng.choices(("yes", "no"), (8, 2))[0]
    return StatisticsRecord(**values)


def synthetic_year(rng: random.Random, today: date, per_day: float = 9.0) -> list[StatisticsRecord]:
    """The rows of the 365 days up to `today`: about `per_day` contacts a day, more in campaign months."""
    records = []
    for back in range(365, 0, -1):
        day = today - timedelta(days=back)
        rate = per_day * (1.3 if day.month in CAMPAIGNS else 1.0) * WEEKDAYS[day.weekday()] / 10
        records += [synthetic_record(rng, day) for _ in range(max(0, round(rng.gauss(rate, rate ** 0.5))))]
    return records


async def seed_statistics(db: Database, today: date, seed: int | None = None) -> int:
    """Add a year of synthetic statistics rows; returns how many."""
    records = synthetic_year(random.Random(seed), today)
    async with db.write() as session:
        session.add_all(records)
    return len(records)
