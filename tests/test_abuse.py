"""Abuse: flood protection per contact, and a supervisor blocking a pseudonymous contact."""
from __future__ import annotations

from pathlib import Path

import pytest

from lotsa.pipeline import MessageRefused
from lotsa_testing.clients import ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer, make_settings, start_server


async def test_a_flood_from_one_contact_is_refused_others_still_get_through(tmp_path: Path,
                                                                           database_url: str) -> None:
    test_server, server = await start_server(make_settings(tmp_path, database_url, contact_messages_per_minute=5))
    try:
        for i in range(5):
            await server.memory.write("+46700000009", f"meddelande {i}")
        with pytest.raises(MessageRefused) as refused:
            await server.memory.write("+46700000009", "ett till")
        assert refused.value.code == "rate"
        await server.memory.write("+46700000010", "hej")
    finally:
        await test_server.close()


async def test_supervisor_blocks_a_contact_for_a_while(any_server: RunningServer) -> None:
    await any_server.add_staff("sara", role="supervisor")
    await any_server.add_staff("carl")
    conversation_id = (await any_server.memory.write("+46700000011", "du är dum")).conversation_id
    sara, carl = ConsoleClient(any_server.url), ConsoleClient(any_server.url)
    try:
        await sara.login("sara", PASSWORD)
        await carl.login("carl", PASSWORD)
        url = f"{any_server.url}/api/console/conversations/{conversation_id}/block"
        async with carl.session.post(url, json={"hours": 24}, headers=carl._headers()) as r:
            assert r.status == 403
        for bad in ({"hours": 0}, {"hours": "24"}, {"hours": 100000}, []):
            async with sara.session.post(url, json=bad, headers=sara._headers()) as r:
                assert r.status == 400
        async with sara.session.post(url, json={"hours": 24}, headers=sara._headers()) as r:
            assert r.status == 200
        with pytest.raises(MessageRefused) as refused:
            await any_server.memory.write("+46700000011", "hallå?")
        assert refused.value.code == "blocked"
        async with sara.session.post(url.replace("/block", "/unblock"), headers=sara._headers()) as r:
            assert r.status == 200
        await any_server.memory.write("+46700000011", "förlåt")
    finally:
        await sara.close()
        await carl.close()
