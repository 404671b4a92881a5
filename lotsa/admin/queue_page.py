"""The queues form at /admin/queues: create, rename, close and reopen queues, their groups,
languages, opening hours, exceptions, holidays, out-of-hours answer and wait limit, without YAML.

One plain server-rendered form (keyboard-usable without any script) carrying the session's CSRF
token like the Staff page. Its buttons: add a queue, move one up or down (routing tries queues in
order), remove one not yet published, show who would land where now and at 23:00 under the draft
next to the active version, and publish with a required comment. Publishing writes the queues
document and goes through the same publish path as the YAML editor (lotsa.admin.publishing), so
history, diff and rollback are the document page's; that page stays as the advanced view. Admins
change, supervisors read."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from handoff.hours import WEEKDAYS
from handoff.queues import QueueDirectory
from handoff.staff_admin import admin_form
from lotsa import appkeys
from lotsa.admin import queue_form, queue_preview
from lotsa.admin.bundle import Invalid
from lotsa.admin.documents import Conflict, Document, DocumentStore
from lotsa.admin.pages import LIVE, lang_of, render, staff_page
from lotsa.admin.publishing import Refusal, check, diff, publish
from lotsa.admin.queue_form import FieldProblem, QueuesForm
from lotsa.errors import Refused, ascii_id
from lotsa.models import StaffUser, utcnow
from triage.vocabulary import GROUPS

PATH = "/admin/queues"
KEY = ("queues", "queues")


async def _active(request: web.Request) -> Document:
    versions = await DocumentStore(request.app[appkeys.DB]).versions(*KEY)
    return versions[0]


def _name_languages(request: web.Request, form: QueuesForm | None = None) -> list[str]:
    """Swedish and English first, then the other languages of the texts and of the queues' names."""
    found = set(request.app[appkeys.TEXTS].languages)
    for queue in form.queues if form else []:
        found |= {lang for lang, name in queue.names.items() if name}
        found |= {lang for lang, text in queue.settings.ooh.items() if text}
    found |= {lang for lang, text in (form.defaults.ooh if form else {}).items() if text}
    return ["sv", "en", *sorted(found - {"sv", "en"})]


def _render(request: web.Request, sid: str, user: StaffUser, form: QueuesForm, active: Document, *,
            problems: dict[str, FieldProblem] | None = None, general: list[str] | None = None,
            status: int = 200, **extra: Any) -> web.Response:
    lang = lang_of(request)
    catalogue = request.app[appkeys.TEXTS]
    problems = problems or {}
    languages = _name_languages(request, form)
    focus = extra.get("focus") or ""
    open_panels = {key.partition("-")[0] for key in [*problems, focus] if "-" in key}
    response = render(
        request, "admin_queues.html", sid, user, form=form, active=active, weekdays=WEEKDAYS,
        groups=[(g, catalogue.text(f"vocabulary.group.{g}", lang)) for g in GROUPS],
        name_languages=languages, referrals=_referrals(request, lang), open_panels=open_panels,
        language_names={code: catalogue.text(f"admin.queues_form.language.{code}", lang) for code in languages
                        if catalogue.has(f"admin.queues_form.language.{code}", lang)},
        problems={key: catalogue.text(f"admin.queues_form.problem.{p.code}", lang, **p.values)
                  for key, p in problems.items()},
        general=general or [], **extra)
    response.set_status(status)
    return response


def _referrals(request: web.Request, lang: str) -> dict[str, str]:
    """Id → name of every referral, in the directory's order (a queue's own come first, in theirs)."""
    return {r.id: r.localised(lang)["name"] for r in request.app[LIVE].directory.referrals.values()}


def _preview(request: web.Request, queues: QueueDirectory, active: QueueDirectory | None) -> dict[str, Any]:
    return queue_preview.preview(queues, utcnow(), lang_of(request), active=active)


async def queues_page(request: web.Request) -> web.StreamResponse:
    sid, user = await staff_page(request)
    active = await _active(request)
    live = request.app[appkeys.QUEUES]
    published = ascii_id(request.query.get("published", ""))
    return _render(request, sid, user, queue_form.from_document(active.content), active,
                   preview=_preview(request, live, None), published=published)


def _model_problems(error: Invalid, form: QueuesForm) -> tuple[dict[str, FieldProblem], list[str]]:
    """The validation's problems next to their fields; those of no field for the whole form."""
    problems: dict[str, FieldProblem] = {}
    general = []
    for problem in error.problems:
        where = queue_form.field_of(problem.key, problem.message, form)
        if where is None:
            general.append(problem.message)
        else:
            problems.setdefault(where, FieldProblem("model", {"message": problem.message}))
    return problems, general


def _rearranged(form: QueuesForm, action: str) -> str | None:
    """Add, move or remove a queue; the id of the field to put the focus on afterwards."""
    if action == "add" and len(form.queues) < queue_form.MAX_QUEUES:
        form.queues.append(queue_form.blank_queue(form.defaults))
        return f"q{len(form.queues) - 1}-id"
    verb, _, number = action.partition(":")
    index = int(number) if number.isdigit() else -1
    if not 0 <= index < len(form.queues):
        return None
    if verb == "remove" and form.queues[index].new:
        del form.queues[index]
        return "add-queue"
    other = {"up": index - 1, "down": index + 1}.get(verb, -1)
    if 0 <= other < len(form.queues):
        form.queues[index], form.queues[other] = form.queues[other], form.queues[index]
        return f"q{other}-{verb}" if 0 < other < len(form.queues) - 1 else f"q{other}-id"
    return None


async def queues_post(request: web.Request) -> web.StreamResponse:
    sid, user, posted = await admin_form(request)
    active = await _active(request)
    form = queue_form.from_post(posted, _name_languages(request, queue_form.from_document(active.content)))
    form.header = queue_form.header_of(active.content)
    action = str(posted.get("action", "preview"))
    base = ascii_id(str(posted.get("base_version", "")))
    if base is None and action == "publish":
        raise Refused("bad_form", "`base_version` is the version the form was made from.", 400)
    base = base or active.version
    typed = posted.get("comment", "")
    comment = typed[:600] if isinstance(typed, str) else ""
    state: dict[str, Any] = {"base_version": base, "comment": comment}
    if action not in ("preview", "publish"):
        return _render(request, sid, user, form, active, focus=_rearranged(form, action), **state)
    text, problems = queue_form.to_document(form)
    if text is None:
        return _render(request, sid, user, form, active, problems=problems, status=422, **state)
    try:
        loaded = await check(DocumentStore(request.app[appkeys.DB]), *KEY, text)
    except Invalid as e:
        problems, general = _model_problems(e, form)
        return _render(request, sid, user, form, active, problems=problems, general=general, status=422, **state)
    assert loaded.queues is not None
    if action == "preview":
        return _render(request, sid, user, form, active, draft_preview=True,
                       preview=_preview(request, loaded.queues, request.app[appkeys.QUEUES]), **state)
    if queue_form.same_queues(text, active.content):
        return _render(request, sid, user, form, active, problems={"comment": FieldProblem("nothing_changed")},
                       status=422, **state)
    try:
        document = await publish(request.app[appkeys.DB], *KEY, text, author=user, comment=comment,
                                 base_version=base, live=request.app[LIVE])
    except Invalid as e:     # something it names changed meanwhile (a referral)
        problems, general = _model_problems(e, form)
        return _render(request, sid, user, form, active, problems=problems, general=general, status=422, **state)
    except Conflict as e:
        conflict = {"version": e.active.version, "author": e.active.author, "comment": e.active.comment,
                    "diff": diff(e.active.content, text, (f"version {e.active.version}", "draft"))}
        state["base_version"] = e.active.version     # publishing again is publishing over it, knowingly
        return _render(request, sid, user, form, e.active, conflict=conflict, status=409, **state)
    except Refusal as e:
        code = "nothing_changed" if "nothing changed" in str(e) else "comment"
        return _render(request, sid, user, form, active, problems={"comment": FieldProblem(code)}, status=422,
                       **state)
    raise web.HTTPSeeOther(f"{PATH}?lang={lang_of(request)}&published={document.version}")


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, queues_page)
    app.router.add_post(PATH, queues_post)
