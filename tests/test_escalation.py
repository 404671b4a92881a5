"""Red flags are checked on every message: risk rises at once, the queue re-orders, the
counsellor sees why; an acute flag during triage skips the rest of it."""
from __future__ import annotations

from sqlalchemy import select

from lotsa import appkeys
from lotsa.models import Conversation
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer


async def _conversations(server: RunningServer) -> list[Conversation]:
    async with server.app[appkeys.DB].read() as session:
        return list((await session.execute(select(Conversation).order_by(Conversation.id))).scalars())


async def _triaged(server: RunningServer, address: str, language: str = "2", group: str = "1") -> None:
    memory = server.memory
    await memory.write(address, "hello")
    await memory.write(address, language)
    await memory.write(address, group)
    await memory.write(address, "skip")


async def test_a_red_flag_in_a_later_message_raises_risk_and_reorders_the_queue(server: RunningServer) -> None:
    await server.add_staff("anna")
    await _triaged(server, "+46700000101")
    await _triaged(server, "+46700000102")
    anna = ConsoleClient(server.url)
    try:
        await anna.login("anna", PASSWORD)
        await anna.connect()
        first, second = (await anna.queue())["waiting"]
        assert (first["risk"], second["risk"]) == ("routine", "routine")

        await server.memory.write("+46700000102", "actually i'm only 15 and he took my passport")
        frame = await anna.wait_for(lambda f: f["type"] == "queue" and f["waiting"][0]["risk"] == "acute")
        top = frame["waiting"][0]
        assert top["id"] == second["id"] and top["queue"] == "acute"
        assert set(top["flags"]) >= {"minor", "trafficking"}
        assert any("15" in w for w in top["flag_words"]) and any("passport" in w for w in top["flag_words"])
    finally:
        await anna.close()


async def test_an_acute_first_message_skips_triage_and_gives_112_first(server: RunningServer) -> None:
    await server.memory.write("+46700000103", "hjälp han slår mig nu och jag är 16")
    sent = await server.memory.wait_for("+46700000103", 2)
    assert "112" in sent[-1].text
    [conversation] = await _conversations(server)
    assert (conversation.state, conversation.risk, conversation.queue) == ("queued", "acute", "acute")
    assert {"immediate_danger", "minor"} <= set(conversation.triage["flags"])


async def test_risk_raised_while_a_counsellor_holds_the_conversation(server: RunningServer) -> None:
    await server.add_staff("anna")
    await _triaged(server, "+46700000104", group="3")
    anna = ConsoleClient(server.url)
    try:
        await anna.login("anna", PASSWORD)
        await anna.connect()
        [waiting] = (await anna.queue())["waiting"]
        assert await anna.claim(waiting["id"]) == 200
        await server.memory.write("+46700000104", "i cant do this anymore i want to die")
        frame = await anna.wait_for(lambda f: f["type"] == "queue" and f["mine"] and f["mine"][0]["risk"] == "acute")
        assert "suicide" in frame["mine"][0]["flags"]
        detail = await anna.conversation(waiting["id"])
        assert "i cant do this anymore i want to die" in [m["text"] for m in detail["messages"]]
    finally:
        await anna.close()


async def test_risk_never_goes_down(server: RunningServer) -> None:
    await _triaged(server, "+46700000105")
    await server.memory.write("+46700000105", "jag är 15")
    await server.memory.write("+46700000105", "förlåt, jag är 25 egentligen")
    [conversation] = await _conversations(server)
    assert conversation.risk == "acute"


async def test_the_classifier_fills_in_the_group_the_person_did_not_choose(server: RunningServer) -> None:
    memory = server.memory
    await memory.write("+46700000106", "hej")
    await memory.write("+46700000106", "0")   # talk to someone now: no group chosen
    await memory.write("+46700000106", "i want to stop buying sex, my wife found out")
    [conversation] = await _conversations(server)
    assert conversation.state == "queued"
    assert conversation.triage["detected"]["group"] == "buys"
    assert (conversation.group, conversation.queue, conversation.triage["group_source"]) == ("buys", "buys", "classifier")


async def test_the_counsellor_sees_why_in_the_persons_own_words(server: RunningServer) -> None:
    """Flag reasons quote the message as written ("jag är 16", not the folded "jag ar 16") with a reason
    in the counsellor's language, never a model score."""
    await server.add_staff("anna")
    await server.memory.write("+46700000106", "jag är 16 och en man betalar mig för att ses")
    [conversation] = await _conversations(server)
    assert conversation.risk == "acute"
    anna = ConsoleClient(server.url)
    try:
        await anna.login("anna", PASSWORD)
        detail = (await anna.conversation(conversation.id))["conversation"]
        reasons = {(r["flag"], r["reason"]): r for r in detail["flag_reasons"]}
        minor = reasons[("minor", "age_under_18")]
        assert minor["words"] == "jag är 16" and minor["text"] == "uppger ålder under 18"
        assert "betalar mig" in reasons[("trafficking", "paid_meetings")]["words"]
        assert detail["possible_flags"] == [] and not any("model" in r["text"] for r in detail["flag_reasons"])
    finally:
        await anna.close()


async def test_a_possible_flag_changes_neither_risk_nor_queue(server: RunningServer) -> None:
    """The classifier alone, with no words in the message to back it, only makes a flag possible."""
    await _triaged(server, "+46700000107")
    await server.memory.write("+46700000107", "they watch me all the time")
    [conversation] = await _conversations(server)
    assert conversation.risk == "routine" and conversation.queue != "acute"
    assert conversation.triage["flags"] == [] and conversation.triage["possible_flags"] == ["trafficking"]
    assert conversation.triage["flag_reasons"] == [{"flag": "trafficking", "reason": "classifier_only", "words": ""}]
