"""Blocking an abusive pseudonymous contact for a chosen time (supervisors only).

The block sits on the contact key, so it holds for new conversations too; the open conversation
is closed without a word to the contact. Nothing about who they are is needed or shown.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from handoff.console import SUPERVISORS, require_staff, route_id
from lotsa import appkeys, audit
from lotsa.errors import Refused
from lotsa.models import Contact, Conversation, ConversationState, StaffUser, utcnow

MAX_HOURS = 24 * 30


async def _supervisor_and_conversation(request: web.Request) -> tuple[StaffUser, int]:
    _, user = await require_staff(request, state_changing=True, roles=SUPERVISORS)
    return user, route_id(request, "conversation")


async def _hours(request: web.Request) -> int:
    try:
        body: Any = await request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refused("bad_json", "Send a JSON object: {\"hours\": 24}.", 400) from None
    hours = body.get("hours") if isinstance(body, dict) else None
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_HOURS:
        raise Refused("bad_hours", f"hours: a whole number from 1 to {MAX_HOURS}.", 400)
    return hours


async def block(request: web.Request) -> web.Response:
    user, conversation_id = await _supervisor_and_conversation(request)
    hours = await _hours(request)
    async with request.app[appkeys.CONVERSATIONS].change() as change:
        row = (await change.session.execute(select(Conversation, Contact).join(Contact).where(
            Conversation.id == conversation_id).with_for_update(of=Conversation))).first()
        if row is None:
            raise Refused("not_found", "No such conversation.", 404)
        conversation, contact = row
        until = utcnow() + timedelta(hours=hours)
        contact.blocked_until = until
        if conversation.state != ConversationState.CLOSED:
            change.close(conversation)
        audit.add(change.session, user, "contact.blocked", f"conversation:{conversation_id}", hours=hours)
    return web.json_response({"conversation": conversation_id, "blocked_until": until.isoformat()})


async def unblock(request: web.Request) -> web.Response:
    user, conversation_id = await _supervisor_and_conversation(request)
    async with request.app[appkeys.DB].write() as session:
        contact = (await session.execute(select(Contact).join(Conversation).where(
            Conversation.id == conversation_id))).scalar()
        if contact is None:
            raise Refused("not_found", "No such conversation.", 404)
        contact.blocked_until = None
        audit.add(session, user, "contact.unblocked", f"conversation:{conversation_id}")
    return web.json_response({"conversation": conversation_id, "blocked_until": None})


def setup(app: web.Application) -> None:
    app.router.add_post("/api/console/conversations/{id}/block", block)
    app.router.add_post("/api/console/conversations/{id}/unblock", unblock)
