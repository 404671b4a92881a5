"""The labelled examples (config/triage/examples/*.jsonl) and their fixed held-out split."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from triage.vocabulary import FLAGS, GROUPS, NEEDS


class ExampleError(Exception):
    """An example file is invalid; the message names the file and the line."""


@dataclass(frozen=True)
class LabelledExample:
    id: str
    lang: str
    text: str
    group: str
    needs: tuple[str, ...]
    flags: tuple[str, ...]


def is_heldout(example_id: str) -> bool:
    """About one example in five, fixed by its id alone: never trained on."""
    return hashlib.sha256(example_id.encode()).digest()[0] % 5 == 0


def _parse(path: Path, number: int, line: str) -> LabelledExample:
    where = f"{path}:{number}"
    try:
        data = json.loads(line)
    except ValueError as e:
        raise ExampleError(f"{where}: not JSON ({e})") from None
    if not isinstance(data, dict) or set(data) != {"id", "lang", "text", "group", "needs", "flags"}:
        raise ExampleError(f"{where}: keys are id, lang, text, group, needs, flags")
    if data["group"] not in GROUPS:
        raise ExampleError(f"{where}: group {data['group']!r} is not one of {', '.join(GROUPS)}")
    for key, vocabulary in (("needs", NEEDS), ("flags", FLAGS)):
        if not isinstance(data[key], list) or any(v not in vocabulary for v in data[key]):
            raise ExampleError(f"{where}: {key} must be a list of {', '.join(vocabulary)}")
    if not isinstance(data["text"], str) or not data["text"].strip():
        raise ExampleError(f"{where}: text is empty")
    return LabelledExample(str(data["id"]), str(data["lang"]), data["text"], data["group"],
                           tuple(data["needs"]), tuple(data["flags"]))


def load_examples(source: Path) -> list[LabelledExample]:
    """Every example in a .jsonl file, or in every .jsonl file of a folder."""
    paths = sorted(source.glob("*.jsonl")) if source.is_dir() else [source]
    examples: list[LabelledExample] = []
    seen: dict[str, str] = {}
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            example = _parse(path, number, line)
            if example.id in seen:
                raise ExampleError(f"{path}:{number}: id {example.id!r} is used in {seen[example.id]} too")
            seen[example.id] = f"{path.name}:{number}"
            examples.append(example)
    return examples


def split(examples: list[LabelledExample]) -> tuple[list[LabelledExample], list[LabelledExample]]:
    train = [e for e in examples if not is_heldout(e.id)]
    heldout = [e for e in examples if is_heldout(e.id)]
    return train, heldout
