"""The Staff page at /admin/staff: admins create, disable, enable and change accounts and reset
passwords; supervisors see the list. Plain server-rendered forms (keyboard-usable without any
script), each carrying the session's CSRF token like the console's log-out form.

A generated password is in the one answer that shows it (never in a URL, a log or the audit log).
A refused form shows the page again with the reason (its code in `data-error`)."""
from __future__ import annotations

import hmac
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from handoff import staff_accounts
from handoff.console import current_staff, same_origin
from handoff.staff_accounts import Skills
from lotsa import appkeys
from lotsa.crypto import masked_phone
from lotsa.errors import Refused, ascii_id
from lotsa.models import Role, StaffUser
from lotsa.pages import page_context

PATH = "/admin/staff"
READERS = (Role.SUPERVISOR, Role.ADMIN)
DONE = ("created", "changed", "disabled", "enabled", "password_reset")
FORM_ERRORS = ("bad_name", "name_taken", "bad_role", "bad_languages", "bad_queues", "bad_max_chats", "bad_phone",
               "last_admin", "not_found", "bad_form")


def _lang(request: web.Request, form: Any = None) -> str:
    chosen = (form.get("lang") if form is not None else None) or request.query.get("lang")
    if chosen in ("sv", "en"):
        return str(chosen)
    return "en" if request.headers.get("Accept-Language", "").lower().startswith("en") else "sv"


def _row(user: StaffUser, keyring: Any) -> dict[str, Any]:
    phone = keyring.open_phone(user.phone_sealed) if user.phone_sealed else None
    return {"id": user.id, "name": user.name, "role": user.role, "active": user.active,
            "languages": ",".join(user.languages), "queues": list(user.queues), "max_chats": user.max_chats,
            "phone": masked_phone(phone)}


async def _render(request: web.Request, user: StaffUser, sid: str, lang: str, *, status: int = 200,
                  **extra: Any) -> web.Response:
    async with request.app[appkeys.DB].read() as session:
        accounts = (await session.execute(select(StaffUser).order_by(StaffUser.name))).scalars().all()
    keyring = request.app[appkeys.KEYRING]
    queues = [{"id": q.id, "name": q.display_name(lang)} for q in request.app[appkeys.QUEUES].configured.values()]
    response = aiohttp_jinja2.render_template("admin_staff.html", request, page_context(
        request, lang, "staff_admin", script=False, user=user, admin=user.role == Role.ADMIN,
        accounts=[_row(a, keyring) for a in accounts], queues=queues, roles=list(Role),
        csrf_token=keyring.csrf_token(sid), **extra))
    response.set_status(status)
    return response


async def staff_page(request: web.Request) -> web.StreamResponse:
    found = await current_staff(request)
    if found is None:
        raise web.HTTPSeeOther("/console")
    sid, user = found
    if user.role not in READERS:
        raise Refused("role", "Your role may not do this.", 403)
    done = request.query.get("done")
    return await _render(request, user, sid, _lang(request), done=done if done in DONE else None)


async def admin_form(request: web.Request) -> tuple[str, StaffUser, Any]:
    """The logged-in admin and their form; anyone else, another site or a wrong CSRF token: refused."""
    found = await current_staff(request)
    if found is None:
        raise Refused("login_required", "Log in first.", 401)
    sid, user = found
    if user.role != Role.ADMIN:
        raise Refused("role", "Your role may not do this.", 403)
    if not same_origin(request):
        raise Refused("cross_site", "Forbidden: cross-site form.", 403)
    try:
        form = await request.post()
    except (UnicodeDecodeError, ValueError):
        raise Refused("bad_form", "The form cannot be read.", 400) from None
    given = str(form.get("csrf") or request.headers.get("X-CSRF-Token", ""))
    if not hmac.compare_digest(request.app[appkeys.KEYRING].csrf_token(sid), given):
        raise Refused("csrf", "The CSRF token is missing or wrong.", 403)
    return sid, user, form


def _account_id(request: web.Request) -> int:
    value = ascii_id(request.match_info["id"])
    if value is None:
        raise Refused("not_found", "No such account.", 404)
    return value


def _text(form: Any, key: str, limit: int = 200) -> str:
    value = form.get(key, "")
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise Refused("bad_form", f"{key} is a short text.")
    return value.strip()


def _skills(request: web.Request, form: Any) -> Skills:
    max_chats = _text(form, "max_chats", 4)
    phone = _text(form, "phone", 32)
    remove = form.get("phone_remove") == "1"
    queues = [q for q in form.getall("queues", []) if isinstance(q, str)]
    skills = Skills(
        role=_text(form, "role", 16),
        languages=tuple(code.strip() for code in _text(form, "languages").split(",") if code.strip()),
        queues=tuple(queues[:50]),
        max_chats=int(max_chats) if max_chats.isascii() and max_chats.isdigit() else 0,
        phone="" if remove else (phone or None))
    return skills.checked(request.app[appkeys.QUEUES].queues)


async def _answer(request: web.Request, action: Any) -> web.StreamResponse:
    """Run the admin's form `action(user, form)`; a refusal of the form shows the page again with
    the reason, anything else (log-in, role, CSRF) is the usual JSON refusal."""
    sid, user, form = await admin_form(request)
    lang = _lang(request, form)
    try:
        done, shown = await action(user, form)
    except Refused as e:
        if e.code not in FORM_ERRORS:
            raise
        return await _render(request, user, sid, lang, status=e.status, error=e.code)
    if shown is not None:   # a generated password: in this answer only
        return await _render(request, user, sid, lang, done=done, password=shown)
    raise web.HTTPSeeOther(f"{PATH}?lang={lang}&done={done}")


async def create_post(request: web.Request) -> web.StreamResponse:
    async def create(user: StaffUser, form: Any) -> tuple[str, Any]:
        name = staff_accounts.checked_name(_text(form, "name", 64))
        _, password = await staff_accounts.create(request.app[appkeys.CONVERSATIONS], request.app[appkeys.KEYRING],
                                                  user, name, _skills(request, form))
        return "created", {"name": name, "password": password}
    return await _answer(request, create)


async def change_post(request: web.Request) -> web.StreamResponse:
    async def change(user: StaffUser, form: Any) -> tuple[str, Any]:
        await staff_accounts.update(request.app[appkeys.CONVERSATIONS], request.app[appkeys.KEYRING], user,
                                    _account_id(request), _skills(request, form))
        return "changed", None
    return await _answer(request, change)


async def disable_post(request: web.Request) -> web.StreamResponse:
    async def disable(user: StaffUser, form: Any) -> tuple[str, Any]:
        await staff_accounts.disable(request.app[appkeys.CONVERSATIONS], user, _account_id(request))
        return "disabled", None
    return await _answer(request, disable)


async def enable_post(request: web.Request) -> web.StreamResponse:
    async def enable(user: StaffUser, form: Any) -> tuple[str, Any]:
        await staff_accounts.enable(request.app[appkeys.CONVERSATIONS], user, _account_id(request))
        return "enabled", None
    return await _answer(request, enable)


async def password_post(request: web.Request) -> web.StreamResponse:
    async def reset(user: StaffUser, form: Any) -> tuple[str, Any]:
        account_id = _account_id(request)
        password = await staff_accounts.reset_password(request.app[appkeys.CONVERSATIONS], user, account_id)
        async with request.app[appkeys.DB].read() as session:
            account = await session.get(StaffUser, account_id)
        return "password_reset", {"name": account.name if account else "", "password": password}
    return await _answer(request, reset)


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, staff_page)
    app.router.add_post(PATH, create_post)
    app.router.add_post(PATH + "/{id}", change_post)
    app.router.add_post(PATH + "/{id}/disable", disable_post)
    app.router.add_post(PATH + "/{id}/enable", enable_post)
    app.router.add_post(PATH + "/{id}/password", password_post)
