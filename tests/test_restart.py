"""Restarting the server mid-conversation loses no message (a real `lotsa serve` process)."""
from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lotsa_testing.clients import ChatClient, ConsoleClient, free_port, wait_healthy
from lotsa_testing.server import LOTSA, PASSWORD


class ServerProcess:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "server.log"
        self.env = {**os.environ, "LOTSA_SECRET_KEY": "restart-test-secret-0123456789",
                    "LOTSA_DATA_DIR": str(tmp_path / "var"), "LOTSA_COOKIE_SECURE": "false",
                    "LOTSA_PUBLIC_URL": self.url, "LOTSA_PORT": str(self.port)}
        self.env.pop("LOTSA_DATABASE_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def run(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run(LOTSA + list(args), env=self.env, input=stdin and stdin.encode(), check=True,
                       capture_output=True, timeout=60)

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(LOTSA + ["serve"], env=self.env, stdout=log, stderr=log)
        if not await wait_healthy(self.url):
            raise AssertionError("the server did not come up: " + self.log.read_text())

    def stop(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=15)
        self.proc = None


@pytest.fixture
def process(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path)
    server.run("db", "upgrade")
    server.run("user", "add", "anna", "--role", "counsellor", stdin=PASSWORD + "\n")
    yield server
    if server.proc is not None:
        server.stop(signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "kill-9"])
async def test_restart_mid_conversation_loses_nothing(process: ServerProcess, sig: int) -> None:
    await process.start()
    contact = ChatClient(process.url, lang="en")
    anna = ConsoleClient(process.url)
    try:
        await contact.connect()
        await contact.choose("en")
        await contact.choose("sells")
        await contact.choose("skip")
        await contact.wait_for(lambda f: f["type"] == "state" and f["state"] == "queued")
        await contact.wait_acked(await contact.say("before the restart"))
        await anna.login("anna", PASSWORD)
        [waiting] = (await anna.queue())["waiting"]
        assert await anna.claim(waiting["id"]) == 200
        await anna.send(waiting["id"], "hello from anna")
        await contact.wait_for(lambda f: f["type"] == "message" and f["text"] == "hello from anna")

        process.stop(sig)
        await contact.disconnect()
        await contact.say("written while the server was down")
        assert len(contact.pending) == 1

        await process.start()
        await contact.connect()  # the same resume token; the pending message is sent again
        await contact.wait_for(lambda f: f["type"] == "ack")
        assert contact.pending == {}
        detail = await anna.conversation(waiting["id"])  # the staff session survived the restart
        texts = [m["text"] for m in detail["messages"]]
        for expected in ("before the restart", "hello from anna", "written while the server was down"):
            assert texts.count(expected) == 1, texts
        assert detail["conversation"]["state"] == "active"

        await anna.send(waiting["id"], "still here")
        await contact.wait_for(lambda f: f["type"] == "message" and f["text"] == "still here")
        assert contact.texts() == texts[1:] + ["still here"]  # the page showed the greeting before it was stored
    finally:
        await contact.close()
        await anna.close()
