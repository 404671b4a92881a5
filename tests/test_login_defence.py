"""Log-in under attack: the password check runs in the thread pool, unknown names get the same
answer after the same work, and repeated failures are slowed down, never locked out."""
from __future__ import annotations

import asyncio
import threading
import time

import aiohttp
import pytest
from sqlalchemy import update

from lotsa import appkeys, auth, login_throttle
from lotsa.login_throttle import LoginThrottle, backoff
from lotsa.models import StaffUser
from lotsa_testing.server import PASSWORD, RunningServer


async def _attempt(server: RunningServer, name: str, password: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(
            server.url + "/console/login", data={"name": name, "password": password},
            headers={"Origin": server.url}, allow_redirects=False) as r:
        return r.status, (await r.text()).replace(name, "NAME")


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login_throttle, "BASE_DELAY", 0.01)


async def test_the_password_check_runs_in_the_thread_pool(server: RunningServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    await server.add_staff("anna")
    threads: list[str] = []
    real = auth._verify

    def spy(password_hash: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "_verify", spy)
    assert (await _attempt(server, "anna", "wrong password!"))[0] == 401
    assert (await _attempt(server, "anna", PASSWORD))[0] == 303
    assert len(threads) == 2 and all(name.startswith("password") for name in threads)
    assert threading.main_thread().name not in threads


async def test_unknown_names_get_the_same_answer_and_a_dummy_hash_is_checked(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    await server.add_staff("anna")
    await server.add_staff("gone")
    async with server.app[appkeys.DB].write() as session:
        await session.execute(update(StaffUser).where(StaffUser.name == "gone").values(active=False))
    checked: list[str] = []
    real = auth._verify

    def spy(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "_verify", spy)
    answers = {name: await _attempt(server, name, "wrong password!") for name in ("anna", "nobody", "gone")}
    assert answers["anna"] == answers["nobody"] == answers["gone"]
    assert answers["anna"][0] == 401
    assert checked[1] == checked[2] == auth._DUMMY_HASH and checked[0] != auth._DUMMY_HASH


async def test_many_failures_never_lock_the_real_person_out(server: RunningServer, quick_backoff: None) -> None:
    await server.add_staff("anna")
    for _ in range(12):
        status, page = await _attempt(server, "anna", "wrong password!")
        assert status == 401 and "too many" not in page.lower()
    assert (await _attempt(server, "anna", PASSWORD))[0] == 303
    throttle = server.app[appkeys.LOGIN_THROTTLE]
    assert throttle.failures("anna", "x") == (0, 0)


async def test_unknown_and_known_names_are_counted_alike(server: RunningServer) -> None:
    await server.add_staff("anna")
    throttle = server.app[appkeys.LOGIN_THROTTLE]
    for name in ("anna", "nobody"):
        await _attempt(server, name, "wrong password!")
        await _attempt(server, name, "wrong password!")
    assert throttle.failures("anna", "")[0] == throttle.failures("nobody", "")[0] == 2


def test_delays_grow_and_are_capped() -> None:
    delays = [backoff(n, 5.0) for n in range(12)]
    assert delays[:3] == [0, 0, 0]
    assert delays[3:7] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == 5.0 and delays == sorted(delays)


async def test_parallel_attempts_from_one_address_are_spaced_out(quick_backoff: None) -> None:
    """Sixteen attempts at once from one address do not all go at once once it has failed before."""
    throttle = LoginThrottle()
    for i in range(8):
        throttle.failed(f"name{i}", "addr")
    started = time.monotonic()
    waits = [throttle.wait_for(f"other{i}", "addr") for i in range(16)]
    assert waits == sorted(waits) and waits[-1] > waits[0] + 10 * backoff(8, 30.0)
    assert time.monotonic() - started < 0.1   # reserving never blocks
    assert throttle.wait_for("anna", "another address") == 0


async def test_one_address_failing_does_not_slow_anothers_log_in(server: RunningServer, quick_backoff: None) -> None:
    throttle = server.app[appkeys.LOGIN_THROTTLE]
    for i in range(10):
        throttle.failed(f"guess{i}", "attacker")
    await server.add_staff("anna")
    started = asyncio.get_running_loop().time()
    assert (await _attempt(server, "anna", PASSWORD))[0] == 303
    assert asyncio.get_running_loop().time() - started < 2
