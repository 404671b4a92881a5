"""The message catalogue: loaded from config/texts, validated with errors that name file and key."""
from __future__ import annotations

from pathlib import Path

import pytest

from lotsa.texts import Catalogue, CatalogueError

CONFIG_TEXTS = Path(__file__).resolve().parent.parent / "config" / "texts"


def write(folder: Path, **files: str) -> Path:
    for name, content in files.items():
        (folder / f"{name}.yaml").write_text(content, encoding="utf-8")
    return folder


def test_the_shipped_catalogue_is_valid_and_speaks_swedish_and_english() -> None:
    catalogue = Catalogue.load(CONFIG_TEXTS)
    assert {"sv", "en"} <= set(catalogue.languages)
    assert catalogue.text("voice.position", "sv", position=3) == "Du är nummer 3 i kön."
    assert catalogue.text("voice.position", "en", position=3) == "You are number 3 in the queue."


def test_a_language_without_a_text_falls_back_to_english_and_no_language_to_swedish(tmp_path: Path) -> None:
    folder = write(tmp_path, sv="a:\n  hi: Hej\n  bye: Hej då\n", en="a:\n  hi: Hi\n  bye: Bye\n",
                   ro="a:\n  hi: Salut\n")
    catalogue = Catalogue.load(folder)
    assert catalogue.text("a.hi", "ro") == "Salut"
    assert catalogue.text("a.bye", "ro") == "Bye"
    assert catalogue.text("a.hi", "uk") == "Hi"
    assert catalogue.text("a.hi", None) == "Hej"
    assert catalogue.section("a", "ro") == {"bye": "Bye", "hi": "Salut"}


@pytest.mark.parametrize(("files", "message"), [
    ({"sv": "a:\n  hi: Hej\n", "en": "a:\n  other: Hi\n"}, "en.yaml: a.hi: missing"),
    ({"sv": "a:\n  hi: Hej {name}\n", "en": "a:\n  hi: Hi {nmae}\n"}, "en.yaml: a.hi: placeholders"),
    ({"sv": "a:\n  hi: Hej\n", "en": "a:\n  hi: Hi\n", "ro": "a:\n  hey: Salut\n"}, "ro.yaml: a.hey: unknown key"),
    ({"sv": "a:\n  hi: ''\n", "en": "a:\n  hi: Hi\n"}, "sv.yaml: a.hi: must be a non-empty text"),
    ({"sv": "a:\n  hi: [1]\n", "en": "a:\n  hi: Hi\n"}, "sv.yaml: a.hi: must be a non-empty text"),
    ({"sv": "- a\n", "en": "a:\n  hi: Hi\n"}, "sv.yaml: must be a mapping"),
    ({"sv": "a: {hi: Hej\n", "en": "a:\n  hi: Hi\n"}, "sv.yaml: cannot be read"),
    ({"en": "a:\n  hi: Hi\n"}, "sv.yaml: missing"),
    ({"sv": "a:\n  hi: Hej {\n", "en": "a:\n  hi: Hi\n"}, "sv.yaml: a.hi:"),
])
def test_an_invalid_catalogue_is_refused_naming_file_and_key(tmp_path: Path, files: dict[str, str],
                                                             message: str) -> None:
    with pytest.raises(CatalogueError) as refused:
        Catalogue.load(write(tmp_path, **files))
    assert message in str(refused.value)


def test_the_digest_changes_with_any_text(tmp_path: Path) -> None:
    first = Catalogue.load(write(tmp_path, sv="a:\n  hi: Hej\n", en="a:\n  hi: Hi\n")).digest
    second = Catalogue.load(write(tmp_path, en="a:\n  hi: Hello\n")).digest
    assert first != second and len(first) == 64


def test_romanian_and_bulgarian_speakers_are_answered_in_their_language_where_the_catalogue_has_it() -> None:
    catalogue = Catalogue.load(CONFIG_TEXTS)
    assert catalogue.text("handoff.claimed", "ro") == "Un consilier este aici acum."
    assert catalogue.text("voice.position", "bg", position=3) == "Вие сте номер 3 на опашката."
    # Notes kept for counsellors are not in these catalogues: English, not Swedish, for a stranger.
    assert catalogue.text("voice.call_ended", "ro") == "The call ended."


def test_every_flag_reason_is_worded_in_swedish_and_english() -> None:
    from triage.explain import REASONS
    catalogue = Catalogue.load(CONFIG_TEXTS)
    for lang in ("sv", "en"):
        assert set(catalogue.section("reasons", lang)) == set(REASONS)
    assert catalogue.text("reasons.classifier_only", "en") == "possible, classifier only"


def test_a_missing_or_unknown_reason_is_refused() -> None:
    from triage.explain import REASONS
    with pytest.raises(CatalogueError, match="reasons.minor_stated: missing"):
        Catalogue.from_tables({"sv": {"reasons.age_under_18": "ålder"}, "en": {"reasons.age_under_18": "age"}})
    every = {f"reasons.{key}": key for key in REASONS} | {"reasons.model_score": "x"}
    with pytest.raises(CatalogueError, match="reasons.model_score: unknown flag reason"):
        Catalogue.from_tables({"sv": dict(every), "en": dict(every)})
