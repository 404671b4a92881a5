"""Every text a page asks for exists in the message catalogue, so a missing string fails here.

The keys are read from the templates (`t('…')`, `data-i18n…="…"`) and from the pages' scripts
(`t("…")`, `setMsgState(…, "…")`, `dataset.i18n… = "…"`, the author labels); families of keys
looked up with a value (`label("outcome", …)`, the vocabulary) are checked for every value the
server can send.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest

from handoff.supervision import PRESENCES
from handoff.wrapup import OUTCOMES
from lotsa.pages import VOCABULARY, vocabulary_labels
from lotsa.settings import config_folder, default_config_dir
from lotsa.texts import Catalogue
from lotsa_testing.server import RunningServer
from triage.explain import REASONS

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = Catalogue.load(ROOT / "config" / "texts")
TEMPLATES = [*(ROOT / "bot" / "templates").glob("*.html"), *(ROOT / "handoff" / "templates").glob("*.html"),
             *(ROOT / "lotsa" / "templates").glob("*.html"), *(ROOT / "lotsa" / "admin" / "templates").glob("*.html")]
SCRIPTS = {"chat": ROOT / "bot" / "static" / "chat.js", "console": ROOT / "handoff" / "static" / "console.js",
           "admin": ROOT / "lotsa" / "admin" / "static" / "admin.js"}

TEMPLATE_KEY = re.compile(r"""\bt\(\s*'([A-Za-z0-9_.]+)'\s*\)""")
DATA_I18N = re.compile(r"""data-i18n(?:-placeholder|-label)?="([^"]+)\"""")
T_CALL = re.compile(r"""\bt\(([^()]*)\)""")
STRING = re.compile(r'''"([A-Za-z0-9_.]+)"''')
KEY_SETTERS = [
    re.compile(r'''setMsgState\([^,]+,\s*"([a-z0-9_]+)"\)'''),
    re.compile(r'''dataset\.i18n(?:Label|Placeholder)?\s*=\s*"([a-z0-9_]+)"'''),
]
AUTHOR_LABELS = re.compile(r"AUTHOR_LABELS\s*=\s*\{([^}]*)\}")
FAMILIES = re.compile(r'''\blabel\(\s*"([a-z_]+)"''')
NOTE_KINDS = ("note", "transfer", "returned")
SERVER_VALUES = {"presence": (*PRESENCES, "busy", "offline"), "note_kind": NOTE_KINDS, "outcome": OUTCOMES}


def keys_in_script(source: str) -> set[str]:
    found = {key for call in T_CALL.findall(source) for key in STRING.findall(call)}
    for setter in KEY_SETTERS:
        found |= set(setter.findall(source))
    for table in AUTHOR_LABELS.findall(source):
        found |= set(STRING.findall(table))
    return found


def missing(keys: set[str]) -> list[str]:
    return sorted(key for key in keys for lang in ("sv", "en") if key not in CATALOGUE.texts[lang])


def test_every_key_a_template_renders_is_in_the_catalogue() -> None:
    keys = {key for path in TEMPLATES for key in TEMPLATE_KEY.findall(path.read_text(encoding="utf-8"))}
    keys |= {f"console.tab.{tab}" for tab in ("notes", "canned", "referrals", "transfer", "wrapup")}
    assert len(keys) > 60, sorted(keys)  # the pattern still finds the lookups
    assert missing(keys) == []


def test_every_data_i18n_key_of_the_chat_page_is_in_the_catalogue() -> None:
    keys = set(DATA_I18N.findall((ROOT / "bot" / "templates" / "chat.html").read_text(encoding="utf-8")))
    assert {"quick_exit", "placeholder", "lang_toggle"} <= keys
    assert missing({f"chat.{key}" for key in keys}) == []


@pytest.mark.parametrize("page", sorted(SCRIPTS))
def test_every_key_a_script_looks_up_is_in_its_section(page: str) -> None:
    keys = keys_in_script(SCRIPTS[page].read_text(encoding="utf-8"))
    assert len(keys) > 20, sorted(keys)
    assert missing({f"{page}.{key}" for key in keys}) == []


def test_every_value_the_console_labels_has_a_text() -> None:
    families = set(FAMILIES.findall(SCRIPTS["console"].read_text(encoding="utf-8")))
    assert families == set(SERVER_VALUES)
    assert missing({f"console.{family}.{value}" for family, values in SERVER_VALUES.items()
                    for value in values}) == []


def test_every_value_of_the_triage_vocabulary_has_a_label_in_both_languages() -> None:
    for lang in ("sv", "en"):
        labels = vocabulary_labels(CATALOGUE, lang)
        assert {kind: list(values) for kind, values in labels.items()} == {
            **{kind: list(values) for kind, values in VOCABULARY.items()}, "reason": list(REASONS)}
    assert vocabulary_labels(CATALOGUE, "sv")["flag"]["minor"] == "Möjligen minderårig"
    assert vocabulary_labels(CATALOGUE, "en")["reason"]["classifier_only"] == "possible, classifier only"


def test_the_scripts_carry_no_text_tables_of_their_own() -> None:
    for path in SCRIPTS.values():
        source = path.read_text(encoding="utf-8")
        assert "STRINGS" not in source and "Säljer" not in source and "Köper" not in source


def test_a_missing_key_is_found() -> None:
    assert missing({"chat.no_such_text"}) == ["chat.no_such_text", "chat.no_such_text"]
    assert keys_in_script('t("a"); t(x ? "b" : "c", { n: 1 }); setMsgState(node, "d"); n.dataset.i18n = "e";') \
        == {"a", "b", "c", "d", "e"}


def test_a_configuration_made_before_texts_were_data_gets_the_packaged_texts(tmp_path: Path) -> None:
    assert config_folder(tmp_path, "texts") == default_config_dir() / "texts"
    (tmp_path / "texts").mkdir()
    assert config_folder(tmp_path, "texts") == tmp_path / "texts"


async def test_the_chat_page_carries_its_texts_as_data_and_runs_no_inline_script(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/chat?lang=en") as response:
            html, csp = await response.text(), response.headers["Content-Security-Policy"]
        async with http.get(f"{server.url}/console") as response:
            login = await response.text()
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert [attrs for attrs, _ in scripts] == [' type="application/json" id="page-data"',
                                              ' type="module" src="/static/chat/chat.js"']
    data = json.loads(scripts[0][1])
    assert data["lang"] == "en"
    assert data["texts"]["sv"]["send"] == "Skicka" and data["texts"]["en"]["send"] == "Send"
    assert ">Send</button>" in html and "lang ==" not in html
    assert "<script" not in login and ">Logga in</h1>" in login  # no Accept-Language: Swedish
