"""The real server for tests: settings on a temporary folder, a migrated database (SQLite, or a
throw-away PostgreSQL database when LOTSA_TEST_POSTGRES_URL is set), and the application on a free
port with an in-memory channel. The fixtures built on these are in `lotsa_testing.pytest_plugin`."""
from __future__ import annotations

import asyncio
import atexit
import functools
import os
import secrets
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from lotsa import appkeys
from lotsa.app import create_app
from lotsa.auth import add_user
from lotsa.cli import PROCESS_ENVIRONMENT
from lotsa.db import upgrade
from lotsa.logs import AccessLogger
from lotsa.settings import Settings, default_config_dir, load_settings
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.memory import MemoryChannel

PASSWORD = "correct horse battery staple"
"""Every staff account a test adds has this password."""
POSTGRES_URL = os.environ.get("LOTSA_TEST_POSTGRES_URL")
os.environ.update(PROCESS_ENVIRONMENT)   # as `lotsa` sets it at start
LOTSA = [sys.executable, "-m", "lotsa.cli"]
"""The `lotsa` command on this Python, for tests that run it as a process."""


async def _admin_execute(statement: str) -> None:
    import asyncpg

    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL)
    admin = await asyncpg.connect(user=url.username, password=url.password, host=url.host,
                                  port=url.port or 5432, database="postgres")
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


async def create_postgres_database() -> tuple[str, str]:
    """A new, empty database on the LOTSA_TEST_POSTGRES_URL server: (its URL, its name)."""
    assert POSTGRES_URL is not None
    name = f"lotsa_t_{uuid.uuid4().hex[:12]}"
    await _admin_execute(f'CREATE DATABASE "{name}"')
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), name


async def drop_postgres_database(name: str) -> None:
    await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def sqlite_database(folder: Path) -> str:
    """A migrated SQLite database in `folder`: its URL."""
    url = f"sqlite+aiosqlite:///{folder / 'lotsa.db'}"
    await asyncio.to_thread(upgrade, url)
    return url


WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def always_open_config(folder: Path) -> Path:
    """The packaged configuration copied into `folder`, with every queue open all day, every day."""
    config = folder / "config"
    shutil.copytree(default_config_dir(), config)
    queues = yaml.safe_load((config / "queues.yaml").read_text(encoding="utf-8"))
    queues["defaults"].update(hours={day: ["00:00-24:00"] for day in WEEK}, holidays=["00:00-24:00"], exceptions={})
    (config / "queues.yaml").write_text(yaml.safe_dump(queues, allow_unicode=True), encoding="utf-8")
    return config


@functools.cache
def open_all_day_config() -> Path:
    """The configuration tests run with unless they pass their own `config_dir`: the packaged one
    with every queue open, so that no test depends on the hour it happens to run at (the packaged
    queues close at 21:00 Stockholm time). Tests of opening hours give their own hours."""
    folder = Path(tempfile.mkdtemp(prefix="lotsa-test-config-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return always_open_config(folder)


def make_settings(tmp_path: Path, database_url: str, **extra: object) -> Settings:
    extra.setdefault("config_dir", str(open_all_day_config()))
    return load_settings(overrides={"database_url": database_url, "data_dir": str(tmp_path / "var"),
                                    "secret_key": "test-" + secrets.token_hex(16), "cookie_secure": False,
                                    "quick_exit_url": "/neutral",
                                    # Tests open many chats from 127.0.0.1: the flood limit only where a test asks.
                                    "new_conversations_per_address_per_minute": 10_000,
                                    "new_conversations_per_minute": 10_000, **extra})


@dataclass
class RunningServer:
    url: str
    app: web.Application
    memory: MemoryChannel
    settings: Settings
    consoles: list[ConsoleClient] = field(default_factory=list)

    async def add_staff(self, name: str, role: str = "counsellor", **skills: Any) -> None:
        """`skills`: languages, queues, max_chats, phone (sealed; see lotsa.auth.add_user)."""
        await add_user(self.app[appkeys.DB], name, PASSWORD, role, keyring=self.app[appkeys.KEYRING], **skills)

    async def logged_in(self, name: str, role: str = "counsellor", **skills: Any) -> ConsoleClient:
        """A new staff account, logged in. Its session is closed by `close_consoles`, which the
        `server` and `any_server` fixtures call at teardown."""
        await self.add_staff(name, role, **skills)
        client = ConsoleClient(self.url)
        self.consoles.append(client)
        await client.login(name, PASSWORD)
        return client

    async def close_consoles(self) -> None:
        while self.consoles:
            await self.consoles.pop().session.close()


async def start_server(settings: Settings) -> tuple[TestServer, RunningServer]:
    """The application on a free port of 127.0.0.1 with an in-memory channel; close the TestServer after."""
    app = create_app(settings, channels=[MemoryChannel], relay_poll=0.2)
    memory = app[appkeys.CHANNELS]["memory"]
    assert isinstance(memory, MemoryChannel)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log_class=AccessLogger)
    return server, RunningServer(str(server.make_url("/")).rstrip("/"), app, memory, settings)
