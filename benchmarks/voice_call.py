"""One whole phone call as the caller hears it: drives the signed Twilio voice webhooks of the real
server (SQLite in a temporary folder, Twilio's side played by the fake provider) and prints every
spoken prompt with the voice it is said in, and every key the caller presses.

    .venv/bin/python benchmarks/voice_call.py [--language sv|en|ro|bg]

The caller listens to the language menu, chooses their language, asks to hear a question again,
presses a wrong key, answers, waits on hold for three rounds (the hold loop's clock is moved on as
Twilio would play it) and asks for a callback; then another caller presses 9 once the language is chosen.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import aiohttp
from twilio.request_validator import RequestValidator

from lotsa import appkeys
from lotsa_testing.fake_providers import FakeTwilio
from lotsa_testing.server import make_settings, sqlite_database, start_server

PUBLIC = "https://lotsa.example.org"
OUR_NUMBER = "+46766860000"
CALLERS = {"sv": "+46709876543", "en": "+447700900123", "ro": "+40722123456", "bg": "+359888123456"}
MENU = {"sv": "1", "en": "2", "ro": "3", "bg": "4"}
HOOK = "/hooks/twilio/voice"


class Caller:
    def __init__(self, session: aiohttp.ClientSession, base: str, twilio: FakeTwilio, number: str) -> None:
        self.session, self.base, self.twilio, self.number = session, base, twilio, number
        self.sid = "CA" + uuid.uuid4().hex

    async def hear(self, path: str, digits: str | None = None) -> ET.Element:
        """Post what Twilio would post (signed) and print what the caller hears."""
        params = {"CallSid": self.sid, "AccountSid": self.twilio.account_sid, "From": self.number,
                  "To": OUR_NUMBER, "CallStatus": "in-progress"}
        if digits is not None:
            params["Digits"] = digits
            print(f"\n  [caller presses {digits or 'nothing'}]")
        signature = RequestValidator(self.twilio.auth_token).compute_signature(PUBLIC + path, params)
        async with self.session.post(self.base + path, data=params,
                                     headers={"X-Twilio-Signature": signature}) as r:
            root = ET.fromstring(await r.text())
        for verb in root.iter():
            if verb.tag == "Say":
                print(f"  {verb.get('language')} ({verb.get('voice')}): {verb.text}")
            elif verb.tag == "Play":
                print("  ♪ hold tone, 16 s (Lotsa's own)")
            elif verb.tag in ("Hangup", "Dial"):
                print(f"  [{verb.tag.lower()}]")
        return root


async def whole_call(caller: Caller, language: str, clock: list[float]) -> None:
    print(f"\n=== a call in {language} ===")
    await caller.hear(HOOK)
    await caller.hear(f"{HOOK}/gather?step=1", MENU[language])
    await caller.hear(f"{HOOK}/gather?step=2", "*")
    await caller.hear(f"{HOOK}/gather?step=2", "7")
    root = await caller.hear(f"{HOOK}/gather?step=3", "1")
    for round_ in range(1, 4):
        redirect = root.find("Redirect")
        assert redirect is not None and redirect.text
        print(f"\n  [on hold, round {round_}]")
        root = await caller.hear(redirect.text)
        clock[0] += 20
    await caller.hear(f"{HOOK}/hold", "1")
    await caller.hear(f"{HOOK}/callback", "2")
    print(f"\n=== another caller, in {language}, presses 9 once the language is chosen ===")
    again = Caller(caller.session, caller.base, caller.twilio, caller.number.replace("3", "4", 1))
    await again.hear(HOOK)
    await again.hear(f"{HOOK}/gather?step=1", MENU[language])
    root = await again.hear(f"{HOOK}/gather?step=2", "9")
    redirect = root.find("Redirect")
    assert redirect is not None and redirect.text
    print("\n  [on hold, round 1]")
    await again.hear(redirect.text)


async def main(language: str) -> None:
    twilio = FakeTwilio()
    await twilio.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = make_settings(Path(folder), await sqlite_database(Path(folder)),
                                 twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
                                 twilio_from_number=OUR_NUMBER, twilio_api_url=twilio.url, public_url=PUBLIC)
        server, running = await start_server(settings)
        clock = [1_800_000_000.0]
        running.app[appkeys.CHANNELS]["voice"].clock = lambda: clock[0]
        try:
            async with aiohttp.ClientSession() as session:
                await whole_call(Caller(session, running.url, twilio, CALLERS[language]), language, clock)
        finally:
            await server.close()
            await twilio.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", choices=sorted(MENU), default="sv")
    asyncio.run(main(parser.parse_args().language))
