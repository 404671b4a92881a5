"""The place in line is read once per change for every waiting page (O(waiting) per change), and
agrees with each conversation's own count of who is ahead."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from lotsa import appkeys
from lotsa.models import Conversation, ConversationState
from lotsa.waiting_line import read_line
from lotsa_testing.clients import ConsoleClient, waiting_chat
from lotsa_testing.queue import queue_position
from lotsa_testing.server import PASSWORD, RunningServer


async def test_one_read_per_change_is_shared_by_every_waiting_page(server: RunningServer) -> None:
    contacts = [await waiting_chat(server.url) for _ in range(6)]
    await server.add_staff("anna", max_chats=10)
    anna = ConsoleClient(server.url)
    try:
        await anna.login("anna", PASSWORD)
        await asyncio.sleep(0.5)
        assert [c.position for c in contacts] == [1, 2, 3, 4, 5, 6]
        line = server.app[appkeys.PIPELINE].line
        assert line.watched == 6   # the pages watch the shared line instead of each following the queue
        reads_before = line.reads
        status, _ = await anna.take_next()
        assert status == 200
        for place, contact in enumerate(contacts[1:], start=1):
            await contact.wait_for(lambda f, p=place: f["type"] == "state" and f["position"] == p)
        await asyncio.sleep(0.5)
        assert line.reads - reads_before <= 2   # not one per waiting page
        assert line.watched == 5   # the one taken no longer waits
    finally:
        await anna.close()
        for contact in contacts:
            await contact.close()


async def test_the_shared_line_agrees_with_each_conversations_own_count(any_server: RunningServer) -> None:
    texts = {"+46700000601": "hej", "+46700000602": "han slår mig nu", "+46700000603": "hej",
             "+46700000604": "jag vill dö", "+46700000605": "hej"}
    for address, first in texts.items():
        for text in (first, "2", "1", "skip"):
            await any_server.memory.write(address, text)
    db = any_server.app[appkeys.DB]
    line = await read_line(db, 0)
    async with db.read() as session:
        waiting = (await session.execute(select(Conversation).where(
            Conversation.state == ConversationState.QUEUED))).scalars().all()
        assert len(waiting) == len(line.places) >= 3
        for conversation in waiting:
            place = line.place(conversation.id)
            assert place is not None and place.queue == conversation.queue
            assert place.position == await queue_position(session, conversation)
