"""The web-chat side of `lotsa bench`: contacts in the chat, counsellors at their consoles.

- relay: N contacts go through triage, counsellors claim them, then every contact and counsellor
  writes at a steady pace; each message is timed from the moment it is sent to the moment the other
  side's WebSocket receives it (contact → console, counsellor → contact).
- burst: N contacts arrive in the same second and answer the triage questions; the time from the
  first arrival until the last one is queued.
Every triage answer is timed from sending it to the server's acknowledgement (stored, triaged).
"""
from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from lotsa_testing.clients import ChatClient, ConsoleClient

GROUPS = ("sells", "buys", "relative", "professional", "other")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _ms(values: list[float], p: float) -> float | None:
    return round(percentile(values, p) * 1000, 2) if values else None


class ChatPhases:
    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self.password = password
        self.triage_steps: list[float] = []
        self.sent_by_contacts: dict[str, float] = {}
        self.sent_by_staff: dict[str, float] = {}
        self.to_console: list[float] = []
        self.to_contact: list[float] = []

    async def _through_triage(self, contact: ChatClient, delay: float) -> None:
        await asyncio.sleep(delay)
        sent: dict[str, float] = {}

        def acked(frame: dict[str, Any]) -> None:
            if frame.get("type") == "ack" and frame.get("cid") in sent:
                self.triage_steps.append(time.perf_counter() - sent.pop(frame["cid"]))
        contact.on_frame = acked
        await contact.connect()
        for choice in ("en", random.choice(GROUPS), "skip"):
            now = time.perf_counter()
            cid = await contact.choose(choice)
            sent[cid] = now
            await contact.wait_acked(cid, timeout=120)
        deadline = time.perf_counter() + 120
        while contact.state != "queued":
            if time.perf_counter() > deadline:
                raise TimeoutError("a contact was not queued within 120 s")
            await asyncio.sleep(0.01)
        contact.on_frame = None

    def _received(self, sent: dict[str, float], into: list[float]) -> Callable[[dict[str, Any]], None]:
        def record(frame: dict[str, Any]) -> None:
            message = frame.get("message", frame) if frame.get("type") == "message" else None
            if message is None:
                return
            started = sent.pop(message.get("text", ""), None)
            if started is not None:
                into.append(time.perf_counter() - started)
        return record

    async def relay(self, n: int, staff_count: int, rounds: int, interval: float) -> dict[str, Any]:
        contacts = [ChatClient(self.url, lang="en") for _ in range(n)]
        staff = [ConsoleClient(self.url) for _ in range(staff_count)]
        try:
            started = time.perf_counter()
            await asyncio.gather(*(self._through_triage(c, i * 0.01) for i, c in enumerate(contacts)))
            triage_seconds = time.perf_counter() - started
            for i, counsellor in enumerate(staff):
                await counsellor.login(f"bench{i}", self.password)
                await counsellor.connect()
                counsellor.on_frame = self._received(self.sent_by_contacts, self.to_console)
            waiting = (await staff[0].queue())["waiting"]
            holders: dict[int, ConsoleClient] = {}
            for k, conversation in enumerate(waiting):
                counsellor = staff[k % staff_count]
                if await counsellor.claim(conversation["id"]) == 200:
                    holders[conversation["id"]] = counsellor
            for contact in contacts:
                contact.on_frame = self._received(self.sent_by_staff, self.to_contact)
            await asyncio.sleep(0.5)
            pairs = list(zip(contacts, [c["id"] for c in waiting], strict=False))
            await asyncio.gather(*(self._talk(contact, cid, holders[cid], rounds, interval)
                                   for contact, cid in pairs if cid in holders))
            await asyncio.sleep(1.0)
            for conversation_id, counsellor in holders.items():
                await counsellor.close_conversation(conversation_id)
        finally:
            for client in contacts:
                await client.close()
            for counsellor in staff:
                await counsellor.close()
        expected = len(holders) * rounds
        return {"relay_conversations": len(holders), "relay_consoles": staff_count,
                "relay_triage_all_s": round(triage_seconds, 2),
                "relay_p50_ms": _ms(self.to_console + self.to_contact, 50),
                "relay_p99_ms": _ms(self.to_console + self.to_contact, 99),
                "contact_to_console_p99_ms": _ms(self.to_console, 99),
                "counsellor_to_contact_p99_ms": _ms(self.to_contact, 99),
                "relay_lost": 2 * expected - len(self.to_console) - len(self.to_contact)}

    async def _talk(self, contact: ChatClient, conversation_id: int, counsellor: ConsoleClient,
                    rounds: int, interval: float) -> None:
        await asyncio.sleep(random.uniform(0, interval))
        for round_ in range(rounds):
            text = f"contact {conversation_id} round {round_} {secrets.token_hex(3)}"
            self.sent_by_contacts[text] = time.perf_counter()
            await contact.say(text)
            await asyncio.sleep(interval / 2)
            reply = f"counsellor {conversation_id} round {round_} {secrets.token_hex(3)}"
            self.sent_by_staff[reply] = time.perf_counter()
            await counsellor.send(conversation_id, reply)
            await asyncio.sleep(interval / 2)

    async def burst(self, n: int) -> dict[str, Any]:
        contacts = [ChatClient(self.url, lang="en") for _ in range(n)]
        try:
            started = time.perf_counter()
            results = await asyncio.gather(*(self._through_triage(c, random.uniform(0, 1.0)) for c in contacts),
                                           return_exceptions=True)
            seconds = time.perf_counter() - started
        finally:
            for client in contacts:
                await client.close()
        failed = sum(isinstance(r, BaseException) for r in results)
        return {"burst_contacts": n, "burst_200_contacts_s": round(seconds, 2), "burst_failed": failed}
