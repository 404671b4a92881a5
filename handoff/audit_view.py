"""The audit log for admins: a page at /admin/audit and JSON at /api/admin/audit (newest first,
`?before=ID` pages back). Read-only: there is no route that changes or removes an entry."""
from __future__ import annotations

import json
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from handoff.console import current_staff, require_staff
from lotsa import appkeys, audit
from lotsa.models import AuditEntry, Role

PAGE = 200


async def _entries(request: web.Request) -> list[dict[str, Any]]:
    before = request.query.get("before", "")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE)
    if before:
        if not before.isdigit() or len(before) > 12:
            raise web.HTTPBadRequest(text=json.dumps({"error": "bad_before", "message": "before is an entry id."}),
                                     content_type="application/json")
        query = query.where(AuditEntry.id < int(before))
    async with request.app[appkeys.DB].read() as session:
        return [audit.view(item) for item in (await session.execute(query)).scalars()]


def _forbidden() -> web.HTTPException:
    return web.HTTPForbidden(text=json.dumps({"error": "role", "message": "Admins only."}),
                             content_type="application/json")


async def api_audit(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=False)
    if user.role != Role.ADMIN:
        raise _forbidden()
    return web.json_response({"entries": await _entries(request)})


async def audit_page(request: web.Request) -> web.StreamResponse:
    found = await current_staff(request)
    if found is None:
        raise web.HTTPSeeOther("/console")
    _, user = found
    if user.role != Role.ADMIN:
        raise _forbidden()
    entries = await _entries(request)
    lang = "en" if request.query.get("lang") == "en" else "sv"
    return aiohttp_jinja2.render_template("audit.html", request, {"entries": entries, "lang": lang, "user": user})


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/audit", audit_page)
    app.router.add_get("/api/admin/audit", api_audit)
