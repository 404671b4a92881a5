"""What the HTML pages share: the base template, the shared static folder and each page's data.

A page's texts come from the message catalogue (`config/texts`): the template renders them with
`t('section.key')`, and the page's script reads them, with the vocabulary labels where it shows
triage values, from a JSON island (`<script type="application/json" id="page-data">`) that the
base template writes with Jinja's `tojson`. Not executed, so the CSP (`script-src 'self'`) holds.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from lotsa import appkeys
from lotsa.texts import Catalogue
from triage import vocabulary
from triage.explain import REASONS

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
VOCABULARY = {"group": vocabulary.GROUPS, "flag": vocabulary.FLAGS, "risk": vocabulary.RISKS, "need": vocabulary.NEEDS}


def translator(catalogue: Catalogue, lang: str) -> Callable[..., str]:
    """`t('chat.send')` for a template: the text in the page's language, filled in."""
    def t(key: str, **values: Any) -> str:
        return catalogue.text(key, lang, **values)
    return t


def vocabulary_labels(catalogue: Catalogue, lang: str) -> dict[str, dict[str, str]]:
    """Kind (group, flag, risk, need) → value → label, in the vocabulary's own order; and `reason`: why
    a flag was raised (triage.explain.REASONS, worded in the catalogue's `reasons` section)."""
    labels = {kind: {value: catalogue.text(f"vocabulary.{kind}.{value}", lang) for value in values}
              for kind, values in VOCABULARY.items()}
    labels["reason"] = {key: catalogue.text(f"reasons.{key}", lang) for key in REASONS}
    return labels


def page_context(request: web.Request, lang: str, section: str, *, languages: Iterable[str] = (),
                 vocabulary: bool = False, script: bool = True, **extra: Any) -> dict[str, Any]:
    """The template context of a page: its language, `t`, and the data its script reads.

    `languages` are those the script can switch to without a reload (the page's own is always there);
    `vocabulary` adds the labels of the triage vocabulary (groups, flags, risks, needs); a page
    without a `script` gets no page data.
    """
    catalogue = request.app[appkeys.TEXTS]
    if not script:
        return {"lang": lang, "t": translator(catalogue, lang), "page_data": None, **extra}
    wanted = dict.fromkeys([lang, *languages])
    data: dict[str, Any] = {"lang": lang, "texts": {code: catalogue.section(section, code) for code in wanted}}
    if vocabulary:
        data["vocabulary"] = vocabulary_labels(catalogue, lang)
    return {"lang": lang, "t": translator(catalogue, lang), "page_data": data, **extra}
