"""Abuse: flood protection per contact, and a supervisor blocking a pseudonymous contact."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lotsa import appkeys
from lotsa.errors import Refused
from lotsa.models import Conversation, ConversationState, Message
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server


async def inbound_texts(server: RunningServer, conversation_id: int) -> list[str]:
    """What the contact wrote in the conversation, as stored, oldest first."""
    async with server.app[appkeys.DB].read() as session:
        return list((await session.scalars(select(Message.text).where(
            Message.conversation_id == conversation_id, Message.direction == "in").order_by(Message.id))).all())


async def conversation_state(server: RunningServer, conversation_id: int) -> str:
    async with server.app[appkeys.DB].read() as session:
        return (await session.get(Conversation, conversation_id)).state


async def test_a_flood_from_one_contact_is_refused_others_still_get_through(tmp_path: Path,
                                                                           database_url: str) -> None:
    test_server, server = await start_server(make_settings(tmp_path, database_url, contact_messages_per_minute=5))
    try:
        flooder = [await server.memory.write("+46700000009", f"meddelande {i}") for i in range(5)]
        with pytest.raises(Refused) as refused:
            await server.memory.write("+46700000009", "ett till")
        assert refused.value.code == "rate"
        other = await server.memory.write("+46700000010", "hej")

        [flooded] = {accepted.conversation_id for accepted in flooder}
        assert await inbound_texts(server, flooded) == [f"meddelande {i}" for i in range(5)]   # the sixth: not kept
        assert not other.duplicate and other.conversation_id != flooded
        assert await inbound_texts(server, other.conversation_id) == ["hej"]
    finally:
        await test_server.close()


async def test_supervisor_blocks_a_contact_for_a_while(any_server: RunningServer) -> None:
    """Only a supervisor may block; the block closes the open conversation and refuses the contact
    until it is lifted, after which what they write is taken again (in a new conversation)."""
    await any_server.add_staff("sara", role="supervisor")
    await any_server.add_staff("carl")
    conversation_id = (await any_server.memory.write("+46700000011", "du är dum")).conversation_id
    sara, carl = ConsoleClient(any_server.url), ConsoleClient(any_server.url)
    try:
        await sara.login("sara", PASSWORD)
        await carl.login("carl", PASSWORD)
        path = f"/api/console/conversations/{conversation_id}/block"
        assert (await carl.post(path, {"hours": 24}))[0] == 403
        for bad in ({"hours": 0}, {"hours": "24"}, {"hours": 100000}, []):
            async with sara.session.post(any_server.url + path, json=bad, headers=sara._headers()) as r:
                assert r.status == 400
        assert await conversation_state(any_server, conversation_id) != ConversationState.CLOSED

        status, blocked = await sara.post(path, {"hours": 24})
        assert status == 200
        until = datetime.fromisoformat(blocked["blocked_until"]).replace(tzinfo=UTC)
        assert until - datetime.now(UTC) == pytest.approx(timedelta(hours=24), abs=timedelta(minutes=5))
        assert await conversation_state(any_server, conversation_id) == ConversationState.CLOSED
        with pytest.raises(Refused) as refused:
            await any_server.memory.write("+46700000011", "hallå?")
        assert refused.value.code == "blocked"

        assert (await sara.post(path.replace("/block", "/unblock")))[0] == 200
        again = await any_server.memory.write("+46700000011", "förlåt")
        assert not again.duplicate and again.conversation_id != conversation_id
        assert await inbound_texts(any_server, conversation_id) == ["du är dum"]   # "hallå?" was not kept
        assert await inbound_texts(any_server, again.conversation_id) == ["förlåt"]
    finally:
        await sara.close()
        await carl.close()
