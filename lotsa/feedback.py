"""Post-chat feedback, anonymous: when a counsellor closes a conversation, the person is asked two
short questions on the channel they used (buttons on the web chat and Telegram, digits on SMS; never
on the phone): "Did you get the help you needed?" (yes / partly / no), then "Would you contact us
again?" (yes / no). An answer only fills in the conversation's statistics row: it is not stored as a
message, so no counsellor ever sees it. Anything else the person writes starts a new conversation,
as before; the questions lapse after `WINDOW`."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from lotsa.conversations import Change
from lotsa.models import Author, Contact, Conversation, ConversationState, Message, StatisticsRecord, utcnow
from triage.runner import numbered

PREFIX = "feedback_"
QUESTIONS: dict[str, tuple[str, ...]] = {"helped": ("yes", "partly", "no"), "again": ("yes", "no")}
NO_FEEDBACK_CHANNELS = frozenset({"voice"})
WINDOW = timedelta(hours=6)


def choices(change: Change, question: str, language: str | None) -> list[tuple[str, str]]:
    texts = change.outgoing.texts
    return [(f"{PREFIX}{question}_{value}", texts.text(f"feedback.{value}", language)) for value in QUESTIONS[question]]


def ask(change: Change, conversation: Conversation, question: str = "helped") -> None:
    """Ask one question (after the close message); none on the phone."""
    if conversation.channel in NO_FEEDBACK_CHANNELS:
        return
    text = change.outgoing.texts.text(f"feedback.{question}", conversation.language)
    change.say(conversation, Author.BOT, text, {"choices": choices(change, question, conversation.language),
                                                "feedback": question})


def _answer(asked: Message, choice: str | None, text: str) -> str | None:
    """The value chosen for the question `asked`: its button, or on SMS its digit."""
    offered = [tuple(c) for c in asked.meta.get("choices", [])]
    if choice is None:
        choice = next((cid for digit, cid, _ in numbered(tuple(offered)) if digit == text.strip()), None)
    if choice is None or choice not in {cid for cid, _ in offered}:
        return None
    return str(choice).rsplit("_", 1)[-1]


async def take_answer(change: Change, contact: Contact, choice: str | None, text: str) -> Conversation | None:
    """When this message answers a feedback question just asked: record it in the statistics row,
    ask the next question or thank, and return the closed conversation; else None."""
    if contact.id is None or (choice is None and not text.strip().isdigit()):
        return None
    session = change.session
    conversation = (await session.execute(
        select(Conversation).where(Conversation.contact_id == contact.id).order_by(Conversation.id.desc()).limit(1)
    )).scalar()
    if (conversation is None or conversation.state != ConversationState.CLOSED or conversation.closed_at is None
            or conversation.closed_at < utcnow() - WINDOW):
        return None
    asked = (await session.execute(select(Message).where(Message.conversation_id == conversation.id)
                                   .order_by(Message.id.desc()).limit(1))).scalar()
    question = asked.meta.get("feedback") if asked is not None and asked.author == Author.BOT else None
    if asked is None or question not in QUESTIONS:
        return conversation if choice is not None and choice.startswith(PREFIX) and question == "done" else None
    value = _answer(asked, choice, text)
    if value is None:
        # A feedback button pressed twice (or a provider's retry): taken, nothing more to do.
        return conversation if choice is not None and choice.startswith(PREFIX) else None
    await session.execute(update(StatisticsRecord).where(StatisticsRecord.conversation_id == conversation.id)
                          .values({f"feedback_{question}": value}).execution_options(synchronize_session=False))
    if question == "helped":
        ask(change, conversation, "again")
    else:
        change.say(conversation, Author.BOT, change.outgoing.texts.text("feedback.thanks", conversation.language),
                   {"feedback": "done"})
    return conversation
