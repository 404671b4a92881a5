"""A set of documents loaded as the service would load them: written out as a configuration folder and
read by the same loaders that check the files at start, so a draft is validated exactly like a file."""
from __future__ import annotations

import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from handoff.directory import Directory
from handoff.queues import QueueDirectory
from lotsa.admin.documents import Key, relative_path
from lotsa.admin.yaml_lines import Problem, problems, syntax_problem
from lotsa.settings import ConfigError
from lotsa.texts import Catalogue, CatalogueError
from triage.phrasebook import PhraseBook, load_phrasebook
from triage.script import ScriptError, TriageScript, load_scripts

PARTS = {"triage_script": {"scripts"}, "phrases": {"phrases", "scripts"}, "texts": {"texts"},
         "canned_replies": {"directory"}, "referrals": {"directory", "queues"}, "queues": {"queues"}}
"""What must be built again when a document of a kind changes (scripts carry the phrases' digest;
queues name referrals)."""


class Invalid(Exception):
    """A document does not validate; `problems` are at their lines where they are in the draft."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass
class Loaded:
    phrases: PhraseBook | None = None
    scripts: dict[str, TriageScript] = field(default_factory=dict)
    texts: Catalogue | None = None
    directory: Directory | None = None
    queues: QueueDirectory | None = None


def load(documents: Mapping[Key, str], parts: Collection[str]) -> Loaded:
    """Build `parts` (phrases, scripts, texts, directory, queues) from the documents (raises the
    loaders' own errors, naming each document by its path in a configuration folder)."""
    with tempfile.TemporaryDirectory(prefix="lotsa-config-") as tmp:
        folder = Path(tmp)
        for (kind, name), content in documents.items():
            path = folder / relative_path(kind, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        try:
            return _load(folder, set(parts))
        except (ConfigError, ScriptError, CatalogueError, ValueError) as e:
            raise type(e)(str(e).replace(f"{folder}/", "")) from None


def _load(folder: Path, parts: set[str]) -> Loaded:
    loaded = Loaded()
    if parts & {"phrases", "scripts"}:
        loaded.phrases = load_phrasebook(folder / "triage" / "phrases")
    if "scripts" in parts:
        loaded.scripts = load_scripts(folder / "triage", loaded.phrases.digest if loaded.phrases else None)
    if "texts" in parts:
        loaded.texts = Catalogue.load(folder / "texts")
    if parts & {"directory", "queues"}:
        loaded.directory = Directory.load(folder)
    if "queues" in parts:
        assert loaded.directory is not None
        loaded.queues = QueueDirectory.load(folder / "queues.yaml", known_referrals=set(loaded.directory.referrals))
    return loaded


def validate(kind: str, name: str, draft: str, active: Mapping[Key, str]) -> Loaded:
    """The draft in place of the active version, everything it touches built (raises Invalid)."""
    syntax = syntax_problem(draft)
    if syntax is not None:
        raise Invalid([syntax])
    data = yaml.safe_load(draft)
    if not isinstance(data, dict):
        raise Invalid([Problem(1, "", "the document is a mapping (key: value lines)")])
    if kind == "triage_script" and data.get("name") != name:
        raise Invalid(_named(draft, f"name: must stay {name!r} (a new name is a new script)"))
    path = relative_path(kind, name)
    try:
        return load({**active, (kind, name): draft}, PARTS[kind])
    except (ConfigError, ScriptError, CatalogueError, ValueError) as e:
        raise Invalid(problems(str(e), draft, (f"{path}: ", f"{Path(path).name}: "))) from None


def _named(draft: str, message: str) -> list[Problem]:
    return problems(message, draft, ("",))
