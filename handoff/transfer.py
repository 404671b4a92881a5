"""Transfer a conversation to another queue or a colleague, with a note the next counsellor reads.
A supervisor may move any open conversation (reassign); a counsellor only one they hold."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from handoff.skills import active_count, supervises
from lotsa.models import (
    LINE_FRONT,
    LINE_NORMAL,
    Conversation,
    ConversationState,
    Note,
    Role,
    StaffUser,
    utcnow,
)
from lotsa.pipeline import Pipeline

MAX_NOTE = 2000
TRANSFER_TEXT = {
    "sv": "Du kopplas vidare till en annan samtalsstödjare. Vänta kvar, du står först i kön.",
    "en": "You are being passed on to another counsellor. Please stay; you are first in the queue.",
}
REASSIGN_TEXT = {
    "sv": "Du kopplas vidare till en annan samtalsstödjare.",
    "en": "You are being passed on to another counsellor.",
}


class TransferRefused(Exception):
    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class TransferRequest:
    note: str
    queue: str | None = None
    to: str | None = None
    """The colleague's account name."""


async def transfer(pipeline: Pipeline, conversation_id: int, actor: StaffUser, request: TransferRequest
                   ) -> Conversation:
    note = request.note.strip()
    if (request.queue is None) == (request.to is None):
        raise TransferRefused("bad_target", "Give either a queue or a colleague.", 400)
    if len(note) > MAX_NOTE:
        raise TransferRefused("bad_note", f"The note is longer than {MAX_NOTE} characters.", 400)
    if not note and not supervises(actor):
        raise TransferRefused("note_required", "Write a note for the next counsellor.", 400)
    if request.queue is not None and request.queue not in pipeline.queues.queues:
        raise TransferRefused("unknown_queue", "There is no such queue.", 400)
    if request.to is not None and "\x00" in request.to:   # no name has one; PostgreSQL cannot compare it
        raise TransferRefused("unknown_colleague", "There is no such colleague.", 400)
    async with pipeline.db.write() as session:
        conversation = await session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            raise TransferRefused("not_found", "No such conversation.", 404)
        holds = conversation.state == ConversationState.ACTIVE and conversation.counsellor_id == actor.id
        if not holds and not supervises(actor):
            raise TransferRefused("not_yours", "You do not hold this conversation.", 403)
        if conversation.state not in (ConversationState.QUEUED, ConversationState.ACTIVE):
            raise TransferRefused("closed", "The conversation is closed.")
        now = utcnow()
        lang = conversation.language or "sv"
        if request.queue is not None:
            conversation.state = ConversationState.QUEUED
            conversation.queue = request.queue
            conversation.counsellor_id = None
            conversation.claimed_at = None
            conversation.queued_at = now
            conversation.line_rank = LINE_FRONT
            text, target = TRANSFER_TEXT.get(lang, TRANSFER_TEXT["en"]), f"queue {request.queue}"
        else:
            colleague = (await session.execute(
                select(StaffUser).where(StaffUser.name == request.to, StaffUser.active.is_(True))
                .with_for_update())).scalar()
            if colleague is None or colleague.role not in set(Role):
                raise TransferRefused("unknown_colleague", "There is no such colleague.", 400)
            if colleague.id == conversation.counsellor_id:
                raise TransferRefused("same_colleague", "They hold this conversation already.")
            if not supervises(actor) and await active_count(session, colleague.id) >= colleague.max_chats:
                raise TransferRefused("at_capacity", "Your colleague has no room for another chat.")
            conversation.state = ConversationState.ACTIVE
            conversation.counsellor_id = colleague.id
            conversation.claimed_at = now
            conversation.line_rank = LINE_NORMAL
            text, target = REASSIGN_TEXT.get(lang, REASSIGN_TEXT["en"]), f"{colleague.name}"
        session.add(Note(conversation_id=conversation.id, author_id=actor.id, kind="transfer",
                         text=f"→ {target}: {note}" if note else f"→ {target}"))
        message = await pipeline.system_message(session, conversation, text)
    pipeline.publish_changes([(conversation, [message], True)])
    return conversation
