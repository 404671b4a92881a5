"""The inbound pipeline (one message from the channel to the queue; docs/architecture.md), and a
counsellor's reply.

`accept` de-duplicates, stores the message, opens or finds the conversation, runs its triage step
and enqueues it when triage ends -- in one transaction (a `Change`), before the channel
acknowledges the provider. The state changes themselves are `lotsa.conversations`'.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from copy import copy
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from handoff.queues import QueueDirectory
from lotsa import direct_reads, direct_writes, sqlite_direct
from lotsa.channels import InboundMessage
from lotsa.contact_requests import ContactRequests
from lotsa.conversations import Change, Conversations, contact_by_key
from lotsa.crypto import Keyring
from lotsa.errors import Refused
from lotsa.events import QUEUE_TOPIC, Event
from lotsa.feedback import take_answer
from lotsa.flood import ACUTE_HOLD, NewConversations, RecentMessages
from lotsa.group_commit import GroupCommit
from lotsa.models import (
    RISK_RANK,
    Author,
    Contact,
    Conversation,
    ConversationState,
    Detected,
    FlagReasonRecord,
    Message,
    StaffUser,
    TriageRecord,
    utcnow,
)
from lotsa.sqlite_direct import Prepared, connection_of
from lotsa.triage_scripts import TriageScripts
from lotsa.waiting_line import WaitingLine
from triage.assess import Assessment, Assessor
from triage.result import TriageResult
from triage.routing import pick_queue
from triage.runner import Found, Reply, TriageRunner, Turn
from triage.vocabulary import risk_for

log = logging.getLogger(__name__)

VOICE_CHANNEL = "voice"
HOLD = "acute_hold"
"""The triage state's record of a conversation opened while the acute lane is held (lotsa.flood)."""
GROUP_CONFIDENCE = 0.5
"""How sure the classifier must be of a group the person did not choose themselves."""

OutOfHoursAnswer = Callable[[str | None, str | None, bool, datetime], str | None]
"""(queue, language, acute, now) -> the text for a person whose queue is closed, or None when open."""
WaitDescriber = Callable[[str, int | None, Sequence[datetime]], dict[str, Any]]
"""The wait frame a waiting person is shown, from their queue, place and the queue's recent claim
times (handoff.waits)."""

# The inbound path's statements, built once (building one costs more than SQLite takes to answer it).
_CONTACTS = cast(Table, Contact.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_DUPLICATE = select(Message.id, Message.conversation_id).where(
    Message.channel == bindparam("channel"), Message.provider_message_id == bindparam("provider_id"))
_OPEN_CONVERSATION = (select(Conversation)
                      .where(Conversation.contact_id == bindparam("contact_id"),
                             Conversation.state != ConversationState.CLOSED)
                      .order_by(Conversation.id.desc()).limit(1).with_for_update())
_CONTACT_AND_OPEN = (select(*direct_reads.columns(Contact, "a_"), *direct_reads.columns(Conversation, "b_"))
                     .select_from(_CONTACTS).outerjoin(_CONVERSATIONS, and_(
                         _CONVERSATIONS.c.contact_id == _CONTACTS.c.id,
                         _CONVERSATIONS.c.state != ConversationState.CLOSED))
                     .where(_CONTACTS.c.key == bindparam("key")).order_by(_CONVERSATIONS.c.id.desc()).limit(1))
"""The contact and its open conversation in one statement, read by Core (`lotsa.direct_reads`;
SQLite, where the single writer needs no row lock; PostgreSQL cannot lock the nullable side of an
outer join and keeps two statements)."""
_SEEN = update(_CONTACTS).where(_CONTACTS.c.id == bindparam("contact_id")).values(last_seen_at=bindparam("now"))
_RECENT_INBOUND = (select(func.count(Message.id)).join(Conversation, Message.conversation_id == Conversation.id)
                   .where(Conversation.contact_id == bindparam("contact_id"), Message.direction == "in",
                          Message.created_at > bindparam("since")))
_DIRECT_DUPLICATE, _DIRECT_CONTACT_AND_OPEN, _DIRECT_SEEN = Prepared(_DUPLICATE), Prepared(_CONTACT_AND_OPEN), Prepared(_SEEN)
"""The same statements run by sqlite3 on SQLite's inline connection (`lotsa.sqlite_direct`)."""


def _encodable(text: str) -> bool:
    """False for a lone surrogate ("\\ud800", which JSON can carry): it cannot be stored as UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_text(text: str, max_chars: int) -> str:
    """The text as stored (line ends unified, trimmed), or Refused when it is not text or too long."""
    text = text.replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise Refused("bad_text", "The message contains a null character.")
    if not text.isascii() and not _encodable(text):
        raise Refused("bad_text", "The message contains characters that are not text.")
    if len(text) > max_chars:
        raise Refused("too_long", f"The message is longer than {max_chars} characters.")
    return text


@dataclass(frozen=True)
class Accepted:
    conversation_id: int
    message_id: int
    duplicate: bool


def _weight(detected: Detected | None) -> tuple[bool, float]:
    """A message that says who is writing outweighs a greeting, whatever the scores."""
    if detected is None:
        return (False, 0.0)
    return (detected["group"] != "other", detected["confidence"])


def _choice_label(runner: TriageRunner, conversation: Conversation, msg: InboundMessage) -> str:
    prompt = runner.prompt_for(conversation.triage_state) if conversation.triage_state.get("step") else None
    labels = dict(prompt.choices) if prompt else {}
    return labels.get(msg.choice or "", msg.choice or "")


def _bot_messages(change: Change, conversation: Conversation, replies: Iterable[Reply],
                  greeting: bool = False) -> None:
    for reply in replies:
        meta: dict[str, Any] = {"choices": [list(c) for c in reply.choices]} if reply.choices else {}
        if greeting:
            meta["greeting"] = True
        change.say(conversation, Author.BOT, reply.text, meta)


class Pipeline:
    def __init__(self, conversations: Conversations, scripts: TriageScripts, queues: QueueDirectory,
                 keyring: Keyring, assessor: Assessor | None, *, max_chars: int = 4000, messages_per_minute: int = 30,
                 out_of_hours: OutOfHoursAnswer | None = None, wait_describer: WaitDescriber | None = None,
                 new_per_address_per_minute: int = 5, new_per_minute: int = 60) -> None:
        self.conversations = conversations
        self.db = conversations.db
        self.events = conversations.events
        self.assessor = assessor
        """None until the service has loaded the classifier (at start, off the event loop)."""
        self.requests = ContactRequests(conversations, keyring)
        self.texts = conversations.outgoing.texts
        self.scripts = scripts
        self.queues = queues
        self.keyring = keyring
        self.max_chars = max_chars
        self.messages_per_minute = messages_per_minute
        self.out_of_hours = out_of_hours
        self.wait_describer = wait_describer
        self.flood = NewConversations(new_per_address_per_minute, new_per_minute)
        self.group = GroupCommit(conversations, prepare=self._classify) if self.db.sqlite else None
        """SQLite writes one transaction at a time: messages arriving meanwhile are stored together.
        (PostgreSQL runs concurrent transactions, each message in its own.)"""
        self.line = WaitingLine(self.db, self.events)
        self.recent = RecentMessages() if self.group is not None else None
        """Each contact's messages of the last minute, counted in memory when this process's single
        writer stores them all (SQLite); None: counted in the database (several PostgreSQL workers)."""
        """The waiting order, read once per change for every waiting page of this process."""

    def check_text(self, text: str) -> str:
        return check_text(text, self.max_chars)

    def _classify(self, texts: list[str | None]) -> list[Assessment | None]:
        """The assessments of a batch's texts (None for None), in one classifier call."""
        assert self.assessor is not None
        given = [t for t in texts if t is not None]
        found = iter(self.assessor.assess_many(given) if given else [])
        return [next(found) if t is not None else None for t in texts]

    # -- inbound -------------------------------------------------------------------------------

    async def accept(self, msg: InboundMessage) -> Accepted:
        """Store an inbound message and run triage; safe to call again with the same provider id."""
        text = self.check_text(msg.text)
        if not text and msg.choice is None:
            raise Refused("empty", "The message is empty.")
        if self.assessor is None:
            raise Refused("starting", "The service is starting. Write again in a moment.", 503)
        # A message with flags the person raised by a key (pressed 9) carries the key's meaning, not
        # their words: classifying it would read our own prompt as theirs.
        to_classify = text if text and not msg.flags else None
        if self.group is not None:
            # Classified with the rest of its batch, in one call of the classifier (`_classify`).
            return cast(Accepted, await self.group.run(
                lambda change, found: self._accept(change, msg, text, _with_keys(msg, text, found)), to_classify))
        assessment = _with_keys(msg, text, self.assessor.assess(to_classify) if to_classify else None)
        for attempt in range(3):
            try:
                async with self.conversations.change() as change:
                    return await self._accept(change, msg, text, assessment)
            except IntegrityError:
                # A concurrent transaction stored the same contact or provider id first (PostgreSQL).
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _contact(self, session: AsyncSession, msg: InboundMessage) -> tuple[Contact, Conversation | None, bool]:
        """The contact (made if new); with its open conversation and True when that was read too."""
        found: Conversation | None = None
        if self.group is not None:
            direct = await sqlite_direct.of(session)
            if direct is not None:
                row: Any = _DIRECT_CONTACT_AND_OPEN.first(direct, {"key": msg.contact_key})
            else:
                row = (await (await connection_of(session)).execute(
                    _CONTACT_AND_OPEN, {"key": msg.contact_key})).mappings().first()
            contact = direct_reads.loaded(session, Contact, row, "a_") if row is not None else None
            found = direct_reads.loaded(session, Conversation, row, "b_") if row is not None else None
        else:
            contact = await contact_by_key(session, msg.contact_key)
        if contact is None:
            contact = Contact(key=msg.contact_key, channel=msg.channel, reply_address=self._sealed(msg))
            await direct_writes.insert_now(session, contact)
            await self._check_contact_may_write(session, contact)
            return contact, found, self.group is not None
        await self._check_contact_may_write(session, contact)
        if msg.reply_address is not None and contact.reply_address is None:
            # The address is what the contact key was hashed from: it cannot differ from the one kept.
            contact.reply_address = self._sealed(msg)
        # A Core UPDATE, the ORM object told it is stored: no unit-of-work flush for one column.
        now = utcnow()
        direct = await sqlite_direct.of(session)
        if direct is not None:
            _DIRECT_SEEN.execute(direct, {"contact_id": contact.id, "now": now})
        else:
            await (await connection_of(session)).execute(_SEEN, {"contact_id": contact.id, "now": now})
        set_committed_value(contact, "last_seen_at", now)
        return contact, found, self.group is not None

    def _sealed(self, msg: InboundMessage) -> bytes | None:
        return self.keyring.encrypt_address(msg.reply_address) if msg.reply_address is not None else None

    async def _conversation(self, change: Change, contact: Contact, msg: InboundMessage,
                            assessment: Assessment | None, found: Conversation | None, looked: bool
                            ) -> tuple[Conversation, TriageRunner, bool]:
        """The contact's open conversation (`found` when `looked` for already), or a new one greeted
        by the current script."""
        conversation = found if looked else (
            await change.session.execute(_OPEN_CONVERSATION, {"contact_id": contact.id})).scalar()
        if conversation is not None:
            return conversation, await self.scripts.pinned(change.session, conversation.script_version), False
        runner = self.scripts.for_new_conversation()
        greeting = runner.start(msg.language or (assessment.language if assessment else None),
                                {"source": msg.source} if msg.source else None, channel=msg.channel)
        if self.flood.acute_held:
            greeting.state[HOLD] = {"answers": 0}
        surge = not self.flood.admit(msg.client)
        conversation = await change.open(contact.id, msg.channel, runner.script.version, greeting.state,
                                         greeting.state["language"], surge=surge)
        _bot_messages(change, conversation, greeting.replies, greeting=True)
        if surge:
            await change.say_system(conversation, "handoff.surge")
        return conversation, runner, True

    async def _accept(self, change: Change, msg: InboundMessage, text: str, assessment: Assessment | None
                      ) -> Accepted:
        session = change.session
        direct = await sqlite_direct.of(session)
        duplicate = {"channel": msg.channel, "provider_id": msg.provider_message_id}
        if direct is not None:
            stored = _DIRECT_DUPLICATE.first(direct, duplicate)
            if stored is not None:
                return Accepted(stored["conversation_id"], stored["id"], duplicate=True)
        else:
            existing = (await (await connection_of(session)).execute(_DUPLICATE, duplicate)).first()
            if existing is not None:
                return Accepted(existing.conversation_id, existing.id, duplicate=True)
        contact, found, looked = await self._contact(session, msg)
        # An open conversation is the contact's newest: no feedback question of a closed one is open.
        answered = None if found is not None else await take_answer(change, contact, msg.choice, text)
        if answered is not None:
            return Accepted(answered.id, 0, duplicate=False)   # statistics only: no message is stored
        conversation, runner, opened = await self._conversation(change, contact, msg, assessment, found, looked)

        meta: dict[str, Any] = {k: v for k, v in (("choice", msg.choice), ("cid", msg.client_ref)) if v}
        meta.update(msg.provider_meta)
        if assessment is not None and assessment.flags:
            meta.update(flags=list(assessment.flags), flag_words=list(assessment.flag_words))
        inbound = direct_writes.new_message(conversation_id=conversation.id, channel=msg.channel,
                                            provider_message_id=msg.provider_message_id, direction="in",
                                            author=Author.CONTACT, author_id=None,
                                            text=text or _choice_label(runner, conversation, msg), meta=meta)
        direct_writes.stage(session, inbound)
        await direct_writes.write(session)
        if self.recent is not None:
            self.recent.add(contact.id)
        change.received(conversation, inbound)
        conversation.last_message_at = utcnow()
        # A conversation opened here has nothing waiting for the person, unless this change made it wait.
        if (not opened or change.delayed) and await change.outgoing.release_held(session, conversation):
            change.outbox_written = True
        self._answered_hold(change, conversation)
        self._take_assessment(change, conversation, assessment)
        if conversation.state == ConversationState.TRIAGE:
            self._triage_step(change, conversation, runner, msg, text,
                              answers_greeting=not opened or msg.greeted or msg.choice is not None)
        return Accepted(conversation.id, inbound.id, duplicate=False)

    def _triage_step(self, change: Change, conversation: Conversation, runner: TriageRunner, msg: InboundMessage,
                     text: str, *, answers_greeting: bool) -> None:
        """The script's next step: a question, the queue, or the end."""
        turn: Turn | None = None
        held = self._count_for_hold(conversation, answers_greeting)
        if conversation.risk == "acute":
            turn = runner.hand_off_now(conversation.triage_state, "acute")
        elif answers_greeting:
            turn = runner.answer(conversation.triage_state, text=text, choice=msg.choice,
                                 found=Found.from_triage(conversation.triage or {}))
        if turn is None:
            return
        _bot_messages(change, conversation, turn.replies)
        change.answer(conversation, turn.state, turn.state["language"])
        if turn.result is not None:
            self._enqueue(change, conversation, turn)
            if held and conversation.risk == "acute":
                self._hold_in_line(change, conversation)
            self._out_of_hours_message(change, conversation)
        elif turn.closed:
            change.close(conversation)

    # -- the held acute lane (lotsa.flood) ----------------------------------------------------------

    @staticmethod
    def _count_for_hold(conversation: Conversation, answers: bool) -> bool:
        """Count the person's answers in a conversation opened while the acute lane is held; True
        while they have answered fewer than two questions (this message included)."""
        hold = conversation.triage_state.get(HOLD)
        if not isinstance(hold, dict):
            return False
        count = int(hold.get("answers", 0)) + (1 if answers else 0)
        conversation.triage_state = {**conversation.triage_state, HOLD: {**hold, "answers": count}}
        return count < 2

    def _hold_in_line(self, change: Change, conversation: Conversation) -> None:
        """Flagged acute before a second answer while the lane is held: in line among the routine
        ones (still shown acute, in the acute queue), asked one more question."""
        conversation.risk_rank = RISK_RANK["routine"]
        conversation.triage_state = {**conversation.triage_state, HOLD: {"asked": True}}
        change.say(conversation, Author.BOT, self.texts.text("acute_hold.question", conversation.language))
        log.info("acute conversation held in line until it answers", extra={"conversation": conversation.id})

    def _answered_hold(self, change: Change, conversation: Conversation) -> None:
        """A held conversation's person answered the second question: it takes its acute place."""
        hold = conversation.triage_state.get(HOLD)
        if conversation.state != ConversationState.QUEUED or not isinstance(hold, dict) or not hold.get("asked"):
            return
        conversation.triage_state = {**conversation.triage_state, HOLD: {"answered": True}}
        if conversation.risk_rank != RISK_RANK[conversation.risk]:
            conversation.risk_rank = RISK_RANK[conversation.risk]
            change.requeue(conversation, conversation.queue or "")

    async def hold_acute(self, on: bool) -> int:
        """Hold or free the acute lane, on every worker (announced: lotsa.flood.follow_hold);
        freeing it puts every conversation still held back in its acute place (how many)."""
        self.flood.acute_held = on
        async with self.conversations.change() as change:
            change.announce(QUEUE_TOPIC, Event(ACUTE_HOLD, 0, {"held": on}))
            if on:
                return 0
            held = (await change.session.execute(select(Conversation).where(
                Conversation.state == ConversationState.QUEUED, Conversation.risk == "acute",
                Conversation.risk_rank != RISK_RANK["acute"]).with_for_update())).scalars().all()
            for conversation in held:
                conversation.risk_rank = RISK_RANK["acute"]
                change.requeue(conversation, conversation.queue or "")
        return len(held)

    async def _check_contact_may_write(self, session: AsyncSession, contact: Contact) -> None:
        """A blocked contact is refused; so is a flood (more than `messages_per_minute`)."""
        now = utcnow()
        if contact.blocked_until is not None and contact.blocked_until > now:
            raise Refused("blocked", "")
        if contact.id is None:
            return
        if self.recent is not None:
            recent: int | None = self.recent.count(contact.id)
        else:
            recent = await session.scalar(_RECENT_INBOUND, {"contact_id": contact.id,
                                                            "since": now - timedelta(minutes=1)})
        if (recent or 0) >= self.messages_per_minute:
            log.warning("contact flooding; message refused", extra={"contact": contact.id})
            raise Refused("rate", "You are sending very fast. Wait a minute and write again.", 429)

    def _take_assessment(self, change: Change, conversation: Conversation, assessment: Assessment | None) -> None:
        """Merge what the classifier found in a message into the conversation. Flags only ever add;
        a higher risk re-orders a waiting conversation at once (acute: to the acute queue)."""
        if assessment is None:
            return
        triage = conversation.triage = merged(conversation.triage or TriageRecord(), assessment)
        self._regroup(change, conversation, triage, triage.get("detected"))
        risk = risk_for(triage["flags"])
        if RISK_RANK[risk] >= RISK_RANK[conversation.risk]:
            return
        conversation.risk, conversation.risk_rank = risk, RISK_RANK[risk]
        triage["risk"] = risk
        log.info("risk raised", extra={"conversation": conversation.id, "risk": risk})
        if conversation.state == ConversationState.QUEUED:
            self._requeue(change, conversation, triage)
        elif conversation.state == ConversationState.ACTIVE:
            change.update(conversation)

    def _regroup(self, change: Change, conversation: Conversation, triage: TriageRecord,
                 detected: Detected | None) -> None:
        """A waiting conversation whose group the person did not choose follows what they write."""
        if (detected is None or conversation.state != ConversationState.QUEUED
                or triage.get("group_source") == "script" or detected["confidence"] < GROUP_CONFIDENCE or detected["group"] == conversation.group):
            return
        conversation.group = triage["group"] = detected["group"]
        triage["group_source"] = "classifier"
        self._requeue(change, conversation, triage)

    def _requeue(self, change: Change, conversation: Conversation, triage: TriageRecord) -> None:
        """Route a waiting conversation again after its group or flags changed."""
        result = TriageResult(group=conversation.group or "other", flags=tuple(triage.get("flags", [])),
                              language=conversation.language or "sv")
        triage["queue"] = pick_queue(result, self.queues.rules())
        change.requeue(conversation, triage["queue"])

    def _enqueue(self, change: Change, conversation: Conversation, turn: Turn) -> None:
        """Triage has ended: the script's answers, completed by what the classifier found."""
        found = conversation.triage or TriageRecord()
        result, queue, source = outcome(turn, found, self.queues)
        triage = copy(found)
        triage.update(cast(TriageRecord, result.to_json()))
        triage["queue"], triage["handoff"], triage["group_source"] = queue, turn.state.get("handoff"), source
        change.enqueue(conversation, queue=queue, group=result.group, risk=result.risk, triage=triage)

    def _out_of_hours_message(self, change: Change, conversation: Conversation) -> None:
        """The queue's out-of-hours answer when it is closed now (out of hours, the person is told at once)."""
        if self.out_of_hours is None:
            return
        text = self.out_of_hours(conversation.queue, conversation.language, conversation.risk == "acute", utcnow())
        if text:
            conversation.triage = cast(TriageRecord, {**(conversation.triage or {}), "out_of_hours": True})
            change.say(conversation, Author.BOT, text)

    # -- outbound --------------------------------------------------------------------------------

    async def counsellor_message(self, conversation_id: int, staff: StaffUser, text: str) -> Message:
        """A counsellor writes to the contact of a conversation they hold."""
        text = self.check_text(text)
        if not text:
            raise Refused("empty", "The message is empty.")
        async with self.conversations.change() as change:
            conversation = await change.session.get(Conversation, conversation_id, with_for_update=True)
            if conversation is None or conversation.state != ConversationState.ACTIVE \
                    or conversation.counsellor_id != staff.id:
                raise Refused("not_yours", "You do not hold this conversation.", 409)
            if conversation.channel == VOICE_CHANNEL:
                raise Refused("voice", "This is a phone call: the person cannot read messages.")
            change.author_names[staff.id] = staff.name
            message = await change.say_safely(conversation, Author.COUNSELLOR, text, author_id=staff.id)
            conversation.last_message_at = utcnow()
        return message

    # -- reading ---------------------------------------------------------------------------------

    async def place_in_line(self, conversation_id: int) -> tuple[int, dict[str, Any] | None] | None:
        """(Place in line, wait frame) of a waiting conversation, from the shared waiting line:
        no query of its own. None when it is not waiting."""
        line = await self.line.get()
        place = line.place(conversation_id)
        if place is None:
            return None
        if self.wait_describer is None:
            return place.position, None
        return place.position, self.wait_describer(place.queue, place.position, line.claims.get(place.queue, []))


def _with_keys(msg: InboundMessage, text: str, assessment: Assessment | None) -> Assessment | None:
    """The flags the person raised by a key (msg.flags) added to what the classifier found."""
    if not msg.flags:
        return assessment
    base = assessment or Assessment("other", 0.0, (), (), (), None)
    return replace(base, flags=tuple(sorted(set(base.flags) | set(msg.flags))),
                   flag_words=(*base.flag_words, text or msg.flags[0]))


def merged(record: TriageRecord, assessment: Assessment) -> TriageRecord:
    """What triage knows after one more message: flags only ever add; the group the classifier is
    surest of is kept with its confidence."""
    triage = copy(record)
    triage["flags"] = sorted(set(triage.get("flags", [])) | set(assessment.flags))
    triage["flag_words"] = list(dict.fromkeys([*triage.get("flag_words", []), *assessment.flag_words]))
    candidate = Detected(group=assessment.group, confidence=round(assessment.confidence, 4))
    if _weight(candidate) > _weight(triage.get("detected")):
        triage["detected"] = candidate
    _take_reasons(triage, assessment)
    triage["detected_needs"] = sorted(set(triage.get("detected_needs", [])) | set(assessment.needs))
    if assessment.language and "language_detected" not in triage:
        triage["language_detected"] = assessment.language
    return triage


def outcome(turn: Turn, found: TriageRecord, queues: QueueDirectory) -> tuple[TriageResult, str, str]:
    """Where a finished triage goes: the script's answers completed by what the classifier found
    (the result, the queue, and where the group came from: script, classifier or default)."""
    assert turn.result is not None
    scripted = turn.result
    detected = found.get("detected")
    group, source = scripted.group, "script"
    if "group" not in turn.state.get("fields", {}):
        source = "default"
        if detected is not None and detected["confidence"] >= GROUP_CONFIDENCE:
            group, source = detected["group"], "classifier"
    result = TriageResult(
        group=group, flags=tuple(found.get("flags", [])), language=scripted.language,
        needs=tuple(sorted(set(scripted.needs) | set(found.get("detected_needs", [])))),
        confidence=detected["confidence"] if detected else 1.0, flag_words=tuple(found.get("flag_words", [])),
        source=scripted.source)
    queue = pick_queue(result, queues.rules())
    override = turn.state.get("queue")
    if isinstance(override, str) and queues.takes_new(override) and result.risk != "acute":
        queue = override
    return result, queue, source


def _take_reasons(triage: TriageRecord, assessment: Assessment) -> None:
    """Possible flags (the classifier alone: no risk, no queue) and every flag's reason, kept with the
    flags; a possible flag that a later message raises for real is no longer only possible."""
    possible = set(triage.get("possible_flags", [])) | set(assessment.possible_flags)
    triage["possible_flags"] = sorted(possible - set(triage["flags"]))
    reasons = [*triage.get("flag_reasons", []), *(cast(FlagReasonRecord, r.to_json()) for r in assessment.reasons)]
    unique = {(r["flag"], r["reason"], r["words"]): r for r in reasons}
    triage["flag_reasons"] = [r for r in unique.values() if r["flag"] in triage["possible_flags"]
                              or (r["flag"] in triage["flags"] and r["reason"] != "classifier_only")]

