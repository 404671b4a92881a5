"""Staff accounts and sessions: argon2id password hashes (checked off the event loop),
server-side sessions; repeated failures are slowed down (lotsa.login_throttle), never locked out."""
from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from lotsa import audit
from lotsa.crypto import Keyring
from lotsa.db import Database
from lotsa.events import SESSION_TOPIC, Event, EventPublisher
from lotsa.login_throttle import LoginThrottle
from lotsa.models import Role, StaffSession, StaffUser, utcnow

PASSWORD_THREADS = max(1, min(2, (os.cpu_count() or 2) - 1))
"""Password checks at once: bounded, and leaving a core to the event loop."""
_POOL = ThreadPoolExecutor(max_workers=PASSWORD_THREADS, thread_name_prefix="password")
T = TypeVar("T")
_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# A hash to verify against when the name is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class SessionTimes:
    idle: timedelta
    absolute: timedelta
    key_tag: str = ""
    """The current secret key's session tag (lotsa.crypto.Keyring.session_tag): a session stamped
    with another one was made before the key was rotated, and has ended."""


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise AuthError("a password has at least 10 characters")
    return _hasher.hash(password)


async def hash_password_off_loop(password: str) -> str:
    """`hash_password` in the password thread pool, never on the event loop."""
    return await _in_pool(hash_password, password)


def check_phone(phone: str) -> str:
    """The number in E.164 form (spaces and dashes dropped), or AuthError."""
    phone = phone.replace(" ", "").replace("-", "")
    if not (phone.startswith("+") and phone[1:].isascii() and phone[1:].isdigit() and 8 <= len(phone) <= 16):
        raise AuthError("a phone number is in E.164 form, e.g. +46701234567")
    return phone


def check_name(name: str) -> str:
    if not name or len(name) > 64 or not name.isascii() \
            or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise AuthError("a name is 1-64 letters, digits, '.', '-' or '_'")
    return name


def _session_id(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


async def add_user(db: Database, name: str, password: str, role: str, *, languages: list[str] | None = None,
                   queues: list[str] | None = None, max_chats: int = 3, phone: str | None = None,
                   keyring: Keyring | None = None, actor: StaffUser | str = "cli") -> StaffUser:
    """A staff account; `languages` and `queues` (empty: any) and `max_chats` are counsellor skills;
    `phone` (E.164) is where calls this counsellor takes are put through, stored sealed by `keyring`."""
    if not 1 <= max_chats <= 50:
        raise AuthError("max chats is between 1 and 50")
    sealed = None
    if phone is not None:
        if keyring is None:
            raise AuthError("a phone number is stored encrypted: the secret key is needed")
        sealed = keyring.seal_phone(check_phone(phone))
    if role not in set(Role):
        raise AuthError(f"role must be one of {', '.join(Role)}")
    check_name(name)
    password_hash = await hash_password_off_loop(password)
    async with db.write() as session:
        if (await session.execute(select(StaffUser).where(StaffUser.name == name))).scalar():
            raise AuthError(f"a user named {name!r} exists already")
        user = StaffUser(name=name, password_hash=password_hash, role=role,
                         languages=list(languages or []), queues=list(queues or []), max_chats=max_chats,
                         phone_sealed=sealed)
        session.add(user)
        await session.flush()
        audit.add(session, actor, "staff.added", f"staff:{user.id}", name=name, role=role,
                  languages=",".join(user.languages), queues=",".join(user.queues), max_chats=max_chats,
                  phone="set" if sealed else None)
    return user


async def login(db: Database, name: str, password: str, times: SessionTimes, *,
                address: str = "", throttle: LoginThrottle | None = None) -> tuple[str, StaffUser]:
    """Check the password; return a new session cookie value (a fresh id at every login).

    Unknown names, disabled accounts and wrong passwords get the same answer after the same work
    (a dummy hash is checked for a name with no hash), so neither the answer nor its time tells
    which names exist. The check runs in the password thread pool, never on the event loop.
    `throttle` slows repeated failures per name and per `address` (a keyed digest)."""
    if throttle is not None:
        await throttle.wait(name, address)
    async with db.read() as session:
        # No name has a null character (and PostgreSQL cannot compare one): unknown, like any other.
        user = None if "\x00" in name else (
            await session.execute(select(StaffUser).where(StaffUser.name == name))).scalar()
    known = user is not None and user.active
    stored = user.password_hash if known and user is not None else _DUMMY_HASH
    if not await check_password(stored, password) or not known or user is None:
        if throttle is not None:
            throttle.failed(name, address)
        raise AuthError("wrong name or password")
    if throttle is not None:
        throttle.succeeded(name, address)
    rehashed = await _in_pool(_hasher.hash, password) if _hasher.check_needs_rehash(user.password_hash) else None
    cookie = secrets.token_urlsafe(32)
    async with db.write() as session:
        if rehashed is not None:
            fresh = await session.get(StaffUser, user.id)
            if fresh is not None:
                fresh.password_hash = rehashed
        session.add(StaffSession(id=_session_id(cookie), user_id=user.id, expires_at=utcnow() + times.absolute,
                                 key_tag=times.key_tag))
    return cookie, user


async def _in_pool(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_POOL, function, *args)


async def check_password(password_hash: str, password: str) -> bool:
    """Verify in the password thread pool: argon2 takes tens of milliseconds of CPU on purpose,
    which on the event loop would hold up every chat and every other request."""
    return await _in_pool(_verify, password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _expired(staff_session: StaffSession, user: StaffUser, times: SessionTimes, now: datetime) -> bool:
    return (not user.active or staff_session.expires_at <= now
            or staff_session.last_seen_at + times.idle <= now or staff_session.key_tag != times.key_tag)


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
    await end_sessions(db, [sid], events)


async def end_sessions(db: Database, sids: list[str], events: EventPublisher | None = None) -> None:
    """Delete these sessions and announce each with the commit (their console sockets close, on
    any worker)."""
    if not sids:
        return
    ended = [(SESSION_TOPIC, Event("session_ended", 0, {"session": sid})) for sid in sids]
    async with db.write() as session:
        await session.execute(delete(StaffSession).where(StaffSession.id.in_(sids)))
        if events is not None:
            await events.publish_in(session, ended)
    if events is not None:
        events.published(ended)


async def end_user_sessions(db: Database, user_id: int, events: EventPublisher | None = None) -> int:
    """End every session of one account (disabled, password reset); how many there were."""
    async with db.read() as session:
        sids = list((await session.execute(
            select(StaffSession.id).where(StaffSession.user_id == user_id))).scalars())
    await end_sessions(db, sids, events)
    return len(sids)


async def end_sessions_of_other_keys(db: Database, key_tag: str, events: EventPublisher | None = None) -> int:
    """At start: the sessions made under a secret key that is no longer the current one (it was
    rotated) end, and are announced so sockets held by workers still on the old key close too."""
    async with db.read() as session:
        sids = list((await session.execute(
            select(StaffSession.id).where(StaffSession.key_tag != key_tag))).scalars())
    await end_sessions(db, sids, events)
    return len(sids)


async def logout(db: Database, cookie: str, events: EventPublisher | None = None) -> None:
    await end_session(db, _session_id(cookie), events)


async def has_sessions(db: Database, user_id: int) -> bool:
    async with db.read() as session:
        return (await session.execute(
            select(StaffSession.id).where(StaffSession.user_id == user_id).limit(1))).first() is not None
