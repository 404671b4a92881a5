"""Scores of the assessor on labelled examples: per-class precision, recall, F1, and a confusion
matrix for `group`; precision and recall for every flag; language accuracy."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from triage.assess import Assessment
from triage.examples import LabelledExample
from triage.vocabulary import FLAGS, GROUPS, NEEDS


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn


@dataclass
class Report:
    count: int
    groups: dict[str, Score]
    confusion: dict[str, Counter[str]]
    flags: dict[str, Score]
    needs: dict[str, Score]
    language_accuracy: float
    misses: list[str] = field(default_factory=list)

    @property
    def group_macro_f1(self) -> float:
        scored = [s for s in self.groups.values() if s.support]
        return sum(s.f1 for s in scored) / len(scored) if scored else 0.0

    def to_json(self) -> dict[str, object]:
        def score(s: Score) -> dict[str, float]:
            return {"precision": round(s.precision, 3), "recall": round(s.recall, 3), "f1": round(s.f1, 3),
                    "support": s.support}
        return {"count": self.count, "group_macro_f1": round(self.group_macro_f1, 3),
                "groups": {k: score(v) for k, v in self.groups.items()},
                "confusion": {k: dict(v) for k, v in self.confusion.items()},
                "flags": {k: score(v) for k, v in self.flags.items()},
                "needs": {k: score(v) for k, v in self.needs.items()},
                "language_accuracy": round(self.language_accuracy, 3)}

    def text(self) -> str:
        lines = [f"{self.count} examples", "", "group        precision  recall  f1     support"]
        for name, s in self.groups.items():
            lines.append(f"{name:12} {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  {s.support:7d}")
        lines += [f"macro-F1     {self.group_macro_f1:.3f}", "", "confusion (rows: true, columns: predicted)",
                  "             " + " ".join(f"{g[:8]:>8}" for g in GROUPS)]
        for true in GROUPS:
            lines.append(f"{true:12} " + " ".join(f"{self.confusion[true][p]:8d}" for p in GROUPS))
        lines += ["", "flag              precision  recall  f1     support"]
        for name, s in self.flags.items():
            lines.append(f"{name:17} {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  {s.support:7d}")
        lines += ["", "need              precision  recall  f1     support"]
        for name, s in self.needs.items():
            lines.append(f"{name:17} {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  {s.support:7d}")
        lines += ["", f"language accuracy {self.language_accuracy:.3f}"]
        return "\n".join(lines)


def _score(pairs: Sequence[tuple[bool, bool]]) -> Score:
    return Score(sum(t and p for t, p in pairs), sum(p and not t for t, p in pairs),
                 sum(t and not p for t, p in pairs))


def evaluate(examples: Sequence[LabelledExample], predictions: Sequence[Assessment]) -> Report:
    pairs = list(zip(examples, predictions, strict=True))
    confusion: dict[str, Counter[str]] = {g: Counter() for g in GROUPS}
    for e, p in pairs:
        confusion[e.group][p.group] += 1
    misses = [f"{e.id}: flags {sorted(e.flags)} -> {sorted(p.flags)}" for e, p in pairs if set(e.flags) != set(p.flags)]
    return Report(
        count=len(pairs),
        groups={g: _score([(e.group == g, p.group == g) for e, p in pairs]) for g in GROUPS},
        confusion=confusion,
        flags={f: _score([(f in e.flags, f in p.flags) for e, p in pairs]) for f in FLAGS},
        needs={n: _score([(n in e.needs, n in p.needs) for e, p in pairs]) for n in NEEDS},
        language_accuracy=sum(e.lang == p.language for e, p in pairs) / len(pairs) if pairs else 0.0,
        misses=misses,
    )
