"""The Staff page (/admin/staff) and `lotsa user disable|enable`: accounts created with a generated
password shown once, disabled (sessions end at once, chats back in the queue first in line),
enabled, passwords reset (sessions end), roles and skills changed; the last admin kept; every
change audited, never a password; the phone number calls go to stored encrypted, shown masked.
Also: sessions made under a rotated secret key end."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lotsa import appkeys
from lotsa.cli import main
from lotsa.models import AuditEntry, Conversation, StaffSession, StaffUser
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.queue import queue_position
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server

SESSION_ENDED = 4401
PHONE = "+46709876543"


async def triaged(server: RunningServer, address: str) -> int:
    for text in ("hello", "2", "1"):
        await server.memory.write(address, text)
    return (await server.memory.write(address, "skip")).conversation_id


async def form(client: ConsoleClient, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None
               ) -> tuple[int, str, str | None]:
    """An admin's form post as the page sends it (CSRF token in the form): status, page, Location."""
    fields = list(data.items()) if isinstance(data, dict) else list(data or [])
    async with client.session.post(client.base.with_path(path), data=[*fields, ("csrf", client.csrf)],
                                   headers={"Origin": str(client.base)}, allow_redirects=False) as r:
        return r.status, await r.text(), r.headers.get("Location")


async def user_id(server: RunningServer, name: str) -> int:
    async with server.app[appkeys.DB].read() as session:
        return (await session.execute(select(StaffUser.id).where(StaffUser.name == name))).scalar_one()


async def audit_entries(server: RunningServer) -> list[AuditEntry]:
    async with server.app[appkeys.DB].read() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


def shown_password(page: str) -> str:
    found = re.search(r'<code id="new-password"[^>]*>([^<]+)</code>', page)
    assert found, page[:500]
    return found.group(1)


async def logged_in(server: RunningServer, name: str, password: str = PASSWORD) -> ConsoleClient:
    client = ConsoleClient(server.url)
    await client.login(name, password)
    return client


async def test_an_admin_creates_an_account_with_a_password_shown_once(any_server: RunningServer) -> None:
    await any_server.add_staff("ada", "admin")
    ada = await logged_in(any_server, "ada")
    try:
        status, page, _ = await form(ada, "/admin/staff", [
            ("name", "nora"), ("role", "counsellor"), ("languages", "sv, en"), ("queues", "sells"),
            ("queues", "general"), ("max_chats", "4"), ("phone", "+46 70 987 65 43")])
        assert status == 200
        password = shown_password(page)
        assert len(password) >= 16
        nora = await logged_in(any_server, "nora", password)
        await nora.close()
        async with ada.session.get(ada.base.with_path("/admin/staff")) as r:
            again = await r.text()
        assert password not in again and 'id="new-password"' not in again    # shown once
        assert "+467••••••43" in again and PHONE not in again
        async with any_server.app[appkeys.DB].read() as session:
            account = (await session.execute(select(StaffUser).where(StaffUser.name == "nora"))).scalar_one()
        assert (account.role, account.languages, account.queues, account.max_chats) == (
            "counsellor", ["sv", "en"], ["sells", "general"], 4)
        assert account.phone_sealed is not None and PHONE.encode() not in account.phone_sealed
        assert any_server.app[appkeys.KEYRING].open_phone(account.phone_sealed) == PHONE
        entries = await audit_entries(any_server)
        added = [e for e in entries if e.action == "staff.added" and e.detail.get("name") == "nora"]
        assert len(added) == 1 and added[0].actor == "ada" and added[0].detail["role"] == "counsellor"
        assert all(password not in json.dumps(e.detail) and PHONE not in json.dumps(e.detail) for e in entries)
    finally:
        await ada.close()


async def test_disabling_logs_the_console_out_at_once_and_puts_its_chat_first_in_line(
        any_server: RunningServer) -> None:
    await any_server.add_staff("ada", "admin")
    await any_server.add_staff("anna")
    waiting_before = await triaged(any_server, "+46700000801")
    ada, anna = await logged_in(any_server, "ada"), await logged_in(any_server, "anna")
    try:
        held = await triaged(any_server, "+46700000802")
        assert await anna.claim(held) == 200
        await anna.connect()
        status, _, location = await form(ada, f"/admin/staff/{await user_id(any_server, 'anna')}/disable")
        assert (status, location) == (303, "/admin/staff?lang=sv&done=disabled")
        assert await anna.socket_closed(1.0) == SESSION_ENDED
        async with anna.session.get(anna.base.with_path("/api/console/queue")) as r:
            assert r.status == 401
        async with any_server.app[appkeys.DB].read() as session:
            conversation = await session.get(Conversation, held)
            assert conversation is not None
            assert (conversation.state, conversation.counsellor_id) == ("queued", None)
            assert await queue_position(session, conversation) == 1     # before the one that waited already
            earlier = await session.get(Conversation, waiting_before)
            assert earlier is not None and await queue_position(session, earlier) == 2
            assert (await session.execute(select(StaffSession).join(StaffUser)
                                          .where(StaffUser.name == "anna"))).first() is None
        with pytest.raises(PermissionError):
            await logged_in(any_server, "anna")
        disabled = [e for e in await audit_entries(any_server) if e.action == "staff.disabled"]
        assert disabled[-1].actor == "ada" and disabled[-1].detail["handed_back"] == 1
        assert disabled[-1].detail["active"] == "yes → no"

        status, _, _ = await form(ada, f"/admin/staff/{await user_id(any_server, 'anna')}/enable")
        assert status == 303
        back = await logged_in(any_server, "anna")
        await back.close()
    finally:
        await ada.close()
        await anna.close()


async def test_a_password_reset_ends_the_sessions_and_is_never_audited(any_server: RunningServer) -> None:
    await any_server.add_staff("ada", "admin")
    await any_server.add_staff("anna")
    ada, anna = await logged_in(any_server, "ada"), await logged_in(any_server, "anna")
    try:
        await anna.connect()
        status, page, _ = await form(ada, f"/admin/staff/{await user_id(any_server, 'anna')}/password")
        assert status == 200
        password = shown_password(page)
        assert await anna.socket_closed(1.0) == SESSION_ENDED
        with pytest.raises(PermissionError):
            await logged_in(any_server, "anna")                       # the old password no longer works
        fresh = await logged_in(any_server, "anna", password)
        await fresh.close()
        entries = await audit_entries(any_server)
        assert any(e.action == "staff.password_reset" and e.actor == "ada" for e in entries)
        assert all(password not in json.dumps(e.detail) and PASSWORD not in json.dumps(e.detail) for e in entries)
    finally:
        await ada.close()
        await anna.close()


async def test_the_last_admin_can_be_neither_disabled_nor_demoted(server: RunningServer) -> None:
    await server.add_staff("ada", "admin")
    ada = await logged_in(server, "ada")
    try:
        me = await user_id(server, "ada")
        status, page, _ = await form(ada, f"/admin/staff/{me}/disable")
        assert status == 409 and 'data-error="last_admin"' in page
        status, page, _ = await form(ada, f"/admin/staff/{me}", {"role": "counsellor", "max_chats": "3"})
        assert status == 409 and 'data-error="last_admin"' in page
        async with server.app[appkeys.DB].read() as session:
            account = await session.get(StaffUser, me)
            assert account is not None and (account.active, account.role) == (True, "admin")
        await server.add_staff("bea", "admin")
        status, _, _ = await form(ada, f"/admin/staff/{await user_id(server, 'bea')}/disable")
        assert status == 303
        status, page, _ = await form(ada, f"/admin/staff/{me}/disable")
        assert status == 409, "bea is disabled: ada is the last active admin again"
    finally:
        await ada.close()


async def test_role_languages_queues_chats_and_phone_are_changed_and_audited(server: RunningServer) -> None:
    await server.add_staff("ada", "admin")
    await server.add_staff("anna", languages=["sv"])
    ada = await logged_in(server, "ada")
    try:
        anna = await user_id(server, "anna")
        status, _, location = await form(ada, f"/admin/staff/{anna}", [
            ("role", "supervisor"), ("languages", "sv,en"), ("queues", "acute"), ("max_chats", "5"),
            ("phone", PHONE), ("lang", "en")])
        assert (status, location) == (303, "/admin/staff?lang=en&done=changed")
        async with server.app[appkeys.DB].read() as session:
            account = await session.get(StaffUser, anna)
        assert account is not None
        assert (account.role, account.languages, account.queues, account.max_chats) == (
            "supervisor", ["sv", "en"], ["acute"], 5)
        assert server.app[appkeys.KEYRING].open_phone(account.phone_sealed or b"") == PHONE
        changed = [e for e in await audit_entries(server) if e.action == "staff.changed"][-1]
        assert changed.detail["role"] == "counsellor → supervisor"
        assert changed.detail["languages"] == "sv → sv,en"
        assert changed.detail["phone"] == "- → +467••••••43"
        status, _, _ = await form(ada, f"/admin/staff/{anna}", {"role": "supervisor", "languages": "sv,en",
                                                               "queues": "acute", "max_chats": "5",
                                                               "phone_remove": "1"})
        async with server.app[appkeys.DB].read() as session:
            account = await session.get(StaffUser, anna)
        assert status == 303 and account is not None and account.phone_sealed is None
        for bad, code in (({"max_chats": "0"}, "bad_max_chats"), ({"phone": "0701234567"}, "bad_phone"),
                          ({"queues": "nowhere"}, "bad_queues"), ({"languages": "svenska"}, "bad_languages"),
                          ({"role": "root"}, "bad_role")):
            status, page, _ = await form(ada, f"/admin/staff/{anna}", {"role": "counsellor", "max_chats": "3", **bad})
            assert status == 400 and f'data-error="{code}"' in page, code
    finally:
        await ada.close()


async def test_supervisors_read_the_list_and_counsellors_may_not(server: RunningServer) -> None:
    await server.add_staff("sven", "supervisor")
    await server.add_staff("cara")
    await server.add_staff("ada", "admin")
    sven, cara = await logged_in(server, "sven"), await logged_in(server, "cara")
    try:
        async with sven.session.get(sven.base.with_path("/admin/staff")) as r:
            page = await r.text()
        assert r.status == 200 and 'data-name="cara"' in page and "<form" not in page
        status, _, _ = await form(sven, f"/admin/staff/{await user_id(server, 'cara')}/disable")
        assert status == 403
        async with cara.session.get(cara.base.with_path("/admin/staff")) as r:
            assert r.status == 403
    finally:
        await sven.close()
        await cara.close()


async def test_the_cli_disables_and_enables_an_account(tmp_path: Path, database_url: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path, database_url)
    test_server, server = await start_server(settings)
    try:
        await server.add_staff("anna")
        anna = await logged_in(server, "anna")
        held = await triaged(server, "+46700000803")
        assert await anna.claim(held) == 200
        await anna.close()
        monkeypatch.setenv("LOTSA_SECRET_KEY", settings.secret_bytes().decode())
        assert await asyncio.to_thread(main, ["user", "disable", "anna", "--database", database_url]) == 0
        async with server.app[appkeys.DB].read() as session:
            conversation = await session.get(Conversation, held)
            account = (await session.execute(select(StaffUser).where(StaffUser.name == "anna"))).scalar_one()
        assert conversation is not None and conversation.state == "queued" and not account.active
        assert any(e.action == "staff.disabled" and e.actor == "cli" for e in await audit_entries(server))
        assert await asyncio.to_thread(main, ["user", "disable", "nobody", "--database", database_url]) == 2
        assert await asyncio.to_thread(main, ["user", "enable", "anna", "--database", database_url]) == 0
        back = await logged_in(server, "anna")
        await back.close()
    finally:
        await test_server.close()


async def test_sessions_of_a_rotated_secret_key_end(tmp_path: Path, database_url: str) -> None:
    """A worker started with a new secret key ends the sessions made under the old one; a worker still
    on the old key closes their sockets on its next heartbeat (at once with a multi-worker publisher)."""
    old_server, old = await start_server(make_settings(tmp_path, database_url, handoff_dropoff_seconds=5))
    new_server = None
    await old.add_staff("anna")
    anna = await logged_in(old, "anna")
    try:
        await anna.connect()
        new_server, new = await start_server(make_settings(tmp_path, database_url))
        async with new.app[appkeys.DB].read() as session:
            assert (await session.execute(select(StaffSession.id))).first() is None
        assert await anna.socket_closed(old.app[appkeys.HANDOFF].heartbeat_every + 1.0) == SESSION_ENDED
        async with anna.session.get(f"{new.url}/api/console/queue") as r:
            assert r.status == 401
    finally:
        await anna.close()
        if new_server is not None:
            await new_server.close()
        await old_server.close()


def test_the_migration_encrypts_phone_numbers_stored_in_plain_text(tmp_path: Path) -> None:
    """Upgrading a database whose counsellors' numbers are plain text seals them with the secret key
    (and refuses without one rather than keep or lose them)."""
    import sqlite3

    from alembic import command

    from lotsa.crypto import Keyring
    from lotsa.db import alembic_config, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0004_audit")
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("INSERT INTO staff_users (name, password_hash, role, phone, active, failed_logins, created_at, "
                   "languages, queues, max_chats, presence) VALUES ('anna', 'x', 'counsellor', ?, 1, 0, "
                   "'2026-01-01 00:00:00', '[]', '[]', 3, 'away')", (PHONE,))
    with pytest.raises(RuntimeError, match="LOTSA_SECRET_KEY"):
        upgrade(url)
    secret = b"a-secret-key-of-enough-bytes"
    upgrade(url, secret)
    with sqlite3.connect(tmp_path / "old.db") as db:
        sealed, = db.execute("SELECT phone_sealed FROM staff_users WHERE name = 'anna'").fetchone()
        columns = {row[1] for row in db.execute("PRAGMA table_info(staff_users)")}
    assert Keyring(secret).open_phone(sealed) == PHONE
    assert not columns & {"phone", "failed_logins", "locked_until"}
    assert PHONE.encode() not in (tmp_path / "old.db").read_bytes()
