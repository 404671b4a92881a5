"""Post-chat feedback: two questions after a counsellor closes, answered with buttons (web chat,
provider buttons) or digits (SMS); the answers fill in the statistics row only, never a message a
counsellor could read, and open no new conversation."""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import func, select

from lotsa import appkeys
from lotsa.channels import OutboundMessage
from lotsa.models import Conversation, Message, StatisticsRecord
from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer

WRAPUP = {"outcome": "supported"}


async def _close_the_waiting_one(server: RunningServer) -> int:
    anna = ConsoleClient(server.url)
    try:
        await anna.login("anna", PASSWORD)
        [waiting] = (await anna.queue())["waiting"]
        assert await anna.claim(waiting["id"]) == 200
        assert await anna.close_conversation(waiting["id"], WRAPUP) == 200
        return int(waiting["id"])
    finally:
        await anna.close()


async def _arrives(server: RunningServer, phone: str, predicate: Callable[[OutboundMessage], bool]) -> OutboundMessage:
    for _ in range(100):
        found = [m for m in server.memory.sent[phone] if predicate(m)]
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"never sent: {[m.text for m in server.memory.sent[phone]]}")


async def _row(server: RunningServer) -> StatisticsRecord:
    async with server.app[appkeys.DB].read() as session:
        return (await session.execute(select(StatisticsRecord))).scalar_one()


async def test_buttons_and_digits_answer_into_statistics_only(any_server: RunningServer) -> None:
    server, phone = any_server, "+46700000401"
    await server.add_staff("anna")
    await server.memory.write(phone, "jag är 15 och säljer sex")   # acute: straight to the queue
    conversation_id = await _close_the_waiting_one(server)
    question = await _arrives(server, phone, lambda m: any(c.startswith("feedback_") for c, _ in m.choices))
    assert question.text == "Fick du den hjälp du behövde?"
    assert [c for c, _ in question.choices] == ["feedback_helped_yes", "feedback_helped_partly", "feedback_helped_no"]

    await server.memory.write(phone, choice="feedback_helped_partly")          # a button
    again = await _arrives(server, phone, lambda m: m.text == "Skulle du kontakta oss igen?")
    assert [c for c, _ in again.choices] == ["feedback_again_yes", "feedback_again_no"]
    await server.memory.write(phone, "2")                                      # a digit, as on SMS: 2 = no
    thanks = await _arrives(server, phone, lambda m: m.text.startswith("Tack för ditt svar"))
    assert not thanks.choices
    await server.memory.write(phone, choice="feedback_again_yes")              # pressed again later: ignored

    row = await _row(server)
    assert (row.feedback_helped, row.feedback_again) == ("partly", "no")
    async with server.app[appkeys.DB].read() as session:
        assert await session.scalar(select(func.count(Conversation.id))) == 1, "no new conversation"
        said = (await session.execute(select(Message.text).where(Message.conversation_id == conversation_id,
                                                                  Message.direction == "in"))).scalars().all()
    assert "partly" not in " ".join(said) and "2" not in said, "the answers are not in the transcript"

    await server.memory.write(phone, "hej igen")   # writing afterwards starts a new conversation, as before
    async with server.app[appkeys.DB].read() as session:
        assert await session.scalar(select(func.count(Conversation.id))) == 2


async def test_the_web_chat_asks_with_buttons_then_greets_again(server: RunningServer) -> None:
    await server.add_staff("anna")
    contact = ChatClient(server.url, lang="sv")
    try:
        await contact.connect()
        await contact.wait_for(lambda f: f["type"] == "message" and f["id"] is None)
        await contact.say("jag är 15 och säljer sex")
        await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued")
        await _close_the_waiting_one(server)
        asked = await contact.wait_for(lambda f: f["type"] == "message" and
                                       any(c["id"] == "feedback_helped_yes" for c in f["choices"]))
        assert asked["author"] == "bot"
        seen: list[dict[str, object]] = []
        await contact.wait_for(lambda f: seen.append(f) or (f["type"] == "state" and f["state"] == "closed"))
        await contact.choose("feedback_helped_yes")
        await contact.wait_for(lambda f: seen.append(f) or (f["type"] == "message" and
                               any(c["id"] == "feedback_again_yes" for c in f["choices"])))
        await contact.choose("feedback_again_yes")
        await contact.wait_for(lambda f: seen.append(f) or (f["type"] == "message" and
                               str(f["text"]).startswith("Tack för ditt svar")))
        assert not [f for f in seen if f["type"] == "message" and f["id"] is None], "no greeting over the questions"
        await contact.wait_for(lambda f: f["type"] == "message" and f["id"] is None)   # then a new start
    finally:
        await contact.close()
    row = await _row(server)
    assert (row.feedback_helped, row.feedback_again) == ("yes", "yes")


def test_feedback_texts_fit_gsm7_where_the_language_allows() -> None:
    """Swedish, English and Romanian (written without diacritics) stay in one cheap SMS alphabet;
    Bulgarian is Cyrillic and cannot."""
    from pathlib import Path

    from bot.sms_segments import is_gsm7
    from lotsa.texts import Catalogue

    catalogue = Catalogue.load(Path(__file__).resolve().parent.parent / "config" / "texts")
    for lang in ("sv", "en", "ro", "bg"):
        texts = catalogue.section("feedback", lang)
        assert set(texts) == {"helped", "again", "yes", "partly", "no", "thanks"}, lang
        assert catalogue.has("feedback.helped", lang), f"{lang}.yaml asks the questions in its own language"
        if lang != "bg":
            odd = [text for text in texts.values() if not is_gsm7(text)]
            assert not odd, (lang, odd)
