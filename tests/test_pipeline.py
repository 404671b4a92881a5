"""The pipeline driven through the in-memory channel, as a person on a provider channel would."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lotsa import appkeys
from lotsa.errors import Refused
from lotsa.models import Contact, Conversation, Message, OutboxItem, TriageScriptVersion
from lotsa_testing.server import RunningServer, make_settings, start_server


async def _count(server: RunningServer, model: type) -> int:
    async with server.app[appkeys.DB].read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _outbox_item_when_settled(server: RunningServer) -> OutboxItem:
    for _ in range(100):
        async with server.app[appkeys.DB].read() as session:
            item = (await session.execute(select(OutboxItem))).scalar_one()
        if item.state != "pending":
            return item
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox item stayed pending")


async def test_first_message_opens_a_conversation_and_gets_the_greeting(any_server: RunningServer) -> None:
    memory = any_server.memory
    accepted = await memory.write("+46701234567", "hej")
    assert not accepted.duplicate
    [greeting] = await memory.wait_for("+46701234567", 1)
    assert "Vilket språk" in greeting.text
    assert [c[0] for c in greeting.choices] == ["sv", "en", "ro", "bg", "human"]


async def test_provider_retry_is_stored_once(any_server: RunningServer) -> None:
    memory = any_server.memory
    first = await memory.write("+46700000001", "hej", message_id="SM123")
    again = await memory.write("+46700000001", "hej", message_id="SM123")
    assert again.duplicate and again.message_id == first.message_id
    async with any_server.app[appkeys.DB].read() as session:
        texts = (await session.execute(select(Message.text).where(Message.author == "contact"))).scalars().all()
    assert texts == ["hej"]


async def test_triage_by_typed_numbers_ends_in_the_right_queue(any_server: RunningServer) -> None:
    memory = any_server.memory
    address = "+46700000002"
    await memory.write(address, "hej")
    await memory.write(address, "2")      # English
    await memory.write(address, "3")      # a relative
    await memory.write(address, "skip")
    sent = await memory.wait_for(address, 4)
    assert "connecting you" in sent[-1].text
    async with any_server.app[appkeys.DB].read() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
    assert (conversation.state, conversation.queue, conversation.group, conversation.language) == \
        ("queued", "relatives", "relative", "en")


async def test_no_identifier_is_stored_in_clear(any_server: RunningServer) -> None:
    await any_server.memory.write("+46709998877", "hej")
    async with any_server.app[appkeys.DB].read() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert "46709998877" not in contact.key and b"46709998877" not in (contact.reply_address or b"")
    assert any_server.app[appkeys.KEYRING].decrypt_address(contact.reply_address) == "+46709998877"


async def test_outbox_survives_a_provider_outage_and_delivers_once(any_server: RunningServer) -> None:
    memory = any_server.memory
    memory.fail_next(3)
    await memory.write("+46700000003", "hej")
    [greeting] = await memory.wait_for("+46700000003", 1, timeout=15)
    assert "Vilket språk" in greeting.text
    item = await _outbox_item_when_settled(any_server)
    assert item.state == "sent" and item.attempts == 3 and item.provider_message_id.startswith("memory-")
    relay = any_server.app[appkeys.OUTBOX]
    assert await relay.deliver_due() == 0
    assert len(memory.sent["+46700000003"]) == 1


async def test_oversize_and_null_bytes_are_refused(any_server: RunningServer) -> None:
    with pytest.raises(Refused, match="longer than"):
        await any_server.memory.write("+46700000004", "x" * 5000)
    with pytest.raises(Refused, match="null"):
        await any_server.memory.write("+46700000004", "a\x00b")
    assert await _count(any_server, Message) == 0


async def test_conversation_keeps_the_script_version_it_started_with(tmp_path: Path, database_url: str) -> None:
    """An admin edits the script mid-conversation: the conversation goes on with its own version."""
    config = tmp_path / "config"
    default = make_settings(tmp_path, database_url).config_dir
    (config / "triage").mkdir(parents=True)
    (config / "texts").mkdir()
    for name in ("settings.toml", "queues.yaml", "triage/default.yaml", "texts/sv.yaml", "texts/en.yaml"):
        (config / name).write_text((default / name).read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(default / "triage" / "phrases", config / "triage" / "phrases")

    settings = make_settings(tmp_path, database_url, config_dir=str(config))
    server, running = await start_server(settings)
    try:
        await running.memory.write("+46700000005", "hej")
        await running.memory.write("+46700000005", "2")
    finally:
        await server.close()

    script = (config / "triage" / "default.yaml").read_text(encoding="utf-8")
    edited = script.replace("What fits you best? It helps us connect you with the right person.",
                            "Who are you? (edited)").replace("What fits you best?", "Who are you?")
    (config / "triage" / "default.yaml").write_text(edited, encoding="utf-8")
    server, running = await start_server(make_settings(
        tmp_path, database_url, config_dir=str(config), secret_key=settings.secret_key.get_secret_value()))
    try:
        await running.memory.write("+46700000005", "2")   # answers the old 'who' step: buys
        await running.memory.write("+46700000005", "skip")
        await running.memory.write("+46700000006", "hej")
        await running.memory.write("+46700000006", "2")
        [_, who] = await running.memory.wait_for("+46700000006", 2)
        assert who.text == "Who are you? (edited)"
        assert await _count(running, TriageScriptVersion) == 2
        async with running.app[appkeys.DB].read() as session:
            first = (await session.execute(select(Conversation).order_by(Conversation.id))).scalars().first()
        assert first.state == "queued" and first.group == "buys"
        assert first.script_version != (await _newest_version(running))
    finally:
        await server.close()


async def _newest_version(running: RunningServer) -> str:
    return running.app[appkeys.PIPELINE].scripts.current["default"].version




async def test_many_writers_at_once_all_succeed(any_server: RunningServer) -> None:
    """Concurrent write transactions wait for each other (BEGIN IMMEDIATE + busy timeout on SQLite,
    row locks and a retry on PostgreSQL) instead of failing."""
    memory = any_server.memory
    results = await asyncio.gather(*(memory.write(f"+46701{n:06d}", "hej") for n in range(40)))
    assert len({r.conversation_id for r in results}) == 40
    again = await asyncio.gather(*(memory.write(f"+46701{n:06d}", "1") for n in range(40)))
    assert {r.conversation_id for r in again} == {r.conversation_id for r in results}


async def test_sqlite_runs_in_wal_mode(server: RunningServer) -> None:
    from sqlalchemy import text

    async with server.app[appkeys.DB].read() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        # Statements run on the loop's thread: SQLite's busy handler would sleep there, so another
        # process's lock is waited for by lotsa.sqlite_inline instead (tests/test_faults.py).
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar() == 0


async def test_counsellors_see_how_often_a_contact_wrote_before_never_who(server: RunningServer) -> None:
    from lotsa_testing.clients import ConsoleClient
    from lotsa_testing.server import PASSWORD

    await server.add_staff("anna", max_chats=10)
    console = ConsoleClient(server.url)
    try:
        await console.login("anna", PASSWORD)
        for _ in range(2):
            accepted = await server.memory.write("+46700000031", "hej")
            await server.memory.write("+46700000031", "0")
            assert await console.claim(accepted.conversation_id) == 200
            await console.close_conversation(accepted.conversation_id)
        third = await server.memory.write("+46700000031", "hej igen")
        await server.memory.write("+46700000031", "0")
        [waiting] = (await console.queue())["waiting"]
        assert waiting["id"] == third.conversation_id and waiting["earlier"] == 2
        detail = await console.conversation(third.conversation_id)
        assert detail["conversation"]["earlier"] == 2 and "+46700000031" not in str(detail)
    finally:
        await console.close()
