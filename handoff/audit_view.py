"""The audit log for admins: a page at /admin/audit and JSON at /api/admin/audit (newest first,
`?before=ID` pages back). Read-only: there is no route that changes or removes an entry."""
from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from handoff.console import current_staff, require_staff
from lotsa import appkeys, audit
from lotsa.errors import Refused, ascii_id
from lotsa.models import AuditEntry, Role
from lotsa.pages import page_context

PAGE = 200


async def _entries(request: web.Request) -> list[dict[str, Any]]:
    before = request.query.get("before", "")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE)
    if before:
        before_id = ascii_id(before)
        if before_id is None:
            raise Refused("bad_before", "before is an entry id.", 400)
        query = query.where(AuditEntry.id < before_id)
    async with request.app[appkeys.DB].read() as session:
        return [audit.view(item) for item in (await session.execute(query)).scalars()]


ADMINS = (Role.ADMIN,)


async def api_audit(request: web.Request) -> web.Response:
    await require_staff(request, state_changing=False, roles=ADMINS)
    return web.json_response({"entries": await _entries(request)})


async def audit_page(request: web.Request) -> web.StreamResponse:
    found = await current_staff(request)
    if found is None:
        raise web.HTTPSeeOther("/console")
    _, user = found
    if user.role not in ADMINS:
        raise Refused("role", "Your role may not do this.", 403)
    entries = await _entries(request)
    lang = "en" if request.query.get("lang") == "en" else "sv"
    return aiohttp_jinja2.render_template("audit.html", request, page_context(
        request, lang, "console", script=False, entries=entries, user=user))


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/audit", audit_page)
    app.router.add_get("/api/admin/audit", api_audit)
