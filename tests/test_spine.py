"""The spine, end to end over the real server: web chat -> triage -> queue -> console."""
from __future__ import annotations

import asyncio

from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer


async def _contact_through_triage(url: str, lang: str = "en", group: str = "sells") -> ChatClient:
    contact = ChatClient(url, lang=lang)
    welcome = await contact.connect()
    assert welcome["state"] == "new"
    greeting = await contact.wait_for(lambda f: f["type"] == "message" and f["id"] is None)
    assert {c["id"] for c in greeting["choices"]} >= {"sv", "en", "human"}
    await contact.choose(lang)
    who = await contact.wait_for(lambda f: f["type"] == "message" and f["author"] == "bot"
                                 and any(c["id"] == group for c in f["choices"]))
    assert "human" in {c["id"] for c in who["choices"]}
    await contact.choose(group)
    await contact.wait_for(lambda f: f["type"] == "message" and any(c["id"] == "skip" for c in f["choices"]))
    await contact.choose("skip")
    await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued")
    return contact


async def test_contact_reaches_counsellor_and_second_claim_is_refused(any_server: RunningServer) -> None:
    await any_server.add_staff("anna")
    await any_server.add_staff("bo")
    contact = await _contact_through_triage(any_server.url)
    assert contact.position == 1
    cid = await contact.say("I need to talk to someone tonight")
    await contact.wait_acked(cid)

    anna, bo = ConsoleClient(any_server.url), ConsoleClient(any_server.url)
    try:
        await anna.login("anna", PASSWORD)
        await bo.login("bo", PASSWORD)
        queue = await anna.queue()
        [waiting] = queue["waiting"]
        assert waiting["group"] == "sells" and waiting["queue"] == "sells" and waiting["risk"] == "routine"
        assert waiting["pseudonym"].startswith("Kontakt ")
        await anna.connect()

        assert await anna.claim(waiting["id"]) == 200
        assert await bo.claim(waiting["id"]) == 409
        await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "active")

        detail = await anna.conversation(waiting["id"])
        assert "I need to talk to someone tonight" in [m["text"] for m in detail["messages"]]

        await anna.send(waiting["id"], "Hi, my name is Anna. I am here now.")
        frame = await contact.wait_for(lambda f: f["type"] == "message" and f["author"] == "counsellor")
        assert frame["text"] == "Hi, my name is Anna. I am here now."
        assert frame["author_name"] is None  # a counsellor's account name never reaches the contact

        await contact.say("Thank you")
        live = await anna.wait_for(lambda f: f["type"] == "message" and f["message"]["author"] == "contact"
                                   and f["message"]["text"] == "Thank you")
        assert live["conversation"] == waiting["id"]

        assert await anna.close_conversation(waiting["id"]) == 200
        await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "closed")
    finally:
        await contact.close()
        await anna.close()
        await bo.close()


async def test_many_counsellors_claiming_at_once_exactly_one_wins(any_server: RunningServer) -> None:
    contact = await _contact_through_triage(any_server.url, group="relative")
    names = [f"c{n}" for n in range(8)]
    for name in names:
        await any_server.add_staff(name)
    clients = [ConsoleClient(any_server.url) for _ in names]
    try:
        for client, name in zip(clients, names, strict=True):
            await client.login(name, PASSWORD)
        [waiting] = (await clients[0].queue())["waiting"]
        statuses = await asyncio.gather(*(c.claim(waiting["id"]) for c in clients))
        assert sorted(statuses) == [200] + [409] * (len(names) - 1)
    finally:
        await contact.close()
        for client in clients:
            await client.close()


async def test_reload_resumes_the_same_conversation(server: RunningServer) -> None:
    contact = await _contact_through_triage(server.url, lang="sv", group="buys")
    cid = await contact.say("Jag vill sluta")
    await contact.wait_acked(cid)
    # The ack and the message's own frame travel separately: wait for both.
    await contact.wait_for(lambda f: f["type"] == "message" and f.get("cid") == cid)
    before = contact.texts()
    await contact.disconnect()

    resumed = ChatClient(server.url, lang="sv", token=contact.token)
    try:
        welcome = await resumed.connect()
        assert welcome["state"] == "queued"
        await resumed.wait_for(lambda f: f["type"] == "state")
        # A fresh page shows the stored greeting first; the first page had shown it before it was stored.
        assert resumed.texts()[0].startswith("Hej!") and resumed.texts()[1:] == before
        assert not any(t.startswith("Hej!") for t in before)
        assert resumed.greeting == []  # no second greeting for a conversation already under way
    finally:
        await resumed.close()
        await contact.close()


async def test_unacknowledged_message_is_sent_again_and_stored_once(server: RunningServer) -> None:
    contact = await _contact_through_triage(server.url)
    await contact.say("first")
    await contact.say("second")
    # The page lost the acks (a dropped connection): it reconnects and sends both again.
    contact.pending.update({f"again{n}": f for n, f in enumerate(contact.pending.values())})
    await contact.disconnect()
    for cid, frame in list(contact.pending.items()):
        contact.pending[cid] = frame
    await contact.connect()
    await asyncio.sleep(0.5)
    try:
        assert contact.texts("contact").count("first") == 1
        assert contact.texts("contact").count("second") == 1
    finally:
        await contact.close()
