"""Private notes on a conversation: for colleagues and supervisors, never sent to the contact."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.claims import note_json
from handoff.skills import supervises
from lotsa.db import Database
from lotsa.errors import Refused
from lotsa.events import CONSOLE_TOPIC, Event, EventPublisher, write_announcing
from lotsa.models import Conversation, Note, StaffUser

MAX_NOTE = 4000


async def add_note(db: Database, events: EventPublisher, conversation_id: int, user: StaffUser, text: str
                   ) -> dict[str, Any]:
    text = text.replace("\r\n", "\n").strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        raise Refused("bad_text", f"A note is 1 to {MAX_NOTE} characters.", 400)
    async with write_announcing(db, events) as (session, announcements):
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise Refused("not_found", "No such conversation.", 404)
        if conversation.counsellor_id != user.id and not supervises(user):
            raise Refused("not_yours", "You do not hold this conversation.", 403)
        note = Note(conversation_id=conversation_id, author_id=user.id, kind="note", text=text)
        session.add(note)
        await session.flush()
        payload = note_json(note, user.name)
        # Only consoles listen on this topic; the contact's page never subscribes to it.
        announcements.append((CONSOLE_TOPIC, Event("note", conversation_id, {"note": payload})))
    return payload


async def read_note(session: AsyncSession, note_id: int) -> dict[str, Any] | None:
    """A note as its event carries it, read again (another worker's note too long for NOTIFY)."""
    row = (await session.execute(select(Note, StaffUser.name).outerjoin(
        StaffUser, Note.author_id == StaffUser.id).where(Note.id == note_id))).first()
    return note_json(row[0], row[1]) if row is not None else None
