"""The inbound path's statements run by sqlite3 (lotsa.sqlite_direct) store and read exactly what
the ORM would: timezone-aware datetimes, JSON, a column named by a reserved word; the conversation's
UPDATE sets only what changed and leaves the session nothing to flush."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from lotsa import appkeys, direct_writes, sqlite_direct
from lotsa.models import Contact, Conversation, Message
from lotsa.sqlite_direct import Prepared
from lotsa_testing.server import RunningServer


async def test_rows_written_by_sqlite3_read_back_through_the_orm_as_written(server: RunningServer) -> None:
    pipeline = server.app[appkeys.PIPELINE]
    conversations, db = pipeline.conversations, server.app[appkeys.DB]
    version = pipeline.scripts.for_new_conversation().script.version
    queued = datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=UTC)
    async with conversations.change() as change:
        assert await sqlite_direct.of(change.session) is not None   # the inline connection
        contact = Contact(key="direct-contact", channel="sms", prefs={"quiet": "22-07"})
        await direct_writes.insert_now(change.session, contact)
        conversation = await change.open(contact.id, "sms", version, {"step": "start"}, "sv")
        change.say(conversation, "bot", "hej", {"choices": [["1", "Ja"]]})
        await direct_writes.write(change.session)
        conversation.group, conversation.queued_at = "parent", queued
        conversation.triage = {"flags": ["self_harm"], "group": "parent"}
        await direct_writes.update_changed(change.session, [conversation])
        assert not change.session.dirty   # nothing left for the ORM's flush
    async with db.read() as session:
        stored = (await session.execute(select(Conversation).where(Conversation.id == conversation.id))).scalar_one()
        said = (await session.execute(select(Message).where(Message.conversation_id == conversation.id))).scalar_one()
        kept = (await session.execute(select(Contact).where(Contact.key == "direct-contact"))).scalar_one()
    assert (stored.group, stored.queued_at, stored.triage) == ("parent", queued, {"flags": ["self_harm"], "group": "parent"})
    assert stored.triage_state == {"step": "start"} and stored.state == "triage"
    assert said.meta == {"choices": [["1", "Ja"]]} and said.created_at.tzinfo is not None
    assert kept.prefs == {"quiet": "22-07"} and kept.last_seen_at.tzinfo is not None


async def test_an_update_of_a_row_that_is_gone_fails(server: RunningServer) -> None:
    """As the ORM's flush would (StaleDataError): a conversation deleted meanwhile is not silently
    left unchanged."""
    pipeline = server.app[appkeys.PIPELINE]
    version = pipeline.scripts.for_new_conversation().script.version
    with pytest.raises(Exception, match="not there"):
        async with pipeline.conversations.change() as change:
            await sqlite_direct.of(change.session)
            contact = Contact(key="gone-contact", channel="sms")
            await direct_writes.insert_now(change.session, contact)
            conversation = await change.open(contact.id, "sms", version, {}, "sv")
            await change.session.execute(update(Conversation).where(Conversation.id == conversation.id)
                                         .values(id=conversation.id + 1000)
                                         .execution_options(synchronize_session=False))
            conversation.language = "en"
            await direct_writes.update_changed(change.session, [conversation])


def test_a_statement_with_an_expanding_in_is_refused_when_compiled() -> None:
    """Compiled once, an IN list could not be expanded per call: such a statement is refused."""
    from sqlalchemy.dialects import sqlite
    prepared = Prepared(select(Conversation.id).where(Conversation.state.in_(["triage", "queued"])))
    with pytest.raises(ValueError, match="expanding"):
        prepared._for(sqlite.dialect(paramstyle="qmark"))
