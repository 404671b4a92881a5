"""Retention: old transcripts erased, rows reduced to statistics, reply addresses and links dropped."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from lotsa import appkeys
from lotsa.models import Contact, Conversation, Message, utcnow
from lotsa.retention import purge
from lotsa_testing.server import RunningServer


async def _count(server: RunningServer, model: type) -> int:
    async with server.app[appkeys.DB].read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_old_conversations_are_reduced_to_statistics(any_server: RunningServer) -> None:
    memory, db = any_server.memory, any_server.app[appkeys.DB]
    states = any_server.app[appkeys.CONVERSATIONS]
    await memory.write("+46700000001", "jag är 15 och säljer sex")
    await memory.write("+46700000002", "hej")
    await memory.wait_for("+46700000002", 1)

    report = await purge(states, retention_days=30, reply_address_grace_hours=24)
    assert report.conversations_reduced == 0 and await _count(any_server, Message) > 0

    later = utcnow() + timedelta(days=31)
    report = await purge(states, retention_days=30, reply_address_grace_hours=24, now=later)
    assert report.conversations_reduced == 2 and report.messages_deleted > 0
    assert await _count(any_server, Message) == 0
    async with db.read() as session:
        conversations = (await session.execute(select(Conversation).order_by(Conversation.id))).scalars().all()
        contacts = (await session.execute(select(Contact))).scalars().all()
    assert all(c.state == "closed" and c.purged_at is not None for c in conversations)
    assert "minor" in conversations[0].triage["flags"], "the statistics keep the flags"
    assert all(not set(c.triage) - {"group", "flags", "risk", "needs", "language", "queue", "source",
                                    "handoff", "outcome"} for c in conversations)
    assert all(c.reply_address is None for c in contacts)
    assert all(c.key.startswith("unlinked:") for c in contacts)
    again = await purge(states, retention_days=30, reply_address_grace_hours=24, now=later)
    assert again.conversations_reduced == 0


async def test_reply_address_kept_while_open_and_for_the_grace_time(server: RunningServer) -> None:
    db, states = server.app[appkeys.DB], server.app[appkeys.CONVERSATIONS]
    await server.memory.write("+46700000003", "hej")
    await purge(states, retention_days=30, reply_address_grace_hours=24, now=utcnow() + timedelta(hours=30))
    async with db.read() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.reply_address is not None, "the conversation is still open"
    async with db.write() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
        conversation.state, conversation.closed_at = "closed", utcnow()
    report = await purge(states, retention_days=30, reply_address_grace_hours=24, now=utcnow() + timedelta(hours=1))
    assert report.reply_addresses_erased == 0
    report = await purge(states, retention_days=30, reply_address_grace_hours=24, now=utcnow() + timedelta(hours=25))
    assert report.reply_addresses_erased == 1


def test_lotsa_purge_command_prints_its_report(tmp_path: Path, database_url: str) -> None:
    env = {**os.environ, "LOTSA_DATABASE_URL": database_url, "LOTSA_SECRET_KEY": "x" * 32}
    out = subprocess.run([sys.executable, "-m", "lotsa.cli", "purge"], env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == {"conversations_reduced": 0, "messages_deleted": 0,
                                                        "reply_addresses_erased": 0, "contacts_unlinked": 0}
