"""No identifier is ever written in clear: after full conversations with known phone numbers and
web-chat tokens, neither the database file, nor the logs, nor anything a counsellor can open holds
them (nor the client's IP address)."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from lotsa_testing.clients import ChatClient, ConsoleClient
from lotsa_testing.server import PASSWORD, RunningServer

PHONES = ["+46701112233", "+40721555666", "+359887123456"]


async def test_identifiers_never_reach_the_database_logs_or_console(server: RunningServer,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await server.add_staff("anna", max_chats=10)   # she takes every waiting conversation below
    memory = server.memory
    for phone in PHONES:
        await memory.write(phone, f"hej det är {phone[-4:]} här")
        await memory.write(phone, "1")
        await memory.write(phone, "1")
        await memory.write(phone, "jag behöver prata")
    contact = ChatClient(server.url, lang="en")
    await contact.connect()
    await contact.choose("en")
    await contact.choose("relative")
    await contact.say("my sister needs help")
    await contact.wait_for(lambda f: f["type"] == "message" and f["author"] == "bot" and f["choices"])
    token = contact.token
    assert token

    anna = ConsoleClient(server.url)
    pages: list[str] = []
    try:
        await anna.login("anna", PASSWORD)
        queue = await anna.queue()
        pages.append(str(queue))
        for summary in queue["waiting"]:
            assert await anna.claim(summary["id"]) == 200
            await anna.send(summary["id"], "Hej, jag heter Anna.")
            pages.append(str(await anna.conversation(summary["id"])))
        async with anna.session.get(f"{server.url}/console") as r:
            pages.append(await r.text())
        await memory.wait_for(PHONES[0], 4)
    finally:
        await anna.close()
        await contact.close()

    database = Path(make_url(server.settings.effective_database_url).database)
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    logs = caplog.text
    secrets = PHONES + [p.lstrip("+") for p in PHONES] + [token, "127.0.0.1"]
    for secret in secrets:
        assert secret.encode() not in stored, f"{secret} is in the database file"
        assert secret not in logs, f"{secret} is in the logs"
        assert all(secret not in page for page in pages), f"{secret} is shown to a counsellor"
    assert "jag behöver prata" not in logs and "my sister needs help" not in logs  # no message text in logs
