"""The real server with every channel switched on (Telegram and Twilio against the fake providers
on 127.0.0.1), so that every route the application can have is in its router. Used by the role
matrix and the bad-input corpus."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from twilio.request_validator import RequestValidator

from lotsa.db import upgrade
from lotsa_testing.fake_providers import FakeTelegram, FakeTwilio
from lotsa_testing.server import RunningServer, make_settings, start_server

PUBLIC = "https://lotsa.example.org"
OUR_NUMBER = "+46766860000"
TELEGRAM_SECRET = "rig-secret-" + "z" * 24
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class ProviderRig:
    server: RunningServer
    telegram: FakeTelegram
    twilio: FakeTwilio

    @property
    def url(self) -> str:
        return self.server.url

    def sign(self, path: str, params: dict[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send for a form post to `path` (computed by the twilio
        library over the configured public URL)."""
        return RequestValidator(self.twilio.auth_token).compute_signature(PUBLIC + path, params)

    async def healthy(self) -> bool:
        async with aiohttp.ClientSession() as session, session.get(f"{self.url}/healthz") as r:
            return r.status == 200 and (await r.json()) == {"status": "ok"}


@asynccontextmanager
async def provider_server(folder: Path, database: str | None = None) -> AsyncIterator[ProviderRig]:
    """`database`: a migrated database URL; by default a fresh SQLite file in `folder`."""
    telegram, twilio = FakeTelegram(), FakeTwilio()
    await telegram.start()
    await twilio.start()
    if database is None:
        database = f"sqlite+aiosqlite:///{folder / 'lotsa.db'}"
        await asyncio.to_thread(upgrade, database)
    settings = make_settings(folder, database, telegram_token=telegram.token, telegram_webhook_secret=TELEGRAM_SECRET,
                             telegram_api_url=telegram.url, twilio_account_sid=twilio.account_sid,
                             twilio_auth_token=twilio.auth_token, twilio_from_number=OUR_NUMBER,
                             twilio_api_url=twilio.url, public_url=PUBLIC, twilio_segments_per_second=100.0)
    test_server, running = await start_server(settings)
    try:
        yield ProviderRig(running, telegram, twilio)
    finally:
        await test_server.close()
        await telegram.stop()
        await twilio.stop()
