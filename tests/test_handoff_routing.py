"""Routing over the real server, on SQLite and PostgreSQL: risk-then-wait order, "take next",
skills, capacity, atomic claims under concurrency, drop-off requeue, transfer with a note, private
notes, the wrap-up before closing, and roles on every handoff route."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from handoff.dropoff import heartbeat, requeue_dropped
from lotsa import appkeys
from lotsa.models import Conversation, StaffUser, WrapUp, utcnow
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer

LANGUAGE = {"sv": "1", "en": "2"}
GROUP = {"sells": "1", "buys": "2", "relative": "3", "professional": "4", "other": "5"}


async def triaged(server: RunningServer, address: str, lang: str = "en", group: str = "sells") -> int:
    """A person on the in-memory channel answers the triage; returns their conversation id."""
    await server.memory.write(address, "hello")
    await server.memory.write(address, LANGUAGE[lang])
    await server.memory.write(address, GROUP[group])
    accepted = await server.memory.write(address, "skip")
    return accepted.conversation_id


async def console(server: RunningServer, name: str, role: str = "counsellor", **skills: object) -> ConsoleClient:
    await server.add_staff(name, role, **skills)
    client = ConsoleClient(server.url)
    await client.login(name, PASSWORD)
    return client


async def conversation(server: RunningServer, conversation_id: int) -> Conversation:
    async with server.app[appkeys.DB].read() as session:
        found = await session.get(Conversation, conversation_id)
    assert found is not None
    return found


async def test_take_next_goes_by_risk_then_waiting_time(any_server: RunningServer) -> None:
    older = await triaged(any_server, "+46700000201")
    newer = await triaged(any_server, "+46700000202")
    await any_server.memory.write("+46700000203", "hjälp han slår mig nu")   # acute: skips triage
    acute = (await any_server.memory.write("+46700000203", "snälla")).conversation_id
    anna = await console(any_server, "anna", max_chats=5)
    try:
        waiting = (await anna.queue())["waiting"]
        assert [c["id"] for c in waiting] == [acute, older, newer]
        taken = []
        for _ in range(3):
            status, body = await anna.take_next()
            assert status == 200
            taken.append(body["conversation"]["id"])
        assert taken == [acute, older, newer]
        assert await anna.take_next() == (200, {"conversation": None})
    finally:
        await anna.close()


async def test_skills_decide_what_a_counsellor_may_take(any_server: RunningServer) -> None:
    english_sells = await triaged(any_server, "+46700000211", lang="en", group="sells")
    swedish_buys = await triaged(any_server, "+46700000212", lang="sv", group="buys")
    bo = await console(any_server, "bo", languages=["sv"], queues=["buys", "relatives"])
    sara = await console(any_server, "sara", "supervisor", languages=["sv"], queues=["buys"])
    try:
        waiting = {c["id"]: c for c in (await bo.queue())["waiting"]}
        assert (waiting[english_sells]["can_take"], waiting[swedish_buys]["can_take"]) == (False, True)
        status, body = await bo.post(f"/api/console/conversations/{english_sells}/claim")
        assert (status, body["error"]) == (403, "not_skilled")
        status, body = await bo.take_next()
        assert status == 200 and body["conversation"]["id"] == swedish_buys
        assert await bo.take_next() == (200, {"conversation": None})   # the English one is not for bo
        assert await sara.claim(english_sells) == 200                   # a supervisor may take any
    finally:
        await bo.close()
        await sara.close()


async def test_capacity_limits_simultaneous_chats(any_server: RunningServer) -> None:
    for n in range(3):
        await triaged(any_server, f"+4670000022{n}")
    anna = await console(any_server, "anna", max_chats=2)
    try:
        assert (await anna.take_next())[0] == 200
        assert (await anna.take_next())[0] == 200
        status, body = await anna.take_next()
        assert (status, body["error"]) == (409, "at_capacity")
        third = (await anna.queue())["waiting"][0]["id"]
        status, body = await anna.post(f"/api/console/conversations/{third}/claim")
        assert (status, body["error"]) == (409, "at_capacity")
        frame = await anna.connect()
        assert (frame["me"]["chats"], frame["me"]["max_chats"], frame["me"]["presence"]) == (2, 2, "busy")
    finally:
        await anna.close()


async def test_many_counsellors_take_next_at_once_and_one_gets_it(any_server: RunningServer) -> None:
    only = await triaged(any_server, "+46700000231")
    clients = [await console(any_server, f"c{n}") for n in range(8)]
    try:
        answers = await asyncio.gather(*(c.take_next() for c in clients))
        winners = [body["conversation"]["id"] for status, body in answers if status == 200 and body["conversation"]]
        assert winners == [only]
        assert all(status == 200 for status, _ in answers)
        assert (await conversation(any_server, only)).state == "active"
    finally:
        for client in clients:
            await client.close()


async def test_a_counsellor_who_drops_off_gets_their_chats_requeued_first_in_line(any_server: RunningServer) -> None:
    waiting_long = await triaged(any_server, "+46700000241")
    held = await triaged(any_server, "+46700000242")
    anna = await console(any_server, "anna")
    bo = await console(any_server, "bo")
    conversations = any_server.app[appkeys.CONVERSATIONS]
    try:
        assert await anna.claim(held) == 200
        assert await bo.claim(waiting_long) == 200
        await bo.connect()   # bo's console stays open; anna closes hers
        # Bo took his chat first, so its "not seen since" is older: but his open socket keeps him present.
        async with any_server.app[appkeys.DB].read() as session:
            anna_id = (await session.execute(select(StaffUser.id).where(StaffUser.name == "anna"))).scalar_one()
        await heartbeat(any_server.app[appkeys.DB], anna_id, utcnow() - timedelta(minutes=10))
        # Every worker process sweeps: two sweeps at once hand the conversation back exactly once.
        swept = await asyncio.gather(*(requeue_dropped(conversations, timedelta(minutes=2)) for _ in range(3)))
        assert sorted(sum(swept, [])) == [held]
        assert await requeue_dropped(conversations, timedelta(minutes=2)) == []
        again = await conversation(any_server, held)
        assert (again.state, again.counsellor_id, again.line_rank) == ("queued", None, 0)

        later = await triaged(any_server, "+46700000243")
        waiting = (await bo.queue())["waiting"]
        assert [c["id"] for c in waiting] == [held, later] and waiting[0]["front"]
        told = await bo.conversation(held)
        assert "The counsellor lost their connection" in told["messages"][-1]["text"]
        detail = await bo.conversation(held)
        assert [n["kind"] for n in detail["notes"]] == ["returned"]
    finally:
        await anna.close()
        await bo.close()


async def test_transfer_to_a_queue_and_to_a_colleague_with_a_note(any_server: RunningServer) -> None:
    talk = await triaged(any_server, "+46700000251", group="sells")
    other = await triaged(any_server, "+46700000252", group="sells")
    anna = await console(any_server, "anna")
    bo = await console(any_server, "bo", queues=["relatives"])
    cia = await console(any_server, "cia")
    try:
        assert await anna.claim(talk) == 200
        assert await anna.transfer(talk, "", queue="relatives") == (400, {
            "error": "note_required", "message": "Write a note for the next counsellor."})
        status, _ = await bo.transfer(talk, "mine now", to="bo")
        assert status == 403   # only the holder (or a supervisor) may move it
        status, body = await anna.transfer(talk, "Her mother wrote first; she asks about the law.", queue="relatives")
        assert status == 200 and body["conversation"] == {"id": talk, "state": "queued", "queue": "relatives"}

        status, body = await bo.take_next()
        assert status == 200 and body["conversation"]["id"] == talk   # bo takes only relatives
        detail = await bo.conversation(talk)
        [note] = detail["notes"]
        assert note["kind"] == "transfer" and note["author_name"] == "anna"
        assert "she asks about the law" in note["text"] and "relatives" in note["text"]

        status, _ = await bo.transfer(talk, "Cia knows the return programmes.", to="cia")
        assert status == 200
        moved = await conversation(any_server, talk)
        assert (moved.state, moved.counsellor_id is not None) == ("active", True)
        assert len((await cia.conversation(talk))["notes"]) == 2
        assert (await cia.queue())["mine"][0]["id"] == talk
        assert other in [c["id"] for c in (await cia.queue())["waiting"]]
        texts = [m.text for m in any_server.memory.sent["+46700000251"]]
        assert not any("Cia knows" in t or "the law" in t for t in texts)   # notes never reach the person
    finally:
        for client in (anna, bo, cia):
            await client.close()


async def test_notes_are_private_and_live_for_the_holder(any_server: RunningServer) -> None:
    held = await triaged(any_server, "+46700000261")
    anna = await console(any_server, "anna")
    bo = await console(any_server, "bo")
    try:
        assert await anna.claim(held) == 200
        await anna.connect()
        status, body = await anna.note(held, "Mentions a debt of 40 000 kr to the man who drives her.")
        assert status == 201 and body["note"]["author_name"] == "anna"
        frame = await anna.wait_for(lambda f: f["type"] == "note")
        assert frame["conversation"] == held and "debt" in frame["note"]["text"]
        assert (await bo.note(held, "not mine"))[0] == 403
        assert (await anna.note(held, "   "))[0] == 400
        texts = [m.text for m in any_server.memory.sent["+46700000261"]]
        assert not any("debt" in t for t in texts)
    finally:
        await anna.close()
        await bo.close()


async def test_closing_needs_a_wrap_up(any_server: RunningServer) -> None:
    held = await triaged(any_server, "+46700000271")
    anna = await console(any_server, "anna")
    try:
        assert await anna.claim(held) == 200
        assert await anna.close_conversation(held, {}) == 400
        assert await anna.close_conversation(held, {"outcome": "great"}) == 400
        assert await anna.close_conversation(held, {"outcome": "referred", "referrals": ["nowhere"]}) == 400
        assert await anna.close_conversation(held, {"outcome": "referred", "referrals": ["mikamottagning", "kast"],
                                                    "needs": ["exit", "health"]}) == 200
        async with any_server.app[appkeys.DB].read() as session:
            wrapup = await session.get(WrapUp, held)
        assert wrapup is not None
        assert (wrapup.outcome, wrapup.referrals, wrapup.needs) == ("referred", ["kast", "mikamottagning"],
                                                                    ["exit", "health"])
        assert (await conversation(any_server, held)).state == "closed"
    finally:
        await anna.close()


async def test_roles_are_enforced_on_the_handoff_routes(any_server: RunningServer) -> None:
    held = await triaged(any_server, "+46700000281")
    anna = await console(any_server, "anna")
    sara = await console(any_server, "sara", "supervisor")
    stranger = ConsoleClient(any_server.url)
    try:
        assert (await anna.get("/api/console/overview"))[0] == 403
        status, body = await sara.get("/api/console/overview")
        assert status == 200 and {p["name"] for p in body["staff"]} == {"anna", "sara"}
        assert (await stranger.get("/api/console/overview"))[0] == 401
        assert (await stranger.get("/api/console/directory"))[0] == 401
        for path in ("/api/console/next", "/api/console/presence", f"/api/console/conversations/{held}/notes",
                     f"/api/console/conversations/{held}/transfer"):
            assert (await stranger.post(path, {}))[0] == 401
        anna.csrf = "forged"
        for path in ("/api/console/next", "/api/console/presence", f"/api/console/conversations/{held}/transfer"):
            assert (await anna.post(path, {}))[0] == 403
        # A supervisor reassigns: from the queue straight to a colleague, with or without a note.
        status, _ = await sara.transfer(held, "", to="anna")
        assert status == 200
        assert (await conversation(any_server, held)).state == "active"
        status, body = await sara.post("/api/console/presence", {"presence": "away"})
        assert (status, body) == (200, {"presence": "away"})
        assert (await sara.post("/api/console/presence", {"presence": "asleep"}))[0] == 400
    finally:
        for client in (anna, sara, stranger):
            await client.close()
