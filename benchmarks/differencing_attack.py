"""How often subtracting two overlapping reports gives a suppressed count away, under Lotsa's
small-count protection (handoff/disclosure.py), against plain suppression without noise.

The attack: report A covers days 1–14, report B days 1–15 of a month; on the 15th, K people of one
group (1 ≤ K ≤ 4) came, suppressed in a report of that day alone. B − A is the attacker's guess.

    .venv/bin/python -m benchmarks.differencing_attack [--trials 2000]
"""
from __future__ import annotations

import argparse
import random
from datetime import date

from handoff.statistics import report
from lotsa.models import StatisticsRecord


def _record(rng: random.Random, day: int) -> StatisticsRecord:
    return StatisticsRecord(cell_key=rng.randrange(2**31), day=date(2026, 3, day), month="2026-03", hour=20, weekday=2,
                            channel="webchat", group="buys", flags=[], needs=[], language="sv", queue="buys",
                            risk="routine", outcome="supported", referrals=[], source="none", first_time=True,
                            answer="answered", wait_seconds=60)


def _buys(rows: list[dict[str, object]]) -> int:
    return int(next(r["count"] for r in rows if r["month"] == "total" and r["group"] == "buys"))  # type: ignore[call-overload]


def run(trials: int) -> dict[int, float]:
    exact: dict[int, float] = {}
    for hidden in range(1, 5):
        hits = 0
        for seed in range(trials):
            rng = random.Random(seed * 10 + hidden)
            base = [_record(rng, 1 + i % 14) for i in range(rng.randrange(10, 60))]
            extra = [_record(rng, 15) for _ in range(hidden)]
            a = report(base, date(2026, 3, 1), date(2026, 3, 14))["tables"]["group"]
            b = report(base + extra, date(2026, 3, 1), date(2026, 3, 15))["tables"]["group"]
            hits += _buys(b) - _buys(a) == hidden
        exact[hidden] = hits / trials
    return exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    args = parser.parse_args()
    exact = run(args.trials)
    print(f"differencing attack, {args.trials} trials per hidden count (plain suppression: 100 % exact)")
    for hidden, share in exact.items():
        print(f"  hidden count {hidden}: B - A equals it in {share:.1%} of reports")


if __name__ == "__main__":
    main()
