"""/admin/statistics: the anonymous statistics of a period for admins (supervisors may read), with
server-rendered SVG charts and every figure as a table too. `?from=&to=` picks the period
(Europe/Stockholm dates, default the last twelve months); `?format=csv|json|html` downloads the same
report `lotsa report` writes. No script: the period form is a plain GET form."""
from __future__ import annotations

from datetime import date, datetime

import aiohttp_jinja2
from aiohttp import web

from handoff.console import current_staff
from handoff.report import PeriodError, as_csv, as_html, as_json, parse_period
from handoff.statistics import load_records, report
from handoff.statistics_view import sections
from lotsa import appkeys
from lotsa.errors import Refused
from lotsa.models import Role
from lotsa.pages import page_context
from lotsa.statistics_records import ZONE

READERS = (Role.ADMIN, Role.SUPERVISOR)
DOWNLOADS = {"csv": ("text/csv", as_csv), "json": ("application/json", as_json)}


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months: from the first day of the month eleven months back, to today."""
    year, month = (today.year, today.month - 11) if today.month > 11 else (today.year - 1, today.month + 1)
    return date(year, month, 1), today


def _period(request: web.Request) -> tuple[date, date]:
    first, last = default_period(datetime.now(ZONE).date())
    return parse_period(request.query.get("from") or first.isoformat(), request.query.get("to") or last.isoformat())


async def statistics_page(request: web.Request) -> web.StreamResponse:
    found = await current_staff(request)
    if found is None:
        raise web.HTTPSeeOther("/console")
    _, user = found
    if user.role not in READERS:
        raise Refused("role", "Your role may not do this.", 403)
    lang = "en" if request.query.get("lang") == "en" else "sv"
    fmt = request.query.get("format", "")
    catalogue = request.app[appkeys.TEXTS]
    try:
        start, end = _period(request)
        if fmt not in ("", "html", *DOWNLOADS):
            raise PeriodError("format")
    except PeriodError:
        return aiohttp_jinja2.render_template("statistics.html", request, page_context(
            request, lang, "statistics", script=False, user=user, error=True, sections=[], period=None,
            start=request.query.get("from", ""), end=request.query.get("to", "")), status=400)
    data = report(await load_records(request.app[appkeys.DB], start, end), start, end)
    name = f"lotsa-statistik-{start.isoformat()}-{end.isoformat()}"
    if fmt in DOWNLOADS:
        content_type, render = DOWNLOADS[fmt]
        return web.Response(text=render(data), content_type=content_type, headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})
    if fmt == "html":
        return web.Response(text=as_html(data, catalogue), content_type="text/html", headers={
            "Content-Disposition": f'attachment; filename="{name}.html"'})
    return aiohttp_jinja2.render_template("statistics.html", request, page_context(
        request, lang, "statistics", script=False, user=user, error=False, period=data["period"],
        sections=sections(data["tables"], catalogue, lang), start=start.isoformat(), end=end.isoformat()))


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/statistics", statistics_page)
