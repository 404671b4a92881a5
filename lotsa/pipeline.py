"""The conversation pipeline: DESIGN.md steps 2-4 and the outbound half of step 5.

`accept` de-duplicates, stores the message, opens or finds the conversation, runs its triage step
and enqueues it when triage ends -- in one transaction, before the channel acknowledges the
provider. Events are published only after the commit.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands
from handoff.queues import QueueDirectory
from lotsa import audit
from lotsa.channels import InboundMessage
from lotsa.contact_requests import ContactRequests
from lotsa.crypto import Keyring
from lotsa.db import Database
from lotsa.events import CONSOLE_TOPIC, QUEUE_TOPIC, Event, EventBus, conversation_topic
from lotsa.models import (
    RISK_RANK,
    Author,
    Contact,
    Conversation,
    ConversationState,
    Message,
    OutboxItem,
    OutboxState,
    StaffUser,
    TriageScriptVersion,
    utcnow,
)
from lotsa.safe_contact import hold_until
from triage.assess import Assessment, Assessor
from triage.result import TriageResult
from triage.routing import pick_queue
from triage.runner import Found, Reply, TriageRunner, Turn
from triage.script import TriageScript
from triage.vocabulary import risk_for

log = logging.getLogger(__name__)

VOICE_CHANNEL = "voice"
GROUP_CONFIDENCE = 0.5
"""How sure the classifier must be of a group the person did not choose themselves."""


OutOfHoursAnswer = Callable[[str | None, str | None, bool, datetime], str | None]
"""(queue, language, acute, now) -> the text for a person whose queue is closed, or None when open."""


WaitDescriber = Callable[[AsyncSession, Conversation], Awaitable[dict[str, Any] | None]]


def _encodable(text: str) -> bool:
    """False for a lone surrogate ("\\ud800", which JSON can carry): it cannot be stored as UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class MessageRefused(Exception):
    """The message cannot be taken (too long, empty, conversation closed): a clear 4xx answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Accepted:
    conversation_id: int
    message_id: int
    duplicate: bool


class TriageScripts:
    """The current script per name, and any pinned version a conversation started with."""

    def __init__(self, scripts: dict[str, TriageScript], default: str = "default") -> None:
        if default not in scripts:
            raise ValueError(f"no triage script named {default!r}")
        self.current = scripts
        self.default = default
        self._runners = {s.version: TriageRunner(s) for s in scripts.values()}

    async def publish(self, db: Database) -> None:
        """Store every current version (idempotent) so conversations can pin it."""
        async with db.write() as session:
            for script in self.current.values():
                if await session.get(TriageScriptVersion, script.version) is None:
                    session.add(TriageScriptVersion(version=script.version, name=script.name,
                                                    content=script.content))
                    audit.add(session, "system", "config.triage_script_published", f"script:{script.name}",
                              version=script.version[:16])

    def for_new_conversation(self) -> TriageRunner:
        return self._runners[self.current[self.default].version]

    async def pinned(self, session: AsyncSession, version: str) -> TriageRunner:
        runner = self._runners.get(version)
        if runner is None:
            row = await session.get(TriageScriptVersion, version)
            if row is None:
                raise LookupError(f"triage script version {version} is not stored")
            runner = self._runners[version] = TriageRunner(TriageScript.from_content(row.content))
        return runner


def _weight(detected: dict[str, Any]) -> tuple[bool, float]:
    """A message that says who is writing outweighs a greeting, whatever the scores."""
    return (bool(detected) and detected["group"] != "other", detected.get("confidence", 0.0))


def message_json(message: Message, author_name: str | None = None) -> dict[str, Any]:
    return {
        "id": message.id,
        "author": message.author,
        "author_name": author_name,
        "text": message.text,
        "choices": [{"id": c[0], "label": c[1]} for c in message.meta.get("choices", [])],
        "cid": message.meta.get("cid"),
        "greeting": bool(message.meta.get("greeting")),
        "at": message.created_at.isoformat(),
    }


class Pipeline(ContactRequests):
    def __init__(self, db: Database, events: EventBus, scripts: TriageScripts, queues: QueueDirectory,
                 keyring: Keyring, assessor: Assessor, *, outbox_channels: Iterable[str] = (),
                 max_chars: int = 4000, on_outbox: Callable[[], None] | None = None,
                 safe_contact_channels: Iterable[str] = (), safe_contact_after: timedelta = timedelta(minutes=30),
                 messages_per_minute: int = 30, out_of_hours: OutOfHoursAnswer | None = None) -> None:
        self.db = db
        self.assessor = assessor
        self.events = events
        self.scripts = scripts
        self.queues = queues
        self.keyring = keyring
        self.outbox_channels = set(outbox_channels)
        self.max_chars = max_chars
        self.on_outbox = on_outbox or (lambda: None)
        self.safe_contact_channels = set(safe_contact_channels)
        self.safe_contact_after = safe_contact_after
        self.messages_per_minute = messages_per_minute
        self.out_of_hours = out_of_hours
        self.wait_describer: WaitDescriber | None = None
        """Set by the app: the position and wait estimate a waiting person is shown."""

    def check_text(self, text: str) -> str:
        text = text.replace("\r\n", "\n").strip()
        if "\x00" in text:
            raise MessageRefused("bad_text", "The message contains a null character.")
        if not text.isascii() and not _encodable(text):
            raise MessageRefused("bad_text", "The message contains characters that are not text.")
        if len(text) > self.max_chars:
            raise MessageRefused("too_long", f"The message is longer than {self.max_chars} characters.")
        return text

    # -- inbound -------------------------------------------------------------------------------

    async def accept(self, msg: InboundMessage) -> Accepted:
        """Store an inbound message and run triage; safe to call again with the same provider id."""
        text = self.check_text(msg.text)
        if not text and msg.choice is None:
            raise MessageRefused("empty", "The message is empty.")
        assessment = self.assessor.assess(text) if text else None
        if msg.flags:
            base = assessment or Assessment("other", 0.0, (), (), (), None)
            assessment = replace(base, flags=tuple(sorted(set(base.flags) | set(msg.flags))),
                                 flag_words=(*base.flag_words, text or msg.flags[0]))
        for attempt in range(3):
            try:
                async with self.db.write() as session:
                    outcome = await self._accept(session, msg, text, assessment)
                break
            except IntegrityError:
                # A concurrent transaction stored the same contact or provider id first (PostgreSQL).
                if attempt == 2:
                    raise
        accepted, published = outcome
        self._publish(published)
        return accepted

    async def _accept(self, session: AsyncSession, msg: InboundMessage, text: str, assessment: Assessment | None
                      ) -> tuple[Accepted, list[tuple[Conversation, list[Message], bool]]]:
        existing = (await session.execute(
            select(Message.id, Message.conversation_id).where(
                Message.channel == msg.channel, Message.provider_message_id == msg.provider_message_id)
        )).first()
        if existing is not None:
            return Accepted(existing.conversation_id, existing.id, duplicate=True), []

        contact = (await session.execute(select(Contact).where(Contact.key == msg.contact_key))).scalar()
        if contact is None:
            contact = Contact(key=msg.contact_key, channel=msg.channel)
            session.add(contact)
            await session.flush()
        await self._check_contact_may_write(session, contact)
        contact.last_seen_at = utcnow()
        if msg.reply_address is not None:
            contact.reply_address = self.keyring.encrypt_address(msg.reply_address)

        conversation = (await session.execute(
            select(Conversation).where(Conversation.contact_id == contact.id,
                                       Conversation.state != ConversationState.CLOSED)
            .order_by(Conversation.id.desc()).limit(1).with_for_update()
        )).scalar()
        new_messages: list[Message] = []
        opened = conversation is None
        if conversation is None:
            runner = self.scripts.for_new_conversation()
            greeting = runner.start(msg.language or (assessment.language if assessment else None),
                                    {"source": msg.source} if msg.source else None)
            conversation = Conversation(contact_id=contact.id, channel=msg.channel,
                                        script_version=runner.script.version,
                                        triage_state=greeting.state, language=greeting.state["language"])
            session.add(conversation)
            await session.flush()
            new_messages += self._bot_messages(session, conversation, greeting.replies, greeting=True)
        else:
            runner = await self.scripts.pinned(session, conversation.script_version)

        meta: dict[str, Any] = {k: v for k, v in (("choice", msg.choice), ("cid", msg.client_ref)) if v}
        meta.update(msg.provider_meta)
        if assessment is not None and assessment.flags:
            meta.update(flags=list(assessment.flags), flag_words=list(assessment.flag_words))
        inbound = Message(conversation_id=conversation.id, channel=msg.channel,
                          provider_message_id=msg.provider_message_id, direction="in",
                          author=Author.CONTACT, text=text or self._choice_label(runner, conversation, msg),
                          meta=meta)
        session.add(inbound)
        await session.flush()
        new_messages.append(inbound)
        conversation.last_message_at = utcnow()
        released = await self._release_held(session, conversation)

        state_changed = self._take_assessment(conversation, assessment)
        answers_greeting = not opened or msg.greeted or msg.choice is not None
        if conversation.state == ConversationState.TRIAGE:
            turn: Turn | None = None
            if conversation.risk == "acute":
                turn = runner.hand_off_now(conversation.triage_state, "acute")
            elif answers_greeting:
                turn = runner.answer(conversation.triage_state, text=text, choice=msg.choice,
                                     found=Found.from_triage(conversation.triage or {}))
            if turn is not None:
                new_messages += self._bot_messages(session, conversation, turn.replies)
                conversation.triage_state = turn.state
                conversation.language = turn.state["language"]
                if turn.result is not None:
                    self._enqueue(conversation, turn)
                    new_messages += self._out_of_hours_message(session, conversation)
                    state_changed = True
                elif turn.closed:
                    conversation.state = ConversationState.CLOSED
                    conversation.closed_at = utcnow()
                    state_changed = True
        await session.flush()
        if released:
            self.on_outbox()
        return (Accepted(conversation.id, inbound.id, duplicate=False),
                [(conversation, new_messages, state_changed or opened)])

    async def _release_held(self, session: AsyncSession, conversation: Conversation) -> int:
        """The person wrote: what waited for them to say it is safe to write goes out now."""
        if conversation.channel not in self.safe_contact_channels:
            return 0
        result = await session.execute(
            update(OutboxItem).where(OutboxItem.conversation_id == conversation.id,
                                     OutboxItem.state.in_([OutboxState.HELD, OutboxState.PENDING]))
            .values(state=OutboxState.PENDING, next_attempt_at=utcnow()))
        return int(result.rowcount or 0)

    async def _check_contact_may_write(self, session: AsyncSession, contact: Contact) -> None:
        """A blocked contact is refused; so is a flood (more than `messages_per_minute`)."""
        now = utcnow()
        if contact.blocked_until is not None and contact.blocked_until > now:
            raise MessageRefused("blocked", "")
        if contact.id is None:
            return
        recent = await session.scalar(
            select(func.count(Message.id)).join(Conversation, Message.conversation_id == Conversation.id)
            .where(Conversation.contact_id == contact.id, Message.direction == "in",
                   Message.created_at > now - timedelta(minutes=1)))
        if (recent or 0) >= self.messages_per_minute:
            log.warning("contact flooding; message refused", extra={"contact": contact.id})
            raise MessageRefused("rate", "You are sending very fast. Wait a minute and write again.")

    def _choice_label(self, runner: TriageRunner, conversation: Conversation, msg: InboundMessage) -> str:
        prompt = runner.prompt_for(conversation.triage_state) if conversation.triage_state.get("step") else None
        labels = dict(prompt.choices) if prompt else {}
        return labels.get(msg.choice or "", msg.choice or "")

    def _take_assessment(self, conversation: Conversation, assessment: Assessment | None) -> bool:
        """Merge what the classifier found in a message into the conversation. Flags only ever add;
        a higher risk re-orders a waiting conversation at once (acute: to the acute queue).
        Returns True when the queue must be told."""
        if assessment is None:
            return False
        triage = dict(conversation.triage or {})
        flags = sorted(set(triage.get("flags", [])) | set(assessment.flags))
        words = list(dict.fromkeys([*triage.get("flag_words", []), *assessment.flag_words]))
        detected = triage.get("detected") or {}
        candidate = {"group": assessment.group, "confidence": round(assessment.confidence, 4)}
        if _weight(candidate) > _weight(detected):
            detected = candidate
        triage.update(flags=flags, flag_words=words, detected=detected,
                      detected_needs=sorted(set(triage.get("detected_needs", [])) | set(assessment.needs)))
        if assessment.language and "language_detected" not in triage:
            triage["language_detected"] = assessment.language
        conversation.triage = triage
        regrouped = self._regroup(conversation, triage, detected)
        risk = risk_for(flags)
        if RISK_RANK[risk] >= conversation.risk_rank:
            return regrouped
        conversation.risk, conversation.risk_rank = risk, RISK_RANK[risk]
        triage["risk"] = risk
        if conversation.state == ConversationState.QUEUED:
            self._requeue(conversation, triage)
        log.info("risk raised", extra={"conversation": conversation.id, "risk": risk})
        return conversation.state in (ConversationState.QUEUED, ConversationState.ACTIVE)

    def _regroup(self, conversation: Conversation, triage: dict[str, Any], detected: dict[str, Any]) -> bool:
        """A waiting conversation whose group the person did not choose follows what they write."""
        if (conversation.state != ConversationState.QUEUED or triage.get("group_source") == "script"
                or detected.get("confidence", 0.0) < GROUP_CONFIDENCE or detected["group"] == conversation.group):
            return False
        conversation.group = triage["group"] = detected["group"]
        triage["group_source"] = "classifier"
        self._requeue(conversation, triage)
        return True

    def _requeue(self, conversation: Conversation, triage: dict[str, Any]) -> None:
        """Route a waiting conversation again after its group or flags changed."""
        result = TriageResult(group=conversation.group or "other", flags=tuple(triage.get("flags", [])),
                              language=conversation.language or "sv")
        conversation.queue = triage["queue"] = pick_queue(result, self.queues.rules())

    def _enqueue(self, conversation: Conversation, turn: Turn) -> None:
        """Triage has ended: the script's answers, completed by what the classifier found."""
        assert turn.result is not None
        scripted = turn.result
        found = conversation.triage or {}
        detected = found.get("detected") or {}
        group, source = scripted.group, "script"
        if "group" not in turn.state.get("fields", {}):
            source = "default"
            if detected.get("confidence", 0.0) >= GROUP_CONFIDENCE:
                group, source = detected["group"], "classifier"
        result = TriageResult(
            group=group, flags=tuple(found.get("flags", [])), language=scripted.language,
            needs=tuple(sorted(set(scripted.needs) | set(found.get("detected_needs", [])))),
            confidence=detected.get("confidence", 1.0), flag_words=tuple(found.get("flag_words", [])),
            source=scripted.source)
        queue = pick_queue(result, self.queues.rules())
        override = turn.state.get("queue")
        if override in self.queues.queues and result.risk != "acute":
            queue = override
        conversation.triage = {**found, **result.to_json(), "queue": queue, "handoff": turn.state.get("handoff"),
                               "group_source": source}
        conversation.group = result.group
        conversation.risk = result.risk
        conversation.risk_rank = RISK_RANK[result.risk]
        conversation.queue = queue
        conversation.state = ConversationState.QUEUED
        conversation.queued_at = utcnow()

    def _out_of_hours_message(self, session: AsyncSession, conversation: Conversation) -> list[Message]:
        """The queue's out-of-hours answer when it is closed now (DESIGN.md step 4)."""
        if self.out_of_hours is None:
            return []
        text = self.out_of_hours(conversation.queue, conversation.language, conversation.risk == "acute", utcnow())
        return [self._outgoing(session, conversation, Author.BOT, text)] if text else []

    def _bot_messages(self, session: AsyncSession, conversation: Conversation,
                      replies: Iterable[Reply], greeting: bool = False) -> list[Message]:
        messages = []
        for reply in replies:
            meta: dict[str, Any] = {"choices": [list(c) for c in reply.choices]} if reply.choices else {}
            if greeting:
                meta["greeting"] = True
            messages.append(self._outgoing(session, conversation, Author.BOT, reply.text, meta))
        return messages

    def _outgoing(self, session: AsyncSession, conversation: Conversation, author: str, text: str,
                  meta: dict[str, Any] | None = None, author_id: int | None = None, *, held: bool = False,
                  send_at: datetime | None = None) -> Message:
        meta = dict(meta or {})
        if held:
            meta["held"] = True
        message = Message(conversation_id=conversation.id, channel=conversation.channel, direction="out",
                          author=author, author_id=author_id, text=text, meta=meta)
        session.add(message)
        if conversation.channel in self.outbox_channels:
            session.add(OutboxItem(message=message, conversation_id=conversation.id,
                                   channel=conversation.channel, idempotency_key=uuid.uuid4().hex,
                                   state=OutboxState.HELD if held else OutboxState.PENDING,
                                   next_attempt_at=send_at or utcnow()))
        return message

    # -- outbound --------------------------------------------------------------------------------

    async def counsellor_message(self, conversation_id: int, staff: StaffUser, text: str) -> Message:
        """A counsellor writes to the contact of a conversation they hold."""
        text = self.check_text(text)
        if not text:
            raise MessageRefused("empty", "The message is empty.")
        async with self.db.write() as session:
            conversation = await session.get(Conversation, conversation_id, with_for_update=True)
            if conversation is None or conversation.state != ConversationState.ACTIVE \
                    or conversation.counsellor_id != staff.id:
                raise MessageRefused("not_yours", "You do not hold this conversation.")
            if conversation.channel == VOICE_CHANNEL:
                raise MessageRefused("voice", "This is a phone call: the person cannot read messages.")
            held = await self._safe_contact(session, conversation)
            message = self._outgoing(session, conversation, Author.COUNSELLOR, text, author_id=staff.id,
                                     held=held is not None)
            conversation.last_message_at = utcnow()
            await session.flush()
        self._publish([(conversation, [*(held or []), message], False)], author_names={staff.id: staff.name})
        return message

    async def _safe_contact(self, session: AsyncSession, conversation: Conversation) -> list[Message] | None:
        """Before writing to a phone someone else may read after a pause, ask "is it safe to write
        now?" (the person's code word, if they chose one) and hold the message until they answer.
        Returns the check message(s) sent, or None when the message may go out at once."""
        if conversation.channel not in self.safe_contact_channels:
            return None
        already_held = await session.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.conversation_id == conversation.id, OutboxItem.state == OutboxState.HELD))
        if already_held:
            return []
        last_in: datetime | None = await session.scalar(select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation.id, Message.direction == "in"))
        contact = await session.get(Contact, conversation.contact_id)
        prefs = contact.prefs if contact is not None else {}
        send_at = hold_until(utcnow(), last_in, self.safe_contact_after, prefs.get("quiet"))
        if send_at is None:
            return None
        code_word = self.keyring.decrypt_address(prefs["code_word"].encode()) if prefs.get("code_word") else None
        check = self._outgoing(session, conversation, Author.SYSTEM,
                               code_word or commands.text("safe_check", conversation.language),
                               {"safe_check": True}, send_at=send_at)
        return [check]

    async def system_message(self, session: AsyncSession, conversation: Conversation, text: str) -> Message:
        """A message from the service itself (closing, transfer), inside the caller's transaction."""
        held = await self._safe_contact(session, conversation)
        message = self._outgoing(session, conversation, Author.SYSTEM, text, held=held is not None)
        await session.flush()
        return message

    # -- events ----------------------------------------------------------------------------------

    def publish_changes(self, changes: list[tuple[Conversation, list[Message], bool]],
                        author_names: dict[int, str] | None = None) -> None:
        self._publish(changes, author_names)

    def _publish(self, changes: list[tuple[Conversation, list[Message], bool]],
                 author_names: dict[int, str] | None = None) -> None:
        names = author_names or {}
        outbox = False
        for conversation, messages, state_changed in changes:
            # The holder rides along: a console shows the message (and follows the claim) at once,
            # without waiting for its next queue frame.
            holder = conversation.counsellor_id
            for message in messages:
                payload = message_json(message, names.get(message.author_id or 0))
                event = Event("message", conversation.id, {"message": payload, "counsellor": holder})
                self.events.publish(conversation_topic(conversation.id), event)
                self.events.publish(CONSOLE_TOPIC, event)
                outbox = outbox or (message.direction == "out" and conversation.channel in self.outbox_channels)
            if state_changed:
                event = Event("state", conversation.id, {"state": conversation.state, "counsellor": holder})
                self.events.publish(conversation_topic(conversation.id), event)
                self.events.publish(QUEUE_TOPIC, event)
        if outbox:
            self.on_outbox()

    # -- reading ---------------------------------------------------------------------------------

    async def queue_position(self, session: AsyncSession, conversation: Conversation) -> int | None:
        if conversation.state != ConversationState.QUEUED or conversation.queued_at is None:
            return None
        ahead = await session.scalar(
            select(func.count()).select_from(Conversation).where(
                Conversation.state == ConversationState.QUEUED,
                Conversation.queue == conversation.queue,
                (Conversation.risk_rank < conversation.risk_rank)
                | ((Conversation.risk_rank == conversation.risk_rank)
                   & (Conversation.line_rank < conversation.line_rank))
                | ((Conversation.risk_rank == conversation.risk_rank)
                   & (Conversation.line_rank == conversation.line_rank)
                   & (Conversation.queued_at < conversation.queued_at))))
        return int(ahead or 0) + 1

    async def wait_frame(self, session: AsyncSession, conversation: Conversation) -> dict[str, Any] | None:
        """Position and wait estimate for a queued conversation (None otherwise, or when not wired)."""
        if self.wait_describer is None or conversation.state != ConversationState.QUEUED:
            return None
        return await self.wait_describer(session, conversation)
