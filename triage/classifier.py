"""The text classifier: a spaCy pipeline built from spacy.blank("xx") with two text categorizers,
`group` (exclusive) and `labels` (needs and flags, multi-label), trained on the project's own
labelled examples. Nothing is downloaded: the trained pipeline is a folder the project ships."""
from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.training import Example
from spacy.util import compounding, minibatch

from triage.examples import LabelledExample
from triage.features import Featurizer
from triage.language import LanguageDetector
from triage.phrasebook import PhraseBook
from triage.vocabulary import FLAGS, GROUPS, NEEDS

GROUP = "group"
LABELS = "labels"
LABEL_NAMES = [f"need:{n}" for n in NEEDS] + [f"flag:{f}" for f in FLAGS]


def _bow(exclusive: bool) -> dict[str, Any]:
    """Single words (and the featurizer's prefixes and cue tokens): in cross-validation on the training split
    they generalise better than word pairs, which mostly memorise the examples' phrasing."""
    return {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": exclusive, "ngram_size": 1,
            "no_output_layer": False, "length": 65536}


def build() -> Language:
    nlp = spacy.blank("xx")
    nlp.add_pipe("textcat", name=GROUP, config={"model": _bow(True), "threshold": 0.0})
    nlp.add_pipe("textcat_multilabel", name=LABELS, config={"model": _bow(False), "threshold": 0.5})
    return nlp


def _group_cats(example: LabelledExample) -> dict[str, float]:
    return {g: float(example.group == g) for g in GROUPS}


def _label_cats(example: LabelledExample) -> dict[str, float]:
    cats = {f"need:{n}": float(n in example.needs) for n in NEEDS}
    cats.update({f"flag:{f}": float(f in example.flags) for f in FLAGS})
    return cats


def train(examples: Sequence[LabelledExample], phrases: PhraseBook, *, epochs: int = 20, seed: int = 1) -> Language:
    """Train a fresh pipeline; the same examples, phrases and seed give the same model. The model learns
    from the cue and rule tokens the phrases make, so it is trained with the phrase book it will run with."""
    random.seed(seed)
    spacy.util.fix_random_seed(seed)
    nlp = build()
    # The exclusive group categorizer and the multi-label one each learn from their own annotations.
    texts = [e.text for e in examples]
    detector = LanguageDetector()
    docs = [doc for _, doc in Featurizer(nlp, phrases)(texts, [detector.detect(t) for t in texts])]
    groups = [Example.from_dict(d, {"cats": _group_cats(e)}) for d, e in zip(docs, examples, strict=True)]
    labels = [Example.from_dict(d, {"cats": _label_cats(e)}) for d, e in zip(docs, examples, strict=True)]
    group_pipe: Any = nlp.get_pipe(GROUP)   # a TextCategorizer; spaCy types pipes as callables
    labels_pipe: Any = nlp.get_pipe(LABELS)
    group_pipe.initialize(lambda: groups, nlp=nlp, labels=list(GROUPS))
    labels_pipe.initialize(lambda: labels, nlp=nlp, labels=LABEL_NAMES)
    optimizer = nlp.create_optimizer()
    order = list(range(len(docs)))
    for _ in range(epochs):
        random.shuffle(order)
        losses: dict[str, float] = {}
        for batch in minibatch(order, size=compounding(4.0, 32.0, 1.001)):
            nlp.update([groups[i] for i in batch], sgd=optimizer, drop=0.2, losses=losses, exclude=[LABELS])
            nlp.update([labels[i] for i in batch], sgd=optimizer, drop=0.2, losses=losses, exclude=[GROUP])
    return nlp


def save(nlp: Language, path: Path) -> None:
    nlp.to_disk(path)


def load(path: Path) -> Language:
    return spacy.load(path)


