"""The audit log: who opened which conversation, who took, moved, blocked or retried what, who
changed the configuration. Append-only (database triggers refuse UPDATE and DELETE); it holds
staff names, actions and ids, never message text or anything identifying a contact."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lotsa.db import Database
from lotsa.models import AuditEntry, StaffUser


def entry(actor: StaffUser | str, action: str, target: str = "", **detail: str | int | None) -> AuditEntry:
    if isinstance(actor, StaffUser):
        return AuditEntry(actor_id=actor.id, actor=actor.name, action=action, target=target,
                          detail={k: v for k, v in detail.items() if v is not None})
    return AuditEntry(actor=actor, action=action, target=target,
                      detail={k: v for k, v in detail.items() if v is not None})


async def record(db: Database, actor: StaffUser | str, action: str, target: str = "",
                 **detail: str | int | None) -> None:
    """In its own transaction (for reads, like opening a conversation)."""
    async with db.write() as session:
        session.add(entry(actor, action, target, **detail))


def add(session: AsyncSession, actor: StaffUser | str, action: str, target: str = "",
        **detail: str | int | None) -> None:
    """Inside the caller's transaction: the entry stands or falls with the change it records."""
    session.add(entry(actor, action, target, **detail))


def view(item: AuditEntry) -> dict[str, Any]:
    return {"id": item.id, "at": item.at.isoformat(), "actor": item.actor, "action": item.action,
            "target": item.target, "detail": item.detail}
