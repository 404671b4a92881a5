"""Shared fixtures: settings on a temporary folder, a database (SQLite, or PostgreSQL when
LOTSA_TEST_POSTGRES_URL is set), and the real server on a free port with an in-memory channel."""
from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from bot.memory import MemoryChannel
from lotsa import appkeys
from lotsa.app import create_app
from lotsa.auth import add_user
from lotsa.db import upgrade
from lotsa.logs import AccessLogger
from lotsa.settings import Settings, load_settings

os.environ.setdefault("PTB_TIMEDELTA", "true")   # as `lotsa` sets it at start (lotsa.cli.PROCESS_ENVIRONMENT)
PASSWORD = "correct horse battery staple"
POSTGRES_URL = os.environ.get("LOTSA_TEST_POSTGRES_URL")


async def _postgres_database() -> tuple[str, str]:
    import asyncpg

    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL)
    name = f"lotsa_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(user=url.username, password=url.password, host=url.host,
                                  port=url.port or 5432, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.set(database=name).render_as_string(hide_password=False), name


async def _drop_postgres_database(name: str) -> None:
    import asyncpg

    url = make_url(POSTGRES_URL)
    admin = await asyncpg.connect(user=url.username, password=url.password, host=url.host,
                                  port=url.port or 5432, database="postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: SQLite, and PostgreSQL too when LOTSA_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'lotsa.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    if not POSTGRES_URL:
        pytest.skip("LOTSA_TEST_POSTGRES_URL is not set")
    url, name = await _postgres_database()
    await asyncio.to_thread(upgrade, url)
    yield url
    await _drop_postgres_database(name)


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'lotsa.db'}"
    await asyncio.to_thread(upgrade, url)
    return url


def make_settings(tmp_path: Path, database_url: str, **extra: object) -> Settings:
    return load_settings(overrides={"database_url": database_url, "data_dir": str(tmp_path / "var"),
                                    "secret_key": "test-" + secrets.token_hex(16), "cookie_secure": False,
                                    "quick_exit_url": "/neutral", **extra})


@dataclass
class RunningServer:
    url: str
    app: web.Application
    memory: MemoryChannel
    settings: Settings

    async def add_staff(self, name: str, role: str = "counsellor", **skills: Any) -> None:
        """`skills`: languages, queues, max_chats (see lotsa.auth.add_user)."""
        await add_user(self.app[appkeys.DB], name, PASSWORD, role, **skills)


async def start_server(settings: Settings) -> tuple[TestServer, RunningServer]:
    app = create_app(settings, channels=[MemoryChannel], relay_poll=0.2)
    memory = app[appkeys.CHANNELS]["memory"]
    assert isinstance(memory, MemoryChannel)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log_class=AccessLogger)
    return server, RunningServer(str(server.make_url("/")).rstrip("/"), app, memory, settings)


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[RunningServer]:
    test_server, running = await start_server(make_settings(tmp_path, database_url))
    yield running
    await test_server.close()


@pytest.fixture
async def any_server(tmp_path: Path, any_database_url: str) -> AsyncIterator[RunningServer]:
    test_server, running = await start_server(make_settings(tmp_path, any_database_url))
    yield running
    await test_server.close()
