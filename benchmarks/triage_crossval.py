"""Cross-validation on the training split: how the model's own say on each red flag would score at
several thresholds, with and without the rules, and how precise it is alone (on the messages where the
rules did not raise the flag). This is how triage.assess.FLAG_THRESHOLDS (recall: the model's flag
with evidence in the message), triage.assess.SURE_THRESHOLDS (precision >= 0.9 of the model alone:
a flag without evidence) and MODEL_MIN_WORDS are chosen; the held-out split is never touched.

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
from triage.assess import Assessment, Assessor, enough_words  # noqa: E402
from triage.evaluate import evaluate  # noqa: E402
from triage.examples import LabelledExample, load_examples, split  # noqa: E402
from triage.phrasebook import load_phrasebook, phrases_folder  # noqa: E402
from triage.vocabulary import FLAGS  # noqa: E402

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


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
    alone = {(f, t): [0, 0] for f in FLAGS for t in THRESHOLDS}
    group_f1 = []
    for k, test in enumerate(folds):
        rest = [e for j, fold in enumerate(folds) if j != k for e in fold]
        assessor = Assessor(classifier.train(rest, phrases, epochs=args.epochs), phrases=phrases)
        texts = [e.text for e in test]
        group_f1.append(evaluate(test, assessor.assess_many(texts)).group_macro_f1)
        assessor.flag_thresholds = dict.fromkeys(FLAGS, 2.0)
        rules = assessor.assess_many(texts)
        _tally_alone(alone, test, rules, assessor.scores_of(texts))
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
    print("\nthe model alone (messages where the rules did not raise the flag): precision and how many")
    for flag in FLAGS:
        for threshold in THRESHOLDS:
            right, said = alone[(flag, threshold)]
            mark = " <" if threshold == assess.SURE_THRESHOLDS.get(flag) else ""
            print(f"{flag:18} {threshold:9.2f} {right / said if said else 0.0:9.3f} {said:7d}{mark}")
    return 0


def _tally_alone(alone: dict[tuple[str, float], list[int]], test: list[LabelledExample],
                 rules: list[Assessment], scores: list[dict[str, float]]) -> None:
    """Where the rules did not raise a flag, whether the model's flag at each threshold was right."""
    for example, found, cats in zip(test, rules, scores, strict=True):
        for flag in FLAGS:
            if flag in found.flags or not enough_words(example.text):
                continue
            for threshold in THRESHOLDS:
                if cats.get(f"flag:{flag}", 0.0) >= threshold:
                    alone[(flag, threshold)][0] += flag in example.flags
                    alone[(flag, threshold)][1] += 1


if __name__ == "__main__":
    raise SystemExit(main())
