"""Inbound messages that arrive together are stored together (group commit on SQLite), and one that
is refused is refused alone: the others are stored and answered."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lotsa import appkeys, direct_writes
from lotsa.conversations import Change
from lotsa.errors import Refused
from lotsa.group_commit import GroupCommit
from lotsa.models import Contact, Conversation, Message, utcnow
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


async def test_messages_classified_together_each_keep_their_own_assessment(any_server: RunningServer) -> None:
    """On SQLite a batch's texts go through the classifier in one call: each conversation still gets
    what its own message said (the one that says it is in danger, only that one)."""
    memory, db = any_server.memory, any_server.app[appkeys.DB]
    senders = {f"+467000003{i:02d}": "hej" for i in range(12)}
    senders["+46700000307"] = "jag vill dö"
    await asyncio.gather(*(memory.write(sender, text) for sender, text in senders.items()))
    async with db.read() as session:
        risks = dict((await session.execute(
            select(Conversation.id, Conversation.risk).join(Message, Message.conversation_id == Conversation.id)
            .where(Message.author == "contact", Message.text == "jag vill dö"))).all())
        elevated = await session.scalar(select(func.count()).select_from(Conversation)
                                        .where(Conversation.risk != "routine"))
    assert list(risks.values()) == ["acute"]
    assert elevated == 1


async def test_an_input_the_batch_step_fails_on_fails_alone(any_server: RunningServer) -> None:
    """GroupCommit's `prepare` runs once for a whole batch; when it fails, each input is tried
    alone, and only the one it fails on is answered with the error."""
    conversations = any_server.app[appkeys.PIPELINE].conversations

    def shout(words: list[str]) -> list[str]:
        if "bad" in words:
            raise ValueError("cannot prepare")
        return [w.upper() for w in words]

    async def echo(change: Change, prepared: str) -> str:
        return prepared

    group = GroupCommit(conversations, prepare=shout)
    outcomes = await asyncio.gather(*(group.run(echo, word) for word in ("one", "bad", "two")),
                                    return_exceptions=True)
    assert outcomes[0] == "ONE" and outcomes[2] == "TWO"
    assert isinstance(outcomes[1], ValueError)


async def test_a_change_undone_in_a_shared_transaction_leaves_no_row_behind_in_the_session(
        any_server: RunningServer) -> None:
    """A contact and conversation a change inserted are taken out of the session when its savepoint
    is rolled back: the next change of the same transaction can insert them again (SQLite gives the
    same ids again) and what it stores is what is committed."""
    pipeline = any_server.app[appkeys.PIPELINE]
    conversations, db = pipeline.conversations, any_server.app[appkeys.DB]
    version = pipeline.scripts.for_new_conversation().script.version

    async def open_for(change: Change) -> int:
        contact = Contact(key="undone-contact", channel="sms")
        await direct_writes.insert_now(change.session, contact)
        conversation = await change.open(contact.id, "sms", version, {}, "sv")
        change.say(conversation, "bot", "hej")
        return conversation.id

    async with conversations.together() as together:
        with pytest.raises(RuntimeError):
            async with together.change() as change:
                await open_for(change)
                raise RuntimeError("undone")
        async with together.change() as change:
            kept = await open_for(change)
    async with db.read() as session:
        stored = (await session.execute(select(Conversation.id, Contact.key).join(Contact))).all()
        said = await session.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == kept))
    assert (kept, "undone-contact") in [tuple(r) for r in stored]
    assert said == 1


async def test_a_change_undone_after_another_in_the_same_transaction_leaves_nothing_stored(
        any_server: RunningServer) -> None:
    """Every change of a shared transaction has its own savepoint from its first statement, not only
    the first one: what the second change wrote before it failed is not committed with the first."""
    pipeline = any_server.app[appkeys.PIPELINE]
    conversations, db = pipeline.conversations, any_server.app[appkeys.DB]
    version = pipeline.scripts.for_new_conversation().script.version

    async def open_for(change: Change, key: str) -> int:
        contact = Contact(key=key, channel="sms")
        await direct_writes.insert_now(change.session, contact)
        conversation = await change.open(contact.id, "sms", version, {}, "sv")
        change.say(conversation, "bot", "hej")
        await direct_writes.write(change.session)
        return conversation.id

    async with conversations.together() as together:
        async with together.change() as change:
            kept = await open_for(change, "kept-contact")
        with pytest.raises(RuntimeError):
            async with together.change() as change:
                await open_for(change, "undone-contact")
                raise RuntimeError("undone")
    async with db.read() as session:
        keys = (await session.execute(select(Contact.key).where(Contact.key.like("%-contact")))).scalars().all()
        said = (await session.execute(select(Message.conversation_id).where(Message.text == "hej"))).scalars().all()
    assert keys == ["kept-contact"]
    assert said == [kept]
