"""Staff accounts and sessions: argon2id password hashes, server-side sessions, lockout."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from lotsa import audit
from lotsa.db import Database
from lotsa.events import SESSION_TOPIC, Event, EventPublisher
from lotsa.models import Role, StaffSession, StaffUser, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# A hash to verify against when the name is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class SessionTimes:
    idle: timedelta
    absolute: timedelta


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise AuthError("a password has at least 10 characters")
    return _hasher.hash(password)


def _session_id(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


async def add_user(db: Database, name: str, password: str, role: str, *, languages: list[str] | None = None,
                   queues: list[str] | None = None, max_chats: int = 3, phone: str | None = None) -> StaffUser:
    """A staff account; `languages` and `queues` (empty: any) and `max_chats` are counsellor skills;
    `phone` (E.164) is where calls this counsellor takes are put through."""
    if not 1 <= max_chats <= 50:
        raise AuthError("max chats is between 1 and 50")
    if phone is not None and not (phone.startswith("+") and phone[1:].isdigit() and 8 <= len(phone) <= 16):
        raise AuthError("a phone number is in E.164 form, e.g. +46701234567")
    if role not in set(Role):
        raise AuthError(f"role must be one of {', '.join(Role)}")
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise AuthError("a name is 1-64 letters, digits, '.', '-' or '_'")
    async with db.write() as session:
        if (await session.execute(select(StaffUser).where(StaffUser.name == name))).scalar():
            raise AuthError(f"a user named {name!r} exists already")
        user = StaffUser(name=name, password_hash=hash_password(password), role=role,
                         languages=list(languages or []), queues=list(queues or []), max_chats=max_chats,
                         phone=phone)
        session.add(user)
        await session.flush()
        audit.add(session, "cli", "staff.added", f"staff:{user.id}", name=name, role=role)
    return user


async def login(db: Database, name: str, password: str, times: SessionTimes) -> tuple[str, StaffUser]:
    """Check the password; return a new session cookie value (a fresh id at every login).

    A failure is counted in its own committed transaction before the error is raised."""
    refusal: str | None = None
    async with db.write() as session:
        # No name has a null character (and PostgreSQL cannot compare one): unknown, like any other.
        user = None if "\x00" in name else (
            await session.execute(select(StaffUser).where(StaffUser.name == name))).scalar()
        now = utcnow()
        if user is None or not user.active:
            _verify(_DUMMY_HASH, password)
            refusal = "wrong name or password"
        elif user.locked_until is not None and user.locked_until > now:
            refusal = "too many failed log-ins: try again later"
        elif not _verify(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
            refusal = "wrong name or password"
        else:
            user.failed_logins = 0
            user.locked_until = None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            cookie = secrets.token_urlsafe(32)
            session.add(StaffSession(id=_session_id(cookie), user_id=user.id, expires_at=now + times.absolute))
    if refusal is not None:
        raise AuthError(refusal)
    assert user is not None
    return cookie, user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _expired(staff_session: StaffSession, user: StaffUser, times: SessionTimes, now: datetime) -> bool:
    return (not user.active or staff_session.expires_at <= now
            or staff_session.last_seen_at + times.idle <= now)


async def authenticate(db: Database, cookie: str, times: SessionTimes,
                       events: EventPublisher | None = None) -> tuple[str, StaffUser] | None:
    """The session id and user behind a cookie, or None when unknown, idle too long or expired
    (an ended session is deleted and announced on `events`, so its sockets close)."""
    sid = _session_id(cookie)
    now = utcnow()
    async with db.read() as session:
        row = (await session.execute(
            select(StaffSession, StaffUser).join(StaffUser).where(StaffSession.id == sid))).first()
    if row is None:
        return None
    staff_session, user = row
    if _expired(staff_session, user, times, now):
        await end_session(db, sid, events)
        return None
    if now - staff_session.last_seen_at > timedelta(seconds=60):
        async with db.write() as session:
            fresh = await session.get(StaffSession, sid)
            if fresh is not None:
                fresh.last_seen_at = now
    return sid, user


async def session_alive(db: Database, sid: str, times: SessionTimes,
                        events: EventPublisher | None = None) -> bool:
    """Whether the session `sid` still holds (an open socket asks on its heartbeat); an expired
    one, or one whose account was disabled, is ended as `authenticate` would."""
    async with db.read() as session:
        row = (await session.execute(
            select(StaffSession, StaffUser).join(StaffUser).where(StaffSession.id == sid))).first()
    if row is None:
        return False
    if _expired(row[0], row[1], times, utcnow()):
        await end_session(db, sid, events)
        return False
    return True


async def end_session(db: Database, sid: str, events: EventPublisher | None = None) -> None:
    """Delete the session and announce it: every console socket of it (on any worker, through the
    publisher) closes."""
    async with db.write() as session:
        await session.execute(delete(StaffSession).where(StaffSession.id == sid))
    if events is not None:
        events.publish(SESSION_TOPIC, Event("session_ended", 0, {"session": sid}))


async def logout(db: Database, cookie: str, events: EventPublisher | None = None) -> None:
    await end_session(db, _session_id(cookie), events)


async def has_sessions(db: Database, user_id: int) -> bool:
    async with db.read() as session:
        return (await session.execute(
            select(StaffSession.id).where(StaffSession.user_id == user_id).limit(1))).first() is not None
