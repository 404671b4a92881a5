"""Staff accounts as an admin changes them (the /admin/staff page and `lotsa user`): create,
disable, enable, reset a password, change role and skills. Every change is audited (who, what,
before → after), never a password.

Disabling an account ends its sessions at once (their console sockets close, on every worker,
through the session event) and puts its conversations back in their queue, first in line. The
last active admin can be neither disabled nor demoted: somebody must be able to run the line.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.dropoff import hand_back_first_in_line
from lotsa import audit
from lotsa.auth import AuthError, add_user, check_name, check_phone, end_user_sessions, hash_password_off_loop
from lotsa.conversations import Conversations
from lotsa.crypto import Keyring, masked_phone
from lotsa.errors import Refused
from lotsa.events import QUEUE_TOPIC, Event, write_announcing
from lotsa.models import Conversation, ConversationState, Role, StaffUser, utcnow

log = logging.getLogger(__name__)

RETURNED_NOTE = "Back in the queue: the counsellor's account was disabled."
MAX_CHATS = range(1, 51)


def new_password() -> str:
    """A generated password: 96 random bits, shown once to the admin and never stored or logged."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Skills:
    """What an admin sets on an account besides its name: role, languages, queues (empty: any),
    most chats, and the phone number calls are put through to (None: leave it; "": remove it)."""

    role: str
    languages: tuple[str, ...]
    queues: tuple[str, ...]
    max_chats: int
    phone: str | None = None

    def checked(self, known_queues: Collection[str]) -> Skills:
        """The same skills, validated (Refused with a code per field); the phone in E.164 form."""
        if self.role not in set(Role):
            raise Refused("bad_role", f"The role is one of {', '.join(Role)}.")
        if any(len(code) != 2 or not code.isascii() or not code.isalpha() or not code.islower()
               for code in self.languages) or len(self.languages) > 20:
            raise Refused("bad_languages", "Languages are two-letter codes (ISO 639-1), e.g. sv, en.")
        unknown = [q for q in self.queues if q not in known_queues]
        if unknown:
            raise Refused("bad_queues", "Queues must be among the configured queues.")
        if self.max_chats not in MAX_CHATS:
            raise Refused("bad_max_chats", "Most chats is a number from 1 to 50.")
        phone = self.phone
        if phone:
            try:
                phone = check_phone(phone)
            except AuthError:
                raise Refused("bad_phone", "A phone number is in E.164 form, e.g. +46701234567.") from None
        return Skills(self.role, tuple(dict.fromkeys(self.languages)), tuple(dict.fromkeys(self.queues)),
                      self.max_chats, phone)


def checked_name(name: str) -> str:
    try:
        return check_name(name)
    except AuthError:
        raise Refused("bad_name", "A name is 1-64 letters, digits, '.', '-' or '_'.") from None


async def create(conversations: Conversations, keyring: Keyring, actor: StaffUser, name: str,
                 skills: Skills) -> tuple[StaffUser, str]:
    """A new account with a generated password (returned to be shown once)."""
    checked_name(name)
    password = new_password()
    try:
        user = await add_user(conversations.db, name, password, skills.role, languages=list(skills.languages),
                              queues=list(skills.queues), max_chats=skills.max_chats, phone=skills.phone or None,
                              keyring=keyring, actor=actor)
    except AuthError:
        raise Refused("name_taken", "An account with that name exists already.", 409) from None
    log.info("staff account created", extra={"staff": actor.id, "account": user.id})
    return user, password


async def _locked(session: AsyncSession, user_id: int) -> StaffUser:
    user = await session.get(StaffUser, user_id, with_for_update=True)
    if user is None:
        raise Refused("not_found", "No such account.", 404)
    return user


async def _keep_an_admin(session: AsyncSession, user: StaffUser) -> None:
    """Refuse when `user` is the last active admin (the admins' rows are locked meanwhile, so two
    admins disabling each other at once cannot both succeed)."""
    if user.role != Role.ADMIN or not user.active:
        return
    admins = (await session.execute(select(StaffUser.id).where(
        StaffUser.role == Role.ADMIN, StaffUser.active.is_(True)).with_for_update())).scalars().all()
    if len([a for a in admins if a != user.id]) == 0:
        raise Refused("last_admin", "This is the last admin: make someone else admin first.", 409)


async def disable(conversations: Conversations, actor: StaffUser | str, user_id: int) -> list[int]:
    """Disable the account: its sessions end, its conversations go back to their queue first in line
    (the ids returned)."""
    handed_back: list[int] = []
    async with conversations.change() as change:
        user = await _locked(change.session, user_id)
        await _keep_an_admin(change.session, user)
        was = user.active
        user.active = False
        user.presence = "away"
        held = (await change.session.execute(select(Conversation.id).where(
            Conversation.counsellor_id == user.id, Conversation.state == ConversationState.ACTIVE)
            .with_for_update())).scalars().all()
        now = utcnow()
        for conversation_id in held:
            if await hand_back_first_in_line(change, conversation_id, user.id, now, RETURNED_NOTE):
                handed_back.append(conversation_id)
        audit.add(change.session, actor, "staff.disabled", f"staff:{user.id}", name=user.name,
                  active=f"{_yes(was)} → no", handed_back=len(handed_back))
        change.announce(QUEUE_TOPIC, Event("presence", 0, {}))
    await end_user_sessions(conversations.db, user_id, conversations.events)
    log.info("staff account disabled", extra={"account": user_id, "handed_back": len(handed_back)})
    return handed_back


async def enable(conversations: Conversations, actor: StaffUser | str, user_id: int) -> None:
    async with conversations.db.write() as session:
        user = await _locked(session, user_id)
        audit.add(session, actor, "staff.enabled", f"staff:{user.id}", name=user.name,
                  active=f"{_yes(user.active)} → yes")
        user.active = True


async def reset_password(conversations: Conversations, actor: StaffUser, user_id: int) -> str:
    """A new generated password (returned to be shown once); the account's sessions end."""
    password = new_password()
    password_hash = await hash_password_off_loop(password)
    async with conversations.db.write() as session:
        user = await _locked(session, user_id)
        user.password_hash = password_hash
        audit.add(session, actor, "staff.password_reset", f"staff:{user.id}", name=user.name)
    await end_user_sessions(conversations.db, user_id, conversations.events)
    log.info("staff password reset", extra={"staff": actor.id, "account": user_id})
    return password


async def update(conversations: Conversations, keyring: Keyring, actor: StaffUser, user_id: int,
                 skills: Skills) -> dict[str, str]:
    """Role, languages, queues, most chats and phone; the changes as field → "before → after"."""
    async with write_announcing(conversations.db, conversations.events) as (session, announcements):
        user = await _locked(session, user_id)
        if skills.role != user.role:
            await _keep_an_admin(session, user)
        old_phone = keyring.open_phone(user.phone_sealed) if user.phone_sealed else None
        changes = _changes(user, skills, old_phone)
        user.role, user.max_chats = skills.role, skills.max_chats
        user.languages, user.queues = list(skills.languages), list(skills.queues)
        if skills.phone is not None:
            user.phone_sealed = keyring.seal_phone(skills.phone) if skills.phone else None
        if changes:
            audit.add(session, actor, "staff.changed", f"staff:{user.id}", name=user.name, **changes)
            announcements.append((QUEUE_TOPIC, Event("presence", 0, {})))   # consoles show skills
    return changes


def _changes(user: StaffUser, skills: Skills, old_phone: str | None) -> dict[str, str]:
    pairs = {"role": (user.role, skills.role), "languages": (",".join(user.languages), ",".join(skills.languages)),
             "queues": (",".join(user.queues), ",".join(skills.queues)),
             "max_chats": (str(user.max_chats), str(skills.max_chats))}
    if skills.phone is not None:
        pairs["phone"] = (masked_phone(old_phone), masked_phone(skills.phone))
    return {k: f"{before or '-'} → {after or '-'}" for k, (before, after) in pairs.items() if before != after}


def _yes(value: bool) -> str:
    return "yes" if value else "no"


async def find(session: AsyncSession, name: str) -> StaffUser | None:
    return (await session.execute(select(StaffUser).where(StaffUser.name == name))).scalar()
