"""Unit tests: the phrase book (config/triage/phrases) loads, is validated, and its digest is part of
the triage version a conversation pins."""
from __future__ import annotations

import fnmatch
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import spacy
import yaml

from lotsa.settings import default_config_dir
from triage.assess import Assessor
from triage.normalize import fold
from triage.phrasebook import SCHEMAS, PhraseBookError, load_phrasebook, phrases_folder
from triage.redflags import RedFlagRules
from triage.script import PHRASES_DIGEST, ScriptError, TriageScript, load_scripts

ROOT = Path(__file__).resolve().parent.parent
TRIAGE = default_config_dir() / "triage"
NLP = spacy.blank("xx")


@pytest.fixture
def triage_dir(tmp_path: Path) -> Path:
    """A copy of the default configuration's triage folder (scripts and phrases; no model)."""
    folder = tmp_path / "triage"
    shutil.copytree(TRIAGE, folder, ignore=shutil.ignore_patterns("model", "examples", "__pycache__"))
    return folder


def _edit(folder: Path, stem: str, change: Callable[[dict[str, Any]], object]) -> Path:
    path = phrases_folder(folder) / f"{stem}.yaml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(content)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _flags(book_folder: Path, text: str) -> set[str]:
    rules = RedFlagRules(NLP, load_phrasebook(book_folder))
    return rules.find(NLP.make_doc(fold(text))).flags


def test_the_packaged_phrase_book_loads() -> None:
    book = load_phrasebook(phrases_folder(TRIAGE))
    assert list(book.flags) == ["suicide", "immediate_danger", "trafficking", "minor"]
    assert "vill do" in book.flags["suicide"]["sv"] and "kill myself" in book.flags["suicide"]["en"]
    assert set(book.cues) == {"sells", "buys", "relative", "professional", "other"}
    assert book.signs and book.weak and book.means and book.urgent and book.threat and book.idioms
    assert len(book.digest) == 64 and int(book.digest, 16) >= 0


def test_an_installed_package_carries_every_phrase_file() -> None:
    """setuptools installs config/ as lotsa.default_config: its package-data must match the phrase files."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["lotsa.default_config.triage"]
    files = sorted(p.relative_to(ROOT / "config" / "triage").as_posix()
                   for p in (ROOT / "config" / "triage" / "phrases").iterdir())
    assert [f"{stem}.yaml" for stem in sorted(SCHEMAS)] == [f.removeprefix("phrases/") for f in files]
    assert all(any(fnmatch.fnmatch(f, pattern) for pattern in patterns) for f in files)


@pytest.mark.parametrize(("stem", "change", "expected"), [
    ("suicide", lambda c: c["phrases"].update(xx=["vill do"]), "phrases.xx: unknown language 'xx'"),
    ("cues", lambda c: c["groups"].update(pimps=["hallick"]), "groups.pimps: unknown group 'pimps'"),
    ("minor", lambda c: c.update(ages=["15"]), "ages: Extra inputs are not permitted"),
    ("trafficking", lambda c: c["phrases"]["sv"].append(""), "phrases.sv: an empty phrase"),
    ("exchange", lambda c: c["phrases"]["en"].append("... for money"),
     "phrases.en: '... for money' starts with a wildcard"),
    ("immediate_danger", lambda c: c["urgent"].append("* nu"), "urgent: '* nu' starts with a wildcard"),
    ("suicide", lambda c: c["phrases"]["sv"].append("Vill Dö"), "phrases.sv: 'Vill Dö' is not folded text: write 'vill do'"),
    ("idioms", lambda c: c["phrases"].append(c["phrases"][0]), "phrases: 'killing myself laughing' is listed twice"),
    ("suicide", lambda c: c["weak"].insert(0, 18), "weak.0: Input should be a valid string"),
])
def test_validation_errors_name_file_key_and_phrase(triage_dir: Path, stem: str, change: Callable[[dict], object],
                                                    expected: str) -> None:
    path = _edit(triage_dir, stem, change)
    with pytest.raises(PhraseBookError) as err:
        load_phrasebook(phrases_folder(triage_dir))
    assert str(err.value).startswith(f"{path}: ")
    assert expected in str(err.value)


def test_unknown_and_missing_files_are_named(triage_dir: Path) -> None:
    folder = phrases_folder(triage_dir)
    (folder / "suicide.yaml").rename(folder / "suicde.yaml")
    with pytest.raises(PhraseBookError, match=r"suicde\.yaml: unknown phrase file"):
        load_phrasebook(folder)
    (folder / "suicde.yaml").unlink()
    with pytest.raises(PhraseBookError, match=r"suicide\.yaml: missing"):
        load_phrasebook(folder)
    with pytest.raises(PhraseBookError, match="no phrase book folder"):
        load_phrasebook(triage_dir / "nowhere")


def test_a_yaml_error_names_the_file_and_is_a_script_error(triage_dir: Path) -> None:
    """Whatever reports an invalid triage script at start reports an invalid phrase book too."""
    (phrases_folder(triage_dir) / "minor.yaml").write_text("phrases: [unclosed", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"minor\.yaml"):
        load_phrasebook(phrases_folder(triage_dir))


def test_the_digest_follows_the_content_not_the_layout(triage_dir: Path) -> None:
    folder = phrases_folder(triage_dir)
    before = load_phrasebook(folder).digest
    _edit(triage_dir, "cues", lambda c: None)  # rewritten without comments, otherwise the same
    assert load_phrasebook(folder).digest == before
    _edit(triage_dir, "minor", lambda c: c["phrases"]["sv"].append("gar i sexan pa"))
    assert load_phrasebook(folder).digest != before


def test_an_admins_new_phrase_raises_the_flag(triage_dir: Path) -> None:
    folder = phrases_folder(triage_dir)
    assert "trafficking" not in _flags(folder, "hon tog min cykel")
    _edit(triage_dir, "trafficking", lambda c: c["phrases"]["sv"].append("tog min cykel"))
    assert "trafficking" in _flags(folder, "Hon tog min cykel")
    assert "trafficking" in Assessor.rules_only(load_phrasebook(folder)).assess("Hon tog min cykel").flags


def test_the_assessor_reads_the_phrases_next_to_its_model(tmp_path: Path) -> None:
    triage = tmp_path / "triage"
    shutil.copytree(TRIAGE / "model", triage / "model")
    shutil.copytree(phrases_folder(TRIAGE), phrases_folder(triage))
    _edit(triage, "suicide", lambda c: c["signs"].append("lila elefanter"))
    assessor = Assessor.load(triage / "model")
    assert assessor.phrases.folder == phrases_folder(triage)
    assert "suicide" in assessor.assess("lila elefanter").flags


def test_the_pinned_version_includes_the_phrase_digest(triage_dir: Path) -> None:
    before = load_scripts(triage_dir)["default"]
    assert before.content[PHRASES_DIGEST] == load_phrasebook(phrases_folder(triage_dir)).digest
    _edit(triage_dir, "immediate_danger", lambda c: c["phrases"]["en"].append("he has a crowbar"))
    after = load_scripts(triage_dir)["default"]
    assert after.spec == before.spec and after.version != before.version
    stored = TriageScript.from_content(after.content)
    assert (stored.version, stored.phrases_digest) == (after.version, after.content[PHRASES_DIGEST])


def test_a_script_without_a_digest_keeps_its_old_version(triage_dir: Path) -> None:
    """Versions stored before phrase books existed are reproduced from their content."""
    script = TriageScript.load(triage_dir / "default.yaml")
    assert PHRASES_DIGEST not in script.content
    assert TriageScript.from_content(script.content).version == script.version
    assert load_scripts(triage_dir, phrases_digest="")["default"].version == script.version
    assert load_scripts(triage_dir)["default"].version != script.version


def test_a_script_file_cannot_set_the_digest(triage_dir: Path) -> None:
    path = triage_dir / "default.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nphrases_digest: abc\n", encoding="utf-8")
    with pytest.raises(ScriptError, match="phrases_digest: set from the phrase book"):
        TriageScript.load(path)


@pytest.mark.parametrize(("stem", "change", "expected"), [
    ("needs", lambda c: c["needs"].update(money={"sv": ["pengar"]}), "needs.money: unknown need 'money'"),
    ("context", lambda c: c.update(sarcasm={"sv": ["ja visst"]}), "sarcasm: Extra inputs are not permitted"),
    ("context", lambda c: c["topic"]["sv"].append("Uppsats"), "topic.sv: 'Uppsats' is not folded text: write 'uppsats'"),
    ("context", lambda c: c["class"].update(xx=["women who"]), "class.xx: unknown language 'xx'"),
    ("trafficking", lambda c: c["support"]["sv"].append("... tvingar"), "support.sv: '... tvingar' starts with a wildcard"),
    ("suicide", lambda c: c["taken"].append(c["taken"][0]), "is listed twice"),
])
def test_context_needs_and_support_are_validated(triage_dir: Path, stem: str, change: Callable[[dict], object],
                                                 expected: str) -> None:
    path = _edit(triage_dir, stem, change)
    with pytest.raises(PhraseBookError) as err:
        load_phrasebook(phrases_folder(triage_dir))
    assert str(err.value).startswith(f"{path}: ") and expected in str(err.value)


def test_the_packaged_context_needs_and_support_load() -> None:
    book = load_phrasebook(phrases_folder(TRIAGE))
    assert set(book.context) == {"topic", "subject", "reassuring", "over", "class", "incidental", "role",
                                "client", "paying", "animal"}
    assert all(book.context.values()) and set(book.needs) == {"economy", "return", "health", "legal"}
    assert all(book.support[flag] for flag in ("suicide", "immediate_danger", "trafficking", "minor"))
    assert book.taken and book.need_substrings["return"]
