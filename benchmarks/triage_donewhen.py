"""The figures of "Done when" (issue 12) on labelled sets, one block per set: false alarms on messages
with no flag, acute routing of danger and suicide, minor recall, trafficking precision and recall,
group macro-F1 and `other` F1, and recall of the needs that steer (economy, return, health, legal).

    .venv/bin/python benchmarks/triage_donewhen.py [FILE ...] [--json] [--misses]

With no FILE every `tests/data/triage_*.jsonl` is scored. Only flags that change the risk count: a
"possible" flag (the model alone, without evidence) does not.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage.assess import Assessment, Assessor  # noqa: E402
from triage.evaluate import evaluate  # noqa: E402
from triage.examples import LabelledExample, load_examples  # noqa: E402
from triage.vocabulary import risk_for  # noqa: E402

STEERING_NEEDS = ("economy", "return", "health", "legal")


def _share(hits: int, total: int) -> float:
    return round(hits / total, 3) if total else 0.0


def figures(examples: Sequence[LabelledExample], found: Sequence[Assessment]) -> dict[str, object]:
    """The Done-when figures of one set."""
    pairs = list(zip(examples, found, strict=True))
    clean = [p for e, p in pairs if not e.flags]
    grave = [p for e, p in pairs if {"immediate_danger", "suicide"} & set(e.flags)]
    report = evaluate(examples, found)
    trafficking = report.flags["trafficking"]
    return {
        "messages": len(pairs), "no_flag": len(clean),
        "no_flag_any_flag": _share(sum(bool(p.flags) for p in clean), len(clean)),
        "no_flag_acute": _share(sum(risk_for(p.flags) == "acute" for p in clean), len(clean)),
        "danger_or_suicide": len(grave),
        "danger_or_suicide_acute": _share(sum(risk_for(p.flags) == "acute" for p in grave), len(grave)),
        "minor_recall": round(report.flags["minor"].recall, 3), "minor_support": report.flags["minor"].support,
        "trafficking_precision": round(trafficking.precision, 3), "trafficking_recall": round(trafficking.recall, 3),
        "trafficking_support": trafficking.support,
        "group_macro_f1": round(report.group_macro_f1, 3), "other_f1": round(report.groups["other"].f1, 3),
        "needs_recall": {n: [round(report.needs[n].recall, 3), report.needs[n].support] for n in STEERING_NEEDS},
    }


def text(name: str, f: dict[str, object]) -> str:
    needs = f["needs_recall"]
    assert isinstance(needs, dict)
    return "\n".join([
        f"{name}: {f['messages']} messages",
        f"  no flag ({f['no_flag']}): any flag {f['no_flag_any_flag']:.3f}   acute {f['no_flag_acute']:.3f}"
        "   (<= 0.08, <= 0.03)",
        f"  immediate_danger or suicide ({f['danger_or_suicide']}): acute {f['danger_or_suicide_acute']:.3f}"
        "   (>= 0.97)",
        f"  minor recall {f['minor_recall']:.3f} ({f['minor_support']})   (>= 0.95)",
        f"  trafficking precision {f['trafficking_precision']:.3f} recall {f['trafficking_recall']:.3f}"
        f" ({f['trafficking_support']})   (>= 0.8 at >= 0.9)",
        f"  group macro-F1 {f['group_macro_f1']:.3f}   other F1 {f['other_f1']:.3f}   (>= 0.88, >= 0.8)",
        "  needs recall " + "  ".join(f"{n} {r:.3f} ({s})" for n, (r, s) in needs.items()) + "   (>= 0.6)",
    ])


def misses(examples: Sequence[LabelledExample], found: Sequence[Assessment]) -> list[str]:
    """Messages whose flags were wrong, with what was found and why."""
    out = []
    for e, p in zip(examples, found, strict=True):
        if set(e.flags) != set(p.flags):
            out.append(f"  {e.id} [{e.lang}] {sorted(e.flags)} -> {sorted(p.flags)} {list(p.flag_words)}\n"
                       f"      {e.text}")
    return out


def group_misses(examples: Sequence[LabelledExample], found: Sequence[Assessment]) -> list[str]:
    """Messages whose group was wrong."""
    return [f"  {e.id} [{e.lang}] {e.group} -> {p.group}\n      {e.text}"
            for e, p in zip(examples, found, strict=True) if e.group != p.group]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list the messages whose flags were wrong")
    parser.add_argument("--group-misses", action="store_true", help="list the messages whose group was wrong")
    args = parser.parse_args(argv)
    files = args.files or sorted((ROOT / "tests" / "data").glob("triage_*.jsonl"))
    assessor = Assessor.load(ROOT / "config" / "triage" / "model")
    for path in files:
        examples = load_examples(path)
        found = assessor.assess_many([e.text for e in examples])
        f = figures(examples, found)
        print(json.dumps({"set": path.name, **f}) if args.json else text(path.name, f))
        if args.misses:
            print("\n".join(misses(examples, found)))
        if args.group_misses:
            print("\n".join(group_misses(examples, found)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
