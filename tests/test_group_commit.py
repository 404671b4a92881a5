"""Inbound messages that arrive together are stored together (group commit on SQLite), and one that
is refused is refused alone: the others are stored and answered."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from lotsa import appkeys
from lotsa.errors import Refused
from lotsa.models import Contact, Message, utcnow
from lotsa_testing.server import RunningServer


async def test_messages_arriving_together_are_stored_and_a_refused_one_alone_fails(any_server: RunningServer) -> None:
    memory, db = any_server.memory, any_server.app[appkeys.DB]
    pipeline = any_server.app[appkeys.PIPELINE]
    await memory.write("+46700000100", "hej")
    async with db.write() as session:
        await session.execute(update(Contact).values(blocked_until=utcnow() + timedelta(hours=1)))
    batches = pipeline.group.batches if pipeline.group is not None else 0

    senders = [f"+467000002{i:02d}" for i in range(20)]
    outcomes = await asyncio.gather(*(memory.write(sender, "jag behöver prata med någon") for sender in senders),
                                    memory.write("+46700000100", "hej igen"), return_exceptions=True)

    *accepted, blocked = outcomes
    assert isinstance(blocked, Refused) and blocked.code == "blocked"
    assert all(not isinstance(a, BaseException) and not a.duplicate for a in accepted), accepted
    assert len({a.conversation_id for a in accepted if not isinstance(a, BaseException)}) == 20
    async with db.read() as session:
        stored = await session.scalar(select(func.count()).select_from(Message).where(Message.author == "contact"))
    assert stored == 21   # the blocked contact's first message and the twenty others
    if pipeline.group is not None:   # SQLite: far fewer transactions than messages
        assert pipeline.group.batches - batches < 20
    greeted = await memory.wait_for(senders[-1], 1)
    assert greeted, "the greeting of a message stored in a shared transaction went out"
