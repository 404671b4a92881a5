"""`lotsa triage bench`: how fast `lotsa triage classify` is on one core, and how long the model
(with the phrase book) takes to load. Runs the real command in a child process pinned to one CPU
(taskset, where the machine has it; `--cpu` picks which) with single-threaded maths libraries."""
from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lotsa.settings import load_settings
from triage.examples import load_examples

LOAD_PROBE = """
import sys, time
started = time.perf_counter()
from triage.assess import Assessor
imported = time.perf_counter()
Assessor.load(__import__("pathlib").Path(sys.argv[1]))
print(f"{imported - started} {time.perf_counter() - imported}")
"""


def _one_core_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "RAYON_NUM_THREADS": "1"}


def _pinned(command: list[str], cpu: int = 0) -> list[str]:
    return (["taskset", "-c", str(cpu)] if shutil.which("taskset") else []) + command


def _classify_seconds(input_path: Path, config: str | None, cpu: int = 0) -> float:
    command = [sys.executable, "-m", "lotsa.cli", "triage", "classify"] + (["--config", config] if config else [])
    started = time.perf_counter()
    with input_path.open("rb") as source:
        result = subprocess.run(_pinned(command, cpu), stdin=source, capture_output=True, env=_one_core_env(), check=True)
    elapsed = time.perf_counter() - started
    lines = result.stdout.decode().splitlines()
    if not lines or "error" in json.loads(lines[-1]):
        raise SystemExit("lotsa triage bench: classify gave no usable output")
    return elapsed


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    texts = [e.text for e in load_examples(settings.config_dir / "triage" / "examples")]
    model = settings.config_dir / "triage" / "model"
    probe = subprocess.run(_pinned([sys.executable, "-c", LOAD_PROBE, str(model)], args.cpu), capture_output=True,
                           text=True, env=_one_core_env(), check=True)
    import_seconds, load_seconds = (float(v) for v in probe.stdout.split())
    config = str(args.config) if args.config else None
    with tempfile.TemporaryDirectory() as tmp:
        one, many = Path(tmp) / "one.jsonl", Path(tmp) / "many.jsonl"
        one.write_text(json.dumps({"id": 0, "text": texts[0]}) + "\n", encoding="utf-8")
        with many.open("w", encoding="utf-8") as f:
            for i, text in zip(range(args.messages), itertools.cycle(texts), strict=False):
                f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
        startup = min(_classify_seconds(one, config, args.cpu) for _ in range(2))
        total = _classify_seconds(many, config, args.cpu)
    rate = args.messages / max(total - startup, 1e-9)
    figures = {"messages": args.messages, "one_core": bool(shutil.which("taskset")),
               "import_seconds": round(import_seconds, 3), "model_load_seconds": round(load_seconds, 3),
               "load_total_seconds": round(import_seconds + load_seconds, 3),
               "process_start_to_first_result_seconds": round(startup, 3),
               "messages_per_second": round(rate)}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"model and phrase book load: {figures['model_load_seconds']} s (+ {figures['import_seconds']} s importing "
              f"spaCy and lingua); process start to first result: {figures['process_start_to_first_result_seconds']} s")
        print(f"lotsa triage classify: {figures['messages_per_second']} messages/s on one core "
              f"({args.messages} messages)")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin the runs to (default: 0)")
    parser.set_defaults(func=run)
