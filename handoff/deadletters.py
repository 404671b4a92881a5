"""The outbox's dead letters, for supervisors: messages a provider would not take (or the network
gave up on), with why, and a way to try one again."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from handoff.console import SUPERVISORS, require_staff, route_id
from lotsa import appkeys, audit
from lotsa.errors import Refused
from lotsa.models import OutboxItem, OutboxState, utcnow

LIMIT = 200


def _view(item: OutboxItem) -> dict[str, Any]:
    return {"id": item.id, "conversation_id": item.conversation_id, "channel": item.channel,
            "attempts": item.attempts, "last_error": item.last_error, "created_at": item.created_at.isoformat()}


async def list_dead(request: web.Request) -> web.Response:
    await require_staff(request, state_changing=False, roles=SUPERVISORS)
    async with request.app[appkeys.DB].read() as session:
        items = (await session.execute(select(OutboxItem).where(OutboxItem.state == OutboxState.DEAD)
                                       .order_by(OutboxItem.id.desc()).limit(LIMIT))).scalars().all()
    return web.json_response({"dead": [_view(item) for item in items]})


async def retry(request: web.Request) -> web.Response:
    _, user = await require_staff(request, state_changing=True, roles=SUPERVISORS)
    item_id = route_id(request, "dead letter")
    async with request.app[appkeys.DB].write() as session:
        item = await session.get(OutboxItem, item_id, with_for_update=True)
        if item is None or item.state != OutboxState.DEAD:
            raise Refused("not_found", "No such dead letter.", 404)
        item.state, item.attempts, item.next_attempt_at, item.last_error = OutboxState.PENDING, 0, utcnow(), None
        audit.add(session, user, "outbox.retried", f"outbox:{item.id}", conversation=item.conversation_id)
    request.app[appkeys.OUTBOX].wake()
    return web.json_response({"id": item_id, "state": OutboxState.PENDING})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/console/outbox/dead", list_dead)
    app.router.add_post("/api/console/outbox/{id}/retry", retry)
