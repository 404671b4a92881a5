"""Cross-validation on the training split: how the model's own say on each red flag would score at
several thresholds, with and without the rules. This is how triage.assess.FLAG_THRESHOLDS and
MODEL_MIN_WORDS are chosen; the held-out split is never touched.

    .venv/bin/python benchmarks/triage_crossval.py [--folds 4] [--epochs 20]
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from triage import assess, classifier  # noqa: E402
from triage.assess import Assessor  # noqa: E402
from triage.evaluate import evaluate  # noqa: E402
from triage.examples import load_examples, split  # noqa: E402
from triage.phrasebook import load_phrasebook, phrases_folder  # noqa: E402
from triage.vocabulary import FLAGS  # noqa: E402

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    train, _ = split(load_examples(ROOT / "config" / "triage" / "examples"))
    phrases = load_phrasebook(phrases_folder(ROOT / "config" / "triage"))
    order = list(range(len(train)))
    random.Random(7).shuffle(order)
    folds = [[train[i] for i in order[k::args.folds]] for k in range(args.folds)]
    # Gather out-of-fold predictions at every threshold, then score them together.
    counts = {(f, t): [0, 0, 0] for f in FLAGS for t in (*THRESHOLDS, None)}
    group_f1 = []
    for k, test in enumerate(folds):
        rest = [e for j, fold in enumerate(folds) if j != k for e in fold]
        assessor = Assessor(classifier.train(rest, phrases, epochs=args.epochs), phrases=phrases)
        texts = [e.text for e in test]
        group_f1.append(evaluate(test, assessor.assess_many(texts)).group_macro_f1)
        for threshold in (*THRESHOLDS, None):
            # None: a threshold no score reaches, so the rules alone decide.
            assessor.flag_thresholds = dict.fromkeys(FLAGS, 2.0 if threshold is None else threshold)
            found = assessor.assess_many(texts)
            for example, result in zip(test, found, strict=True):
                for flag in FLAGS:
                    tally = counts[(flag, threshold)]
                    truth, said = flag in example.flags, flag in result.flags
                    tally[0] += truth and said
                    tally[1] += said and not truth
                    tally[2] += truth and not said
        print(f"fold {k + 1}/{args.folds}: group macro-F1 {group_f1[-1]:.3f}", flush=True)
    print(f"\ngroup macro-F1, mean of {args.folds} folds: {sum(group_f1) / len(group_f1):.3f}")
    print(f"\nred flags, out-of-fold ({len(train)} training examples); 'rules' = the model has no say")
    print(f"{'flag':18} {'threshold':>9} {'precision':>9} {'recall':>7}")
    for flag in FLAGS:
        for threshold in (None, *THRESHOLDS):
            tp, fp, fn = counts[(flag, threshold)]
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            label = "rules" if threshold is None else f"{threshold:.2f}"
            mark = " <" if threshold == assess.FLAG_THRESHOLDS[flag] else ""
            print(f"{flag:18} {label:>9} {precision:9.3f} {recall:7.3f}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
