"""`lotsa bench` runs end to end and prints its figures (briefly: the figures themselves are taken on
a quiet machine and written to benchmarks/RESULTS.md, never asserted here)."""
from __future__ import annotations

import json
import math
import os
import subprocess

from lotsa_testing.server import LOTSA

FIGURES = ("inbound_msgs_per_s", "ceiling_msgs_per_s", "ratio", "ack_p50_ms", "ack_p99_ms", "relay_p50_ms",
           "relay_p99_ms", "triage_p99_ms", "burst_200_contacts_s", "rss_mib_per_1k_conversations")


def test_a_short_bench_prints_every_figure_as_a_number_on_its_last_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTSA_")}
    done = subprocess.run([*LOTSA, "bench", "--duration", "2", "--processes", "1", "--concurrency", "4",
                           "--rate", "20", "--numbers", "40", "--conversations", "3", "--counsellors", "2",
                           "--rounds", "2", "--burst", "5", "--open-conversations", "40", "--json"],
                          env=env, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for key in FIGURES:
        assert isinstance(figures[key], int | float) and math.isfinite(figures[key]), (key, figures.get(key))
    assert figures["relay_lost"] == 0 and figures["burst_failed"] == 0
    assert figures["open_conversations"] >= 40
