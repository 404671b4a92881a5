"""Lotsa's pytest fixtures. tests/conftest.py loads this plugin (`pytest_plugins`), so every test
can ask for them by name without importing anything.

- `database_url`: a migrated SQLite database in the test's temporary folder.
- `any_database_url`: the same, once on SQLite and once on PostgreSQL (when LOTSA_TEST_POSTGRES_URL
  is set; the PostgreSQL run is marked `postgres` and skipped otherwise).
- `postgres_url`: a migrated PostgreSQL database alone (skipped without LOTSA_TEST_POSTGRES_URL).
- `server` / `any_server`: the real server on those databases (a `RunningServer`).
- `browser`: headless Debian chromium driven by Playwright (skipped where there is none).
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lotsa.db import upgrade
from lotsa_testing import browser as browsers
from lotsa_testing.server import (
    POSTGRES_URL,
    RunningServer,
    create_postgres_database,
    drop_postgres_database,
    make_settings,
    sqlite_database,
    start_server,
)


async def _migrated_postgres() -> AsyncIterator[str]:
    """A migrated, empty throw-away PostgreSQL database; the test is skipped without
    LOTSA_TEST_POSTGRES_URL."""
    if not POSTGRES_URL:
        pytest.skip("LOTSA_TEST_POSTGRES_URL is not set")
    url, name = await create_postgres_database()
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: SQLite, and PostgreSQL too when LOTSA_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        yield await sqlite_database(tmp_path)
        return
    async for url in _migrated_postgres():
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A migrated, empty PostgreSQL database (the test is skipped without LOTSA_TEST_POSTGRES_URL)."""
    async for url in _migrated_postgres():
        yield url


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    return await sqlite_database(tmp_path)


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[RunningServer]:
    test_server, running = await start_server(make_settings(tmp_path, database_url))
    yield running
    await running.close_consoles()
    await test_server.close()


@pytest.fixture
async def any_server(tmp_path: Path, any_database_url: str) -> AsyncIterator[RunningServer]:
    test_server, running = await start_server(make_settings(tmp_path, any_database_url))
    yield running
    await running.close_consoles()
    await test_server.close()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with browsers.chromium() as launched:
        yield launched
