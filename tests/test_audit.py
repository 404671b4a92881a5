"""The audit log: who opened, took, closed or blocked which conversation; admins read it; nobody
(not even the database's own users) can change or delete an entry."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from lotsa import appkeys
from lotsa.models import AuditEntry
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer


async def test_actions_are_recorded_and_only_admins_read_them(any_server: RunningServer) -> None:
    await any_server.add_staff("anna")
    await any_server.add_staff("sara", role="supervisor")
    await any_server.add_staff("ada", role="admin")
    accepted = await any_server.memory.write("+46700000021", "hej")
    await any_server.memory.write("+46700000021", "0")
    anna, sara, ada = (ConsoleClient(any_server.url) for _ in range(3))
    try:
        await anna.login("anna", PASSWORD)
        assert await anna.claim(accepted.conversation_id) == 200
        await anna.conversation(accepted.conversation_id)
        await sara.login("sara", PASSWORD)
        async with sara.session.post(f"{any_server.url}/api/console/conversations/{accepted.conversation_id}/block",
                                     json={"hours": 2}, headers=sara._headers()) as r:
            assert r.status == 200
        for client in (anna, sara):
            async with client.session.get(f"{any_server.url}/api/admin/audit") as r:
                assert r.status == 403
            async with client.session.get(f"{any_server.url}/admin/audit") as r:
                assert r.status == 403
        async with ConsoleClient(any_server.url).session as anonymous:
            async with anonymous.get(f"{any_server.url}/api/admin/audit") as r:
                assert r.status == 401
        await ada.login("ada", PASSWORD)
        async with ada.session.get(f"{any_server.url}/api/admin/audit") as r:
            entries = (await r.json())["entries"]
        async with ada.session.get(f"{any_server.url}/admin/audit") as r:
            assert r.status == 200 and "conversation.opened" in await r.text()
    finally:
        for client in (anna, sara, ada):
            await client.close()
    seen = {(e["actor"], e["action"], e["target"]) for e in entries}
    target = f"conversation:{accepted.conversation_id}"
    assert ("anna", "conversation.claimed", target) in seen
    assert ("anna", "conversation.opened", target) in seen
    assert ("sara", "contact.blocked", target) in seen
    assert ("system", "config.triage_script_published", "script:default") in seen
    assert {("cli", "staff.added"), ("anna", "staff.login")} <= {(e["actor"], e["action"]) for e in entries}
    assert "+46700000021" not in str(entries) and "hej" not in str(entries)


async def test_the_database_refuses_changes_to_the_audit_log(any_server: RunningServer) -> None:
    db = any_server.app[appkeys.DB]
    async with db.read() as session:
        assert (await session.execute(select(AuditEntry))).scalars().first() is not None
    for statement in (update(AuditEntry).values(actor="someone else"), delete(AuditEntry)):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.write() as session:
                await session.execute(statement)
