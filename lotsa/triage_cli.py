"""`lotsa triage train | classify | eval` (a contract scripts rely on): offline, no server needed."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO

from handoff.queues import QueueDirectory
from lotsa.settings import Settings, config_folder, load_settings
from triage import classifier
from triage.assess import Assessor
from triage.evaluate import evaluate
from triage.examples import load_examples, split
from triage.phrasebook import PhraseBook, load_phrasebook
from triage.routing import pick_queue

MAX_LINE = 64 * 1024


def model_dir(settings: Settings) -> Path:
    return settings.config_dir / "triage" / "model"


def load_phrases(settings: Settings) -> PhraseBook:
    """The configuration's phrase book (config/triage/phrases), validated."""
    return load_phrasebook(config_folder(settings.config_dir, "triage/phrases"))


def load_assessor(settings: Settings) -> Assessor:
    path = model_dir(settings)
    if not (path / "config.cfg").exists():
        raise SystemExit(f"lotsa triage: no trained model in {path}: run `lotsa triage train`")
    return Assessor.load(path, load_phrases(settings))


def cmd_train(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    examples = load_examples(settings.config_dir / "triage" / "examples")
    train, heldout = split(examples)
    phrases = load_phrases(settings)
    started = time.perf_counter()
    nlp = classifier.train(train, phrases, epochs=args.epochs, seed=args.seed)
    classifier.save(nlp, model_dir(settings))
    print(f"trained on {len(train)} examples in {time.perf_counter() - started:.1f} s; "
          f"{len(heldout)} held out; saved to {model_dir(settings)}")
    report = evaluate(heldout, Assessor(nlp, phrases=phrases).assess_many([e.text for e in heldout]))
    print(report.text())
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if args.file:
        examples = load_examples(Path(args.file))
    else:
        _, examples = split(load_examples(settings.config_dir / "triage" / "examples"))
    report = evaluate(examples, load_assessor(settings).assess_many([e.text for e in examples]))
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(report.text())
        if args.misses:
            print("\nflag mistakes:\n" + "\n".join(report.misses))
    return 0


def classify_stream(assessor: Assessor, queues: QueueDirectory, source: IO[str], out: IO[str],
                    batch: int = 512) -> int:
    """JSON Lines {"id", "text"} in, one JSON line per input line out (an error line for a bad one)."""
    rules = queues.rules()
    count = 0
    pending: list[tuple[object, str | None, str]] = []

    def flush() -> None:
        texts = [text for _, error, text in pending if error is None]
        results = iter(assessor.assess_many(texts))
        for ident, error, _ in pending:
            if error is not None:
                out.write(json.dumps({"id": ident, "error": error}) + "\n")
                continue
            result = next(results).result()
            out.write(json.dumps({"id": ident, "group": result.group, "flags": list(result.flags),
                                  "risk": result.risk, "needs": list(result.needs), "language": result.language,
                                  "queue": pick_queue(result, rules), "confidence": result.confidence},
                                 ensure_ascii=False) + "\n")
        pending.clear()

    for line in source:
        if not line.strip():
            continue
        count += 1
        try:
            if len(line) > MAX_LINE:
                raise ValueError("line longer than 64 KiB")
            data = json.loads(line)
            if not isinstance(data, dict) or not isinstance(data.get("text"), str):
                raise ValueError('each line is an object with a string "text"')
            pending.append((data.get("id"), None, data["text"]))
        except ValueError as e:
            pending.append((None, str(e), ""))
        if len(pending) >= batch:
            flush()
    flush()
    out.flush()
    return count


def cmd_classify(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    queues = QueueDirectory.load(settings.config_dir / "queues.yaml")
    classify_stream(load_assessor(settings), queues, sys.stdin, sys.stdout)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The `lotsa triage` commands; returns their subparsers, to which lotsa/cli.py adds `bench`."""
    triage = sub.add_parser("triage", help="the triage classifier").add_subparsers(dest="triage_command",
                                                                                 required=True)
    train = triage.add_parser("train", help="train the classifier on config/triage/examples (held-out split kept)")
    train.add_argument("--config", type=Path)
    train.add_argument("--epochs", type=int, default=15)
    train.add_argument("--seed", type=int, default=1)
    train.set_defaults(func=cmd_train)
    classify = triage.add_parser("classify", help="JSON Lines {id, text} on stdin -> one JSON line each on stdout")
    classify.add_argument("--config", type=Path)
    classify.set_defaults(func=cmd_classify)
    ev = triage.add_parser("eval", help="precision, recall, F1 and a confusion matrix on labelled examples")
    ev.add_argument("file", nargs="?", help="labelled JSON Lines (default: the held-out split of the examples)")
    ev.add_argument("--config", type=Path)
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--misses", action="store_true", help="list the examples whose flags were wrong")
    ev.set_defaults(func=cmd_eval)
    return triage
