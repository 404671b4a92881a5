"""The admin area at /admin: the index of sections, each kind's documents, and the document page
(YAML editor with line numbers, validation at the line, simulator, sample table, publish, history,
diff and rollback). Pages are for admins and, read-only, supervisors; every change is an admin's
(JSON under /api/admin, CSRF token in the header) and goes into the audit log."""
from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from handoff.console import current_staff, require_staff
from lotsa import appkeys
from lotsa.admin import queue_preview, sample, simulator
from lotsa.admin.bundle import Invalid, Loaded
from lotsa.admin.documents import KINDS, Conflict, Document, DocumentStore
from lotsa.admin.live import LiveConfig
from lotsa.admin.publishing import Refusal, check, diff, publish, rollback
from lotsa.admin.sections import ADMINS, READERS, visible
from lotsa.errors import Refused, ascii_id
from lotsa.models import StaffUser, utcnow
from lotsa.pages import page_context
from triage.runner import TriageRunner

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
LIVE = web.AppKey("admin_live", LiveConfig)
NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
SIMULATED = ("triage_script",)
SAMPLED = ("triage_script", "phrases", "queues")


def lang_of(request: web.Request) -> str:
    """The page language: `?lang=`, else the browser's."""
    asked = request.query.get("lang")
    if asked in ("sv", "en"):
        return asked
    return "en" if request.headers.get("Accept-Language", "").lower().startswith("en") else "sv"


def _kind(request: web.Request) -> str:
    kind = request.match_info["kind"]
    if kind not in KINDS:
        raise Refused("not_found", "No such kind of document.", 404)
    return kind


def _key(request: web.Request) -> tuple[str, str]:
    name = request.match_info["name"]
    if not NAME.match(name):
        raise Refused("not_found", "No such document.", 404)
    return _kind(request), name


async def staff_page(request: web.Request, roles: Collection[str] = READERS) -> tuple[str, StaffUser]:
    """The session and user of an admin-area page: anonymous goes to the log-in, other roles are refused."""
    found = await current_staff(request)
    if found is None:
        raise web.HTTPSeeOther("/console")
    if found[1].role not in roles:
        raise Refused("role", "Your role may not do this.", 403)
    return found


def _store(request: web.Request) -> DocumentStore:
    return DocumentStore(request.app[appkeys.DB])


async def _versions(request: web.Request, kind: str, name: str) -> list[Document]:
    versions = await _store(request).versions(kind, name)
    if not versions:
        raise Refused("not_found", "No such document.", 404)
    return versions


def render(request: web.Request, template: str, sid: str, user: StaffUser, **extra: Any) -> web.Response:
    """An admin-area page: `template` extends admin_base.html (header, the sections' navigation,
    language switch, CSRF token for its script); `extra` is the page's own context."""
    lang = lang_of(request)
    return aiohttp_jinja2.render_template(template, request, page_context(
        request, lang, "admin", user=user, sections=visible(user.role), here=request.path,
        csrf_token=request.app[appkeys.KEYRING].csrf_token(sid), can_edit=user.role in ADMINS,
        other_lang="en" if lang == "sv" else "sv", q="?lang=en" if lang == "en" else "", **extra))


async def index_page(request: web.Request) -> web.StreamResponse:
    sid, user = await staff_page(request)
    return render(request, "admin_index.html", sid, user)


async def kind_page(request: web.Request) -> web.StreamResponse:
    sid, user = await staff_page(request)
    kind = _kind(request)
    documents = sorted((doc for (k, _), doc in (await _store(request).active()).items() if k == kind),
                       key=lambda doc: doc.name)
    return render(request, "admin_kind.html", sid, user, kind=kind, documents=documents)


async def document_page(request: web.Request) -> web.StreamResponse:
    sid, user = await staff_page(request)
    kind, name = _key(request)
    versions = await _versions(request, kind, name)
    return render(request, "admin_document.html", sid, user, kind=kind, name=name, active=versions[0],
                   versions=versions, simulated=kind in SIMULATED, sampled=kind in SAMPLED,
                   previewed=kind == "queues")


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise Refused("json_expected", "Send application/json.", 415)
    try:
        body = await request.json()
        json.dumps(body, ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refused("bad_json", "The body is not valid JSON.", 400) from None
    if not isinstance(body, dict):
        raise Refused("bad_json", "The body is a JSON object.", 400)
    return body


def _text(body: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = body.get(key, None if required else "")
    if not isinstance(value, str):
        raise Refused(f"bad_{key}", f"`{key}` is a text.", 400)
    return value


def _version_arg(value: Any, what: str) -> int:
    number = ascii_id(str(value)) if isinstance(value, int | str) and not isinstance(value, bool) else None
    if number is None:
        raise Refused(f"bad_{what}", f"`{what}` is a version number.", 400)
    return number


async def api_document(request: web.Request) -> web.Response:
    await require_staff(request, state_changing=False, roles=READERS)
    kind, name = _key(request)
    versions = await _versions(request, kind, name)
    return web.json_response({"active": {**versions[0].summary(), "content": versions[0].content},
                              "versions": [v.summary() for v in versions]})


async def api_version(request: web.Request) -> web.Response:
    await require_staff(request, state_changing=False, roles=READERS)
    kind, name = _key(request)
    number = _version_arg(request.match_info["version"], "version")
    document = await _store(request).get(kind, name, number)
    if document is None:
        raise Refused("not_found", "No such version.", 404)
    return web.json_response({**document.summary(), "content": document.content})


async def api_diff(request: web.Request) -> web.Response:
    await require_staff(request, state_changing=False, roles=READERS)
    kind, name = _key(request)
    a, b = (_version_arg(request.query.get(k, ""), k) for k in ("from", "to"))
    store = _store(request)
    before, after = await store.get(kind, name, a), await store.get(kind, name, b)
    if before is None or after is None:
        raise Refused("not_found", "No such version.", 404)
    return web.json_response({"from": a, "to": b, "diff": diff(before, after)})


async def api_check(request: web.Request) -> web.Response:
    await require_staff(request, state_changing=True, roles=ADMINS)
    kind, name = _key(request)
    draft = _text(await _body(request), "content")
    try:
        await check(_store(request), kind, name, draft)
    except Invalid as e:
        return web.json_response({"ok": False, "problems": [p.to_json() for p in e.problems]})
    except Refusal as e:
        raise Refused("not_found", str(e), 404) from None
    return web.json_response({"ok": True, "problems": []})


async def api_publish(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=True, roles=ADMINS)
    kind, name = _key(request)
    body = await _body(request)
    draft, comment = _text(body, "content"), _text(body, "comment")
    base = _version_arg(body.get("base_version"), "base_version")
    try:
        document = await publish(request.app[appkeys.DB], kind, name, draft, author=user, comment=comment,
                                 base_version=base, live=request.app[LIVE])
    except Invalid as e:
        return web.json_response({"error": "invalid", "message": "The document does not validate.",
                                  "problems": [p.to_json() for p in e.problems]}, status=422)
    except Conflict as e:
        return web.json_response({
            "error": "conflict", "active": e.active.summary(),
            "message": f"Version {e.active.version} was published by {e.active.author} while you edited.",
            "diff": diff(e.active.content, draft, (f"version {e.active.version}", "your draft"))}, status=409)
    except Refusal as e:
        raise Refused("refused", str(e), 400) from None
    return web.json_response({"version": document.summary()}, status=201)


async def api_rollback(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=True, roles=ADMINS)
    kind, name = _key(request)
    body = await _body(request)
    number = _version_arg(body.get("version"), "version")
    try:
        document = await rollback(request.app[appkeys.DB], kind, name, number, author=user,
                                  comment=_text(body, "comment", required=False), live=request.app[LIVE])
    except Invalid as e:
        return web.json_response({"error": "invalid", "message": "That version no longer validates.",
                                  "problems": [p.to_json() for p in e.problems]}, status=422)
    except (Refusal, Conflict) as e:
        raise Refused("refused", str(e), 400) from None
    return web.json_response({"version": document.summary()}, status=201)


async def _draft(request: web.Request, kind: str, name: str, draft: str) -> Loaded:
    try:
        return await check(_store(request), kind, name, draft)
    except Invalid as e:
        raise Refused("invalid", "The draft does not validate: " + "; ".join(
            f"line {p.line}: {p.message}" if p.line else p.message for p in e.problems), 422) from None
    except Refusal as e:
        raise Refused("not_found", str(e), 404) from None


async def api_simulate(request: web.Request) -> web.Response:
    await require_staff(request, state_changing=True, roles=ADMINS)
    body = await _body(request)
    name = _text(body, "name", required=False) or request.app[appkeys.PIPELINE].scripts.default
    if not NAME.match(name):
        raise Refused("not_found", "No such script.", 404)
    loaded = await _draft(request, "triage_script", name, _text(body, "content"))
    runner = TriageRunner(loaded.scripts[name])
    pipeline = request.app[appkeys.PIPELINE]
    if body.get("state") is None:
        lang = body.get("lang")
        return web.json_response(simulator.start(runner, lang if isinstance(lang, str) else None))
    choice = body.get("choice")
    if choice is not None and not isinstance(choice, str):
        raise Refused("bad_choice", "`choice` is a choice id.", 400)
    text = _text(body, "text", required=False)[:2000]
    frame = simulator.answer(runner, pipeline.assessor, pipeline.queues, body["state"], body.get("record"),
                             text, choice)
    return web.json_response(frame)


async def api_sample(request: web.Request) -> web.Response:
    await require_staff(request, state_changing=True, roles=ADMINS)
    body = await _body(request)
    kind, name = _text(body, "kind"), _text(body, "name")
    if kind not in SAMPLED or not NAME.match(name):
        raise Refused("bad_kind", f"The sample table runs for {', '.join(SAMPLED)}.", 400)
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
        raise Refused("bad_messages", "`messages` is a list of texts.", 400)
    texts = [m.strip()[:2000] for m in messages if m.strip()][:sample.MAX_MESSAGES]
    loaded = await _draft(request, kind, name, _text(body, "content"))
    pipeline = request.app[appkeys.PIPELINE]
    if pipeline.assessor is None:
        raise Refused("starting", "The classifier is still loading: try again in a moment.", 503)
    active = sample.Setup(pipeline.scripts.for_new_conversation(), pipeline.assessor, pipeline.queues)
    draft = active
    if kind == "triage_script":
        draft = sample.Setup(TriageRunner(loaded.scripts[name]), active.assessor, active.queues)
        if name != pipeline.scripts.default:
            active = sample.Setup(TriageRunner(pipeline.scripts.current[name]), active.assessor, active.queues)
    elif kind == "phrases" and loaded.phrases is not None:
        default = loaded.scripts[pipeline.scripts.default]
        draft = sample.Setup(TriageRunner(default), active.assessor.with_phrases(loaded.phrases), active.queues)
    elif kind == "queues" and loaded.queues is not None:
        draft = sample.Setup(active.runner, active.assessor, loaded.queues)
    rows = await asyncio.get_running_loop().run_in_executor(None, sample.table, texts, draft, active)
    return web.json_response({"rows": rows})


async def api_queue_preview(request: web.Request) -> web.Response:
    await require_staff(request, state_changing=True, roles=ADMINS)
    loaded = await _draft(request, "queues", "queues", _text(await _body(request), "content"))
    assert loaded.queues is not None
    return web.json_response(queue_preview.preview(loaded.queues, utcnow(), lang_of(request)))


def setup(app: web.Application, live: LiveConfig) -> None:
    app[LIVE] = live
    app.router.add_get("/admin", index_page)
    app.router.add_get("/admin/documents/{kind}", kind_page)
    app.router.add_get("/admin/documents/{kind}/{name}", document_page)
    app.router.add_get("/api/admin/documents/{kind}/{name}", api_document)
    app.router.add_get("/api/admin/documents/{kind}/{name}/versions/{version}", api_version)
    app.router.add_get("/api/admin/documents/{kind}/{name}/diff", api_diff)
    app.router.add_post("/api/admin/documents/{kind}/{name}/check", api_check)
    app.router.add_post("/api/admin/documents/{kind}/{name}/publish", api_publish)
    app.router.add_post("/api/admin/documents/{kind}/{name}/rollback", api_rollback)
    app.router.add_post("/api/admin/simulate", api_simulate)
    app.router.add_post("/api/admin/sample", api_sample)
    app.router.add_post("/api/admin/queues/preview", api_queue_preview)
    app.router.add_static("/static/admin/", STATIC)
