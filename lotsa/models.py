"""The relational schema. Changed only through Alembic migrations (lotsa/migrations)."""
from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, TypedDict

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Detected(TypedDict):
    """The classifier's best guess of who is writing, from the message that said most."""

    group: str
    confidence: float


class FlagReasonRecord(TypedDict):
    """Why a flag (or a possible flag) was raised: the reason key (worded in the message catalogue,
    `reasons.<key>`) and the person's own words as written (empty for the classifier alone)."""

    flag: str
    reason: str
    words: str


class Callback(TypedDict):
    window: str
    """within_hour, evening or tomorrow_morning."""
    asked_at: str


class TriageRecord(TypedDict, total=False):
    """`conversations.triage`: what triage found and decided, kept as JSON. The vocabulary
    (groups, flags, risks, needs) is triage.vocabulary's."""

    group: str
    group_source: str
    """script (the person chose), classifier (found in what they wrote) or default."""
    flags: list[str]
    flag_words: list[str]
    possible_flags: list[str]
    """Flags only the classifier saw, without words in the message to back them: shown greyed, they
    change neither the risk nor the queue."""
    flag_reasons: list[FlagReasonRecord]
    risk: str
    needs: list[str]
    language: str
    queue: str
    confidence: float
    source: str | None
    """The campaign or entry point the person came from."""
    handoff: str | None
    """Why triage handed over early (e.g. the person asked for a human, or acute risk)."""
    detected: Detected
    detected_needs: list[str]
    language_detected: str
    callback: Callback
    outcome: str
    erased_by_contact: bool
    out_of_hours: bool
    """The queue was closed when triage ended (the person got the out-of-hours answer)."""


class ConversationState(enum.StrEnum):
    TRIAGE = "triage"
    QUEUED = "queued"
    ACTIVE = "active"
    CLOSED = "closed"


class Author(enum.StrEnum):
    CONTACT = "contact"
    BOT = "bot"
    COUNSELLOR = "counsellor"
    SYSTEM = "system"


class Role(enum.StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    HELD = "held"
    """Waiting until the person answers "is it safe to write now?" (or their quiet time ends)."""
    SENT = "sent"
    DEAD = "dead"


RISK_RANK = {"acute": 0, "elevated": 1, "routine": 2}
LINE_FRONT, LINE_NORMAL, LINE_SURGE = 0, 1, 2
"""Place in line within a risk level: handed back first, then the rest. A surge newcomer (lotsa.flood)
waits behind every other conversation of its queue, whatever its risk."""


class Contact(Base):
    """A pseudonymous person on one channel. `key` is a keyed hash, never an identifier."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    reply_address: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    prefs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """What the person chose for safe contact: an encrypted code word, a quiet time window."""
    blocked_until: Mapped[datetime | None] = mapped_column(default=None)
    """A supervisor blocked this pseudonymous contact (abuse) until then."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class TriageScriptVersion(Base):
    """Every published triage script, by content hash, so a conversation keeps its version."""

    __tablename__ = "triage_script_versions"
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConfigDocument(Base):
    """One published version of a document an admin edits (lotsa.config_documents): a triage script, a
    phrase list, the texts of a language, the canned replies, the referral directory or the queues, as
    the YAML that was written. Versions count up per (kind, name); the highest is the active one (a
    rollback publishes an old content again, as a new version), so "which is active" needs no second
    write and two publishes of the same version number cannot both succeed."""

    __tablename__ = "config_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "name", "version", name="uq_config_documents_version"),)


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    phone_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """Where a call is put through when this counsellor takes a voice conversation (E.164),
    encrypted like a reply address (lotsa.crypto.Keyring.seal_phone); staff see it masked."""
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    """Languages (ISO 639-1) this person counsels in; empty: any."""
    queues: Mapped[list[Any]] = mapped_column(default=list)
    """Queue ids this person takes from; empty: every queue."""
    max_chats: Mapped[int] = mapped_column(Integer, default=3)
    presence: Mapped[str] = mapped_column(String(16), default="away")
    console_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    """Last heartbeat of any open console socket (any worker process): drop-off detection."""


class StaffSession(Base):
    """A logged-in staff browser; `id` is the SHA-256 of the cookie value, never the value."""

    __tablename__ = "staff_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    key_tag: Mapped[str] = mapped_column(String(16), default="")
    """A digest of the secret key the session was made under (Keyring.session_tag): after the key
    is rotated, the sessions of the old one end."""


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ConversationState.TRIAGE)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    queue: Mapped[str | None] = mapped_column(String(32), default=None)
    risk: Mapped[str] = mapped_column(String(16), default="routine")
    risk_rank: Mapped[int] = mapped_column(Integer, default=RISK_RANK["routine"])
    line_rank: Mapped[int] = mapped_column(Integer, default=LINE_NORMAL)
    """Within a risk level, 0 (LINE_FRONT) goes before 1: conversations handed back to the queue;
    2 (LINE_SURGE): a newcomer during a flood, behind everyone else in the queue whatever its risk."""
    group: Mapped[str | None] = mapped_column(String(16), default=None)
    triage: Mapped[TriageRecord] = mapped_column(JSON, default=dict)
    """What triage found and decided (see TriageRecord); reduced to statistics by retention."""
    triage_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    script_version: Mapped[str] = mapped_column(ForeignKey("triage_script_versions.version"))
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    purged_at: Mapped[datetime | None] = mapped_column(default=None)
    """When the transcript was erased and the row reduced to anonymous statistics."""

    __table_args__ = (
        Index("ix_conversations_queue_order", "state", "risk_rank", "queued_at"),
        Index("ix_conversations_contact_state", "contact_id", "state"),
        Index("ix_conversations_queue_claimed", "queue", "claimed_at"),
    )


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    direction: Mapped[str] = mapped_column(String(3))
    author: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("channel", "provider_message_id", name="uq_messages_provider_id"),)


class OutboxItem(Base):
    """An outgoing message to a provider channel, delivered by the relay with retries."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(8), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    leased_until: Mapped[datetime | None] = mapped_column(default=None)
    """Set while a relay is sending the item: other workers and "provider is back" leave it alone."""
    last_error: Mapped[str | None] = mapped_column(String(255), default=None)
    provider_message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    message: Mapped[Message] = relationship(lazy="raise")

    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),
                      Index("ix_outbox_conversation_state", "conversation_id", "state"))


class Note(Base):
    """A counsellor's private note on a conversation (also transfer notes): never sent to the contact."""

    __tablename__ = "conversation_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16), default="note")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WrapUp(Base):
    """What a counsellor records before closing: outcome, referrals given, needs confirmed."""

    __tablename__ = "wrapups"
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    outcome: Mapped[str] = mapped_column(String(32))
    referrals: Mapped[list[Any]] = mapped_column(default=list)
    needs: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    group: Mapped[str | None] = mapped_column(String(16), default=None)
    """The group the counsellor confirmed or corrected triage to (None: not asked)."""
    flags: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    """The flags the counsellor confirmed or corrected triage to (None: not asked)."""


class AuditEntry(Base):
    """Who did what to which conversation or setting: append-only (the database refuses UPDATE
    and DELETE on this table), never message text or a contact's identifier."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor: Mapped[str] = mapped_column(String(64))
    """The staff name, or "system" / "cli"."""
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class StatisticsRecord(Base):
    """One anonymous row per conversation, written when it closes (or is erased while open) and kept
    when retention erases everything else (lotsa/statistics_records.py). No contact key, no text, no
    staff id, no exact time: only coarse period keys in Europe/Stockholm time and triage values."""

    __tablename__ = "statistics_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(Integer, default=None, unique=True)
    """Only while post-chat feedback may still arrive; cleared by retention (no link survives)."""
    cell_key: Mapped[int] = mapped_column(Integer)
    """A fixed random number (0 … 2³¹−1): the Cell Key Method's record key (handoff/disclosure.py)."""
    day: Mapped[date] = mapped_column(Date, index=True)
    month: Mapped[str] = mapped_column(String(7))
    hour: Mapped[int] = mapped_column(Integer)
    weekday: Mapped[int] = mapped_column(Integer)
    """0 Monday … 6 Sunday."""
    channel: Mapped[str] = mapped_column(String(16))
    group: Mapped[str] = mapped_column(String(16))
    flags: Mapped[list[Any]] = mapped_column(default=list)
    needs: Mapped[list[Any]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(8))
    queue: Mapped[str] = mapped_column(String(32))
    risk: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    referrals: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(32))
    first_time: Mapped[bool] = mapped_column(default=True)
    """No earlier conversation of the same pseudonymous contact (one the service still recognises)."""
    answer: Mapped[str] = mapped_column(String(24))
    """answered, left_before_answer, out_of_hours or ended_in_triage."""
    wait_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    """Queued until a counsellor answered, rounded to 10 s (answered ones only)."""
    reviewed_group: Mapped[str | None] = mapped_column(String(16), default=None)
    reviewed_flags: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    feedback_helped: Mapped[str | None] = mapped_column(String(8), default=None)
    feedback_again: Mapped[str | None] = mapped_column(String(8), default=None)


# -- scale-out (issue 15) ------------------------------------------------------------------------

class SupervisorAlert(Base):
    """A supervisor alert, raised once per waiting conversation and reason (an acute contact waits;
    a wait passed its queue's limit) whichever worker noticed it: the unique key says so."""

    __tablename__ = "supervisor_alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("conversation_id", "reason"),)
