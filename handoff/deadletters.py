"""The outbox's dead letters, for supervisors: messages a provider would not take (or the network
gave up on), with why, and a way to try one again."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from sqlalchemy import select

from handoff.console import require_staff
from lotsa import appkeys, audit
from lotsa.models import OutboxItem, OutboxState, Role, StaffUser, utcnow

LIMIT = 200


def _require_supervisor(user: StaffUser) -> None:
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise web.HTTPForbidden(text=json.dumps({"error": "role", "message": "Supervisors only."}),
                                content_type="application/json")


def _view(item: OutboxItem) -> dict[str, Any]:
    return {"id": item.id, "conversation_id": item.conversation_id, "channel": item.channel,
            "attempts": item.attempts, "last_error": item.last_error, "created_at": item.created_at.isoformat()}


async def list_dead(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=False)
    _require_supervisor(user)
    async with request.app[appkeys.DB].read() as session:
        items = (await session.execute(select(OutboxItem).where(OutboxItem.state == OutboxState.DEAD)
                                       .order_by(OutboxItem.id.desc()).limit(LIMIT))).scalars().all()
    return web.json_response({"dead": [_view(item) for item in items]})


async def retry(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=True)
    _require_supervisor(user)
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:   # "²".isdigit(), but int("²") fails
        raise web.HTTPNotFound(text=json.dumps({"error": "not_found"}), content_type="application/json")
    async with request.app[appkeys.DB].write() as session:
        item = await session.get(OutboxItem, int(raw), with_for_update=True)
        if item is None or item.state != OutboxState.DEAD:
            raise web.HTTPNotFound(text=json.dumps({"error": "not_found", "message": "No such dead letter."}),
                                   content_type="application/json")
        item.state, item.attempts, item.next_attempt_at, item.last_error = OutboxState.PENDING, 0, utcnow(), None
        audit.add(session, user, "outbox.retried", f"outbox:{item.id}", conversation=item.conversation_id)
    request.app[appkeys.OUTBOX].wake()
    return web.json_response({"id": int(raw), "state": OutboxState.PENDING})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/console/outbox/dead", list_dead)
    app.router.add_post("/api/console/outbox/{id}/retry", retry)
