"""What one SMS conversation through triage costs in segments, per language: the "segments per
conversation" figure.

Drives the real server (SQLite in a temporary folder, the packaged configuration with every queue
open so the figure does not depend on the hour, Twilio's side played by the fake provider) with
signed SMS webhooks from a Swedish, a British, a Romanian and a Bulgarian number: the first text,
the language chosen from the menu, "who are you" answered, a few words told (Swedish and English:
Romanian and Bulgarian go straight to a counsellor with an interpreter), a counsellor claims,
writes once and closes. Every body Twilio was asked to send is counted as carriers count it
(bot/sms_segments.py). The out-of-hours answer the person would get instead, were their queue
closed, is counted beside it.

    .venv/bin/python benchmarks/sms_cost.py [--json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from twilio.request_validator import RequestValidator

from bot.sms_segments import sms_cost
from bot.twilio_sms import bodies
from handoff.directory import Directory
from handoff.out_of_hours import OutOfHours
from handoff.queues import QueueDirectory
from lotsa.settings import default_config_dir
from lotsa.texts import Catalogue
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.fake_providers import FakeTwilio
from lotsa_testing.server import PASSWORD, always_open_config, make_settings, sqlite_database, start_server

PUBLIC = "https://lotsa.example.org"
OUR_NUMBER = "+46766860000"
CLOSED = datetime(2026, 12, 6, 3, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
"""A Sunday night, for the out-of-hours answer."""


@dataclass(frozen=True)
class Person:
    number: str
    first: str
    menu_label: str
    told: str | None
    reply: str
    """The counsellor's one reply (not automatic: counted apart)."""


PEOPLE = {
    "sv": Person("+46701234567", "Hej", "Svenska", "jag vill sluta men har skulder",
                 "Hej, jag heter Anna. Berätta gärna mer om skulderna."),
    "en": Person("+447700900123", "Hi", "English", "I want to stop but I owe money",
                 "Hi, I am Anna. Tell me more about the money you owe."),
    "ro": Person("+40722123456", "Bună", "Romana", None, "Bună, sunt Anna. Avem și un interpret."),
    "bg": Person("+359888123456", "Здравейте", "Balgarski", None, "Здравейте, аз съм Анна. Имаме и преводач."),
}


@dataclass
class Sent:
    what: str
    encoding: str
    characters: int
    segments: int
    forcing_ucs2: str


@dataclass
class Conversation:
    language: str
    automatic: list[Sent] = field(default_factory=list)
    counsellor: list[Sent] = field(default_factory=list)
    out_of_hours: Sent | None = None

    @property
    def automatic_segments(self) -> int:
        return sum(s.segments for s in self.automatic)

    def summary(self) -> dict[str, Any]:
        greeting = self.automatic[0]
        return {"language": self.language, "automatic_segments": self.automatic_segments,
                "counsellor_segments": sum(s.segments for s in self.counsellor),
                "greeting_segments": greeting.segments, "greeting_encoding": greeting.encoding,
                "greetings_per_minute_at_1_segment_per_s": round(60 / greeting.segments),
                "out_of_hours_segments": self.out_of_hours.segments if self.out_of_hours else None,
                "texts": [asdict(s) for s in self.automatic], "counsellor": [asdict(s) for s in self.counsellor]}


def _sent(what: str, body: str) -> Sent:
    cost = sms_cost(body)
    return Sent(what, cost.encoding, len(body), cost.segments, cost.offending)


class Phone:
    """A person's phone: signed webhooks in, the bodies the fake Twilio was asked to send out."""

    def __init__(self, session: aiohttp.ClientSession, base: str, twilio: FakeTwilio, number: str) -> None:
        self.session, self.base, self.twilio, self.number = session, base, twilio, number

    def received(self) -> list[str]:
        return [m["Body"] for m in self.twilio.sent("message") if m["To"] == self.number]

    async def text(self, body: str) -> None:
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": self.twilio.account_sid,
                  "From": self.number, "To": OUR_NUMBER, "Body": body, "NumMedia": "0"}
        signature = RequestValidator(self.twilio.auth_token).compute_signature(PUBLIC + "/hooks/twilio/sms", params)
        async with self.session.post(self.base + "/hooks/twilio/sms", data=params,
                                     headers={"X-Twilio-Signature": signature}) as r:
            if r.status != 200:
                raise RuntimeError(f"the SMS webhook answered {r.status}")

    async def new_texts(self, seen: int, count: int = 1) -> list[str]:
        """Wait until `count` more bodies than `seen` went out; then a moment for any that follow."""
        for _ in range(400):
            if len(self.received()) >= seen + count:
                break
            await asyncio.sleep(0.025)
        else:
            raise RuntimeError(f"expected {count} more texts to {self.number[:4]}…, got {self.received()[seen:]}")
        await asyncio.sleep(0.4)
        return self.received()[seen:]


async def converse(phone: Phone, console: ConsoleClient, lang: str, person: Person) -> tuple[Conversation, str]:
    """One conversation from the first text to the counsellor closing it: what it cost, and its queue."""
    result = Conversation(lang)

    async def step(what: str, send: str | None = None) -> list[str]:
        seen = len(phone.received())
        if send is not None:
            await phone.text(send)
        texts = await phone.new_texts(seen)
        result.automatic += [_sent(what if len(texts) == 1 else f"{what} ({i + 1})", t) for i, t in enumerate(texts)]
        return texts

    [greeting] = await step("greeting and language menu", person.first)
    digit = next(line.split(" ", 1)[0] for line in greeting.splitlines() if line.endswith(" " + person.menu_label))
    await step("who is writing", digit)
    if person.told is not None:
        await step("in your own words", "1")
        await step("handoff", person.told)
    else:
        await step("handoff", "1")
    [waiting] = [c for c in (await console.queue())["waiting"] if c["channel"] == "sms"]
    seen = len(phone.received())
    if await console.claim(waiting["id"]) != 200:
        raise RuntimeError("the counsellor could not claim the conversation")
    result.automatic += [_sent("a counsellor is here", t) for t in await phone.new_texts(seen)]
    seen = len(phone.received())
    await console.send(waiting["id"], person.reply)
    result.counsellor += [_sent("counsellor's reply", t) for t in await phone.new_texts(seen)]
    seen = len(phone.received())
    if await console.close_conversation(waiting["id"]) != 200:
        raise RuntimeError("the counsellor could not close the conversation")
    result.automatic += [_sent("conversation ended", t) for t in await phone.new_texts(seen)]
    return result, waiting["queue"]


def out_of_hours_cost(queue: str, lang: str) -> Sent:
    config = default_config_dir()
    directory = Directory.load(config)
    queues = QueueDirectory.load(config / "queues.yaml", known_referrals=set(directory.referrals))
    answer = OutOfHours(queues, directory, Catalogue.load(config / "texts")).answer(queue, lang, False, CLOSED)
    assert answer is not None, f"queue {queue} is open at {CLOSED}"
    parts = [_sent("out-of-hours answer", body) for body in bodies(answer)]
    return Sent("out-of-hours answer", parts[0].encoding, sum(p.characters for p in parts),
                sum(p.segments for p in parts), "".join(p.forcing_ucs2 for p in parts))


async def run() -> list[Conversation]:
    twilio = FakeTwilio()
    await twilio.start()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = make_settings(folder, await sqlite_database(folder), config_dir=always_open_config(folder),
                                 twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
                                 twilio_from_number=OUR_NUMBER, twilio_api_url=twilio.url, public_url=PUBLIC,
                                 twilio_segments_per_second=100.0)
        server, running = await start_server(settings)
        await running.add_staff("anna")
        console = ConsoleClient(running.url)
        try:
            await console.login("anna", PASSWORD)
            async with aiohttp.ClientSession() as session:
                for lang, person in PEOPLE.items():
                    phone = Phone(session, running.url, twilio, person.number)
                    conversation, queue = await converse(phone, console, lang, person)
                    conversation.out_of_hours = out_of_hours_cost(queue, lang)
                    results.append(conversation)
        finally:
            await console.close()
            await server.close()
            await twilio.stop()
    return results


def report(results: list[Conversation]) -> None:
    print("SMS segments of one conversation through triage (GSM-7: 160 a segment, 153 when split;"
          " UCS-2: 70, 67)")
    for c in results:
        print(f"\n== {c.language} ==")
        for s in [*c.automatic, *c.counsellor]:
            shown = s.forcing_ucs2 if len(s.forcing_ucs2) <= 8 else s.forcing_ucs2[:8] + "…"
            forced = f"  (UCS-2 because of {shown})" if s.forcing_ucs2 else ""
            print(f"  {s.what:30} {s.encoding}  {s.characters:4} chars  {s.segments} segment(s){forced}")
        print(f"  automatic texts: {c.automatic_segments} segments per conversation"
              f" (+ {sum(s.segments for s in c.counsellor)} for the counsellor's reply)")
        if c.out_of_hours is not None:
            print(f"  out of hours the person also gets the queue's answer: {c.out_of_hours.segments} segments"
                  f" ({c.out_of_hours.encoding}, {c.out_of_hours.characters} chars)")
        print(f"  at 1 segment/s one number sends {60 / c.automatic[0].segments:.0f} greetings a minute")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    results = asyncio.run(run())
    report(results)
    if args.json:
        print(json.dumps({"segments_per_conversation": {c.language: c.automatic_segments for c in results},
                          "conversations": [c.summary() for c in results]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
