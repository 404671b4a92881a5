"""The outbox relay marks a round's outcomes together: what each item ends as (sent, retried,
deferred behind an earlier one, dead), what a crash between sending and marking leaves, and the
order per person. Driven round by round against a provider the test controls, on SQLite and
PostgreSQL."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from lotsa import appkeys
from lotsa.channels import DeliveryError, OutboundMessage, PermanentDeliveryError
from lotsa.models import Conversation, Message, OutboxItem, OutboxState
from lotsa.outbox import MAX_ATTEMPTS, OutboxRelay
from lotsa_testing.memory import MemoryChannel
from lotsa_testing.server import RunningServer


class Provider(MemoryChannel):
    """A provider that takes every message at once unless told otherwise for a text: fail it (once per
    error given) or take it and never answer (as when the service is killed mid-send)."""

    def __init__(self, running: RunningServer) -> None:
        super().__init__(running.app[appkeys.PIPELINE])
        self.got: list[OutboundMessage] = []
        self.errors: dict[str, list[Exception]] = {}
        self.hang: set[str] = set()
        self.hanging = asyncio.Event()

    async def send(self, message: OutboundMessage) -> str | None:
        self.got.append(message)
        if self.errors.get(message.text):
            raise self.errors[message.text].pop(0)
        if message.text in self.hang:
            self.hanging.set()
            await asyncio.Event().wait()
        return f"p-{message.idempotency_key[:8]}"

    def texts(self) -> list[str]:
        return [m.text for m in self.got]


@pytest.fixture
async def running(any_server: RunningServer) -> AsyncIterator[RunningServer]:
    """The server with its own relay stopped: the tests drive rounds of relays of their own."""
    any_server.app[appkeys.OUTBOX].stop()
    await asyncio.sleep(0.4)
    yield any_server


async def _person(running: RunningServer, address: str, texts: list[str]) -> int:
    """A person writes once (the greeting waits in the outbox), then `texts` are written to them:
    their conversation's id."""
    await running.memory.write(address, "hej")
    async with running.app[appkeys.DB].write() as session:
        conversation = (await session.execute(select(Conversation).order_by(Conversation.id.desc()))).scalars().first()
        assert conversation is not None
        for text in texts:
            message = Message(conversation_id=conversation.id, channel="memory", direction="out", author="system",
                              text=text, meta={})
            session.add(message)
            await session.flush()
            session.add(OutboxItem(message_id=message.id, conversation_id=conversation.id, channel="memory",
                                   idempotency_key=uuid.uuid4().hex))
        return conversation.id


async def _items(running: RunningServer, conversation_id: int) -> list[dict[str, Any]]:
    async with running.app[appkeys.DB].read() as session:
        rows = (await session.execute(
            select(Message.text, OutboxItem.state, OutboxItem.attempts, OutboxItem.next_attempt_at,
                   OutboxItem.leased_until, OutboxItem.last_error, OutboxItem.provider_message_id)
            .join(Message, OutboxItem.message_id == Message.id)
            .where(OutboxItem.conversation_id == conversation_id).order_by(OutboxItem.id))).all()
    return [row._asdict() for row in rows]


def _relay(running: RunningServer, provider: Provider, lease: timedelta = timedelta(seconds=60)) -> OutboxRelay:
    return OutboxRelay(running.app[appkeys.DB], running.app[appkeys.KEYRING], {"memory": provider}, lease=lease)


def _commits(running: RunningServer) -> list[int]:
    counted = [0]

    @event.listens_for(running.app[appkeys.DB].engine.sync_engine, "commit")
    def _commit(*_: Any) -> None:
        counted[0] += 1

    return counted


async def test_a_failure_in_the_middle_of_a_round_holds_back_only_its_own_conversation(
        running: RunningServer) -> None:
    provider = Provider(running)
    ok = await _person(running, "+46700000101", ["ok 1", "ok 2"])
    flaky = await _person(running, "+46700000102", ["flaky 1", "flaky 2", "flaky 3"])
    refused = await _person(running, "+46700000103", ["refused 1", "refused 2"])
    worn = await _person(running, "+46700000104", ["worn 1"])
    async with running.app[appkeys.DB].write() as session:
        await session.execute(update(OutboxItem).where(OutboxItem.conversation_id == worn,
                                                       OutboxItem.message_id == select(Message.id).where(
                                                           Message.text == "worn 1").scalar_subquery())
                              .values(attempts=MAX_ATTEMPTS - 1))
    provider.errors = {"flaky 1": [DeliveryError("busy", retry_after=30)], "refused 1": [PermanentDeliveryError("no")],
                       "worn 1": [DeliveryError("busy")]}
    commits = _commits(running)

    assert await _relay(running, provider).deliver_due() == 12
    assert commits[0] <= 2, "the lease and the marks of the whole round: one or two transactions, not one per item"

    [greeting, ok1, ok2] = await _items(running, ok)
    assert [i["state"] for i in (greeting, ok1, ok2)] == ["sent"] * 3
    assert all(i["provider_message_id"].startswith("p-") and i["leased_until"] is None for i in (greeting, ok1, ok2))

    [greeting, flaky1, flaky2, flaky3] = await _items(running, flaky)
    assert greeting["state"] == "sent"
    assert (flaky1["state"], flaky1["attempts"], flaky1["last_error"]) == ("pending", 1, "temporary: busy")
    assert [(i["state"], i["attempts"]) for i in (flaky2, flaky3)] == [("pending", 0)] * 2
    assert flaky2["next_attempt_at"] == flaky3["next_attempt_at"] == flaky1["next_attempt_at"]
    assert all(i["leased_until"] is None for i in (flaky1, flaky2, flaky3))
    assert "flaky 2" not in provider.texts() and "flaky 3" not in provider.texts()

    [_, refused1, refused2] = await _items(running, refused)
    assert (refused1["state"], refused1["attempts"]) == ("dead", 1) and "PermanentDeliveryError" in refused1["last_error"]
    assert refused2["state"] == "sent", "a refused message does not hold back the next one"
    [_, worn1] = await _items(running, worn)
    assert (worn1["state"], worn1["attempts"]) == ("dead", MAX_ATTEMPTS)

    assert await _relay(running, provider).deliver_due() == 0, "what waits for its retry is not due yet"


async def test_a_crash_between_sending_and_marking_sends_again_in_doubt(running: RunningServer) -> None:
    provider = Provider(running)
    quick = await _person(running, "+46700000201", ["quick"])
    stuck = await _person(running, "+46700000202", ["stuck", "after stuck"])
    provider.hang = {"stuck"}
    lease = timedelta(seconds=1)

    round_ = asyncio.create_task(_relay(running, provider, lease).deliver_due())
    await asyncio.wait_for(provider.hanging.wait(), 10)
    for _ in range(100):     # the others' outcomes are stored while one send still hangs
        if [i["state"] for i in await _items(running, quick)] == ["sent", "sent"]:
            break
        await asyncio.sleep(0.05)
    assert [i["state"] for i in await _items(running, quick)] == ["sent", "sent"]
    round_.cancel()          # the service dies: the provider took "stuck", its answer never came
    with pytest.raises(asyncio.CancelledError):
        await round_
    [_, stuck_item, after] = await _items(running, stuck)
    assert (stuck_item["state"], stuck_item["leased_until"] is not None) == ("pending", True)
    assert after["state"] == "pending" and "after stuck" not in provider.texts()

    restarted = Provider(running)
    assert await _relay(running, restarted, lease).deliver_due() == 0, "leased: not sent again before the lease ends"
    await asyncio.sleep(lease.total_seconds() + 0.2)
    assert await _relay(running, restarted, lease).deliver_due() == 2
    again = restarted.got[0]
    assert again.text == "stuck" and again.in_doubt_since is not None, "sent again, flagged for the provider check"
    assert again.idempotency_key == next(m for m in provider.got if m.text == "stuck").idempotency_key
    assert restarted.texts() == ["stuck", "after stuck"]
    assert [i["state"] for i in await _items(running, stuck)] == ["sent", "sent", "sent"]


async def test_order_per_person_survives_retries_across_rounds(running: RunningServer) -> None:
    provider = Provider(running)
    texts = {address: [f"{address} {n}" for n in range(1, 6)] for address in ("+46700000301", "+46700000302")}
    for address, written in texts.items():
        await _person(running, address, written)
    provider.errors = {"+46700000301 2": [DeliveryError("busy", retry_after=0.05)] * 2,
                       "+46700000302 4": [DeliveryError("busy", retry_after=0.05)]}
    relay = _relay(running, provider)
    for _ in range(200):
        await relay.deliver_due()
        if len({m.idempotency_key for m in provider.got}) == 12:
            break
        await asyncio.sleep(0.02)
    tries = {"+46700000301": {1: 3}, "+46700000302": {3: 2}}    # the failing one, each try in turn
    for address, written in texts.items():
        delivered = [m.text for m in provider.got if m.address == address]
        expected = [text for n, text in enumerate(written) for _ in range(tries[address].get(n, 1))]
        assert delivered[1:] == expected, "nothing overtakes a message waiting for its retry"
    async with running.app[appkeys.DB].read() as session:
        states = (await session.execute(select(OutboxItem.state))).scalars().all()
    assert set(states) == {OutboxState.SENT} and len(states) == 12
