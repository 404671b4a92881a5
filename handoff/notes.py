"""Private notes on a conversation: for colleagues and supervisors, never sent to the contact."""
from __future__ import annotations

from typing import Any

from handoff.claims import note_json
from handoff.skills import supervises
from lotsa.events import CONSOLE_TOPIC, Event
from lotsa.models import Conversation, Note, StaffUser
from lotsa.pipeline import Pipeline

MAX_NOTE = 4000


class NoteRefused(Exception):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


async def add_note(pipeline: Pipeline, conversation_id: int, user: StaffUser, text: str) -> dict[str, Any]:
    text = text.replace("\r\n", "\n").strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        raise NoteRefused("bad_text", f"A note is 1 to {MAX_NOTE} characters.", 400)
    async with pipeline.db.write() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise NoteRefused("not_found", "No such conversation.", 404)
        if conversation.counsellor_id != user.id and not supervises(user):
            raise NoteRefused("not_yours", "You do not hold this conversation.", 403)
        note = Note(conversation_id=conversation_id, author_id=user.id, kind="note", text=text)
        session.add(note)
        await session.flush()
        payload = note_json(note, user.name)
    # Only consoles listen on this topic; the contact's page never subscribes to it.
    pipeline.events.publish(CONSOLE_TOPIC, Event("note", conversation_id, {"note": payload}))
    return payload
