"""The shipped red-flag rules and classifier, loaded once for the triage tests: `flags("jag är 15")`
is what the rules find in a message as a person writes it."""
from __future__ import annotations

from pathlib import Path

import spacy

from lotsa.settings import default_config_dir
from triage.assess import Assessor
from triage.normalize import fold
from triage.phrasebook import load_phrasebook, phrases_folder
from triage.redflags import Flags, RedFlagRules

NLP = spacy.blank("xx")
TRIAGE: Path = default_config_dir() / "triage"
BOOK = load_phrasebook(phrases_folder(TRIAGE))
RULES = RedFlagRules(NLP, BOOK)


def found(text: str, language: str | None = None) -> Flags:
    """What the rules find in `text` (folded as the pipeline folds it)."""
    return RULES.find(NLP.make_doc(fold(text)), language)


def flags(text: str, language: str | None = None) -> set[str]:
    return found(text, language).flags


def shipped_assessor() -> Assessor:
    """The classifier with its rules, as `lotsa serve` loads it."""
    return Assessor.load(TRIAGE / "model")
