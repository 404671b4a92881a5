"""Transfer a conversation to another queue or a colleague, with a note the next counsellor reads.
A supervisor may move any open conversation (reassign); a counsellor only one they hold."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from handoff.queues import QueueDirectory
from handoff.skills import active_count, skilled_for, supervises
from lotsa.conversations import Change, Conversations
from lotsa.errors import Refused
from lotsa.models import Conversation, ConversationState, Note, Role, StaffUser, utcnow

MAX_NOTE = 2000


@dataclass(frozen=True)
class TransferRequest:
    note: str
    queue: str | None = None
    to: str | None = None
    """The colleague's account name."""


def _check(request: TransferRequest, actor: StaffUser, queues: QueueDirectory) -> str:
    """The request's own faults, before anything is read: the note as it will be kept."""
    note = request.note.strip()
    if (request.queue is None) == (request.to is None):
        raise Refused("bad_target", "Give either a queue or a colleague.", 400)
    if len(note) > MAX_NOTE:
        raise Refused("bad_note", f"The note is longer than {MAX_NOTE} characters.", 400)
    if not note and not supervises(actor):
        raise Refused("note_required", "Write a note for the next counsellor.", 400)
    if request.queue is not None and request.queue not in queues.queues:
        raise Refused("unknown_queue", "There is no such queue.", 400)
    if request.to is not None and "\x00" in request.to:   # no name has one; PostgreSQL cannot compare it
        raise Refused("unknown_colleague", "There is no such colleague.", 400)
    return note


async def _colleague(change: Change, conversation: Conversation, actor: StaffUser, name: str) -> StaffUser:
    colleague = (await change.session.execute(
        select(StaffUser).where(StaffUser.name == name, StaffUser.active.is_(True)).with_for_update())).scalar()
    if colleague is None or colleague.role not in set(Role):
        raise Refused("unknown_colleague", "There is no such colleague.", 400)
    if colleague.id == conversation.counsellor_id:
        raise Refused("same_colleague", "They hold this conversation already.", 409)
    if not supervises(actor) and await active_count(change.session, colleague.id) >= colleague.max_chats:
        raise Refused("at_capacity", "Your colleague has no room for another chat.", 409)
    if not supervises(actor) and not skilled_for(colleague, conversation.queue, conversation.language):
        raise Refused("not_skilled", "Your colleague does not take this conversation's language or queue.", 403)
    return colleague


@dataclass(frozen=True)
class Transferred:
    conversation: Conversation
    outside_skills: bool = False
    """A supervisor gave it to a colleague whose languages or queues do not cover it."""


async def transfer(conversations: Conversations, queues: QueueDirectory, conversation_id: int, actor: StaffUser,
                   request: TransferRequest) -> Transferred:
    """To a queue (first in line there) or a colleague, with a note the next counsellor reads.
    A counsellor may hand over only to a colleague skilled for it; a supervisor to anyone (the
    answer says when it was outside the colleague's skills)."""
    outside_skills = False
    note = _check(request, actor, queues)
    async with conversations.change() as change:
        conversation = await change.session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            raise Refused("not_found", "No such conversation.", 404)
        holds = conversation.state == ConversationState.ACTIVE and conversation.counsellor_id == actor.id
        if not holds and not supervises(actor):
            raise Refused("not_yours", "You do not hold this conversation.", 403)
        if conversation.state not in (ConversationState.QUEUED, ConversationState.ACTIVE):
            raise Refused("closed", "The conversation is closed.", 409)
        if request.queue is not None:
            change.transfer_to_queue(conversation, request.queue, utcnow())
            key, target = "handoff.transferred", f"queue {request.queue}"
        else:
            colleague = await _colleague(change, conversation, actor, request.to or "")
            outside_skills = not skilled_for(colleague, conversation.queue, conversation.language)
            change.transfer_to_colleague(conversation, colleague.id, utcnow())
            key, target = "handoff.reassigned", colleague.name
        change.session.add(Note(conversation_id=conversation.id, author_id=actor.id, kind="transfer",
                                text=f"→ {target}: {note}" if note else f"→ {target}"))
        await change.say_system(conversation, key)
    return Transferred(conversation, outside_skills)
