"""Several real `lotsa serve` processes on one database, as a deployment runs them (issue 15):
for the scale-out tests and benchmarks/scaleout.py."""
from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from lotsa.db import Database
from lotsa_testing.clients import free_port, wait_healthy
from lotsa_testing.server import LOTSA


@dataclass
class Worker:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Workers:
    """`count` workers started by `start`, stopped by `stop` (SIGTERM, then SIGKILL)."""

    database_url: str
    folder: Path
    count: int
    settings: dict[str, str] = field(default_factory=dict)
    """Extra LOTSA_* environment variables, without the prefix (`{"log_level": "WARNING"}`)."""
    secret_key: str = field(default_factory=lambda: "test-" + secrets.token_hex(16))
    workers: list[Worker] = field(default_factory=list)

    def environment(self, index: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOTSA_")}
        wanted = {"database_url": self.database_url, "secret_key": self.secret_key, "cookie_secure": "false",
                  "data_dir": str(self.folder / f"var-{index}"), "log_level": "WARNING",
                  # The clients all come from 127.0.0.1: the flood limit only where a test asks.
                  "new_conversations_per_address_per_minute": "100000", "new_conversations_per_minute": "100000",
                  **self.settings}
        return env | {f"LOTSA_{key.upper()}": value for key, value in wanted.items()}

    async def start(self, timeout: float = 60) -> list[Worker]:
        for index in range(self.count):
            port = free_port()
            log = self.folder / f"worker-{index}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(LOTSA + ["serve", "--port", str(port)], env=self.environment(index),
                                           cwd=self.folder, stdout=out, stderr=subprocess.STDOUT)
            self.workers.append(Worker(port, process, log))
        healthy = await asyncio.gather(*(wait_healthy(w.url, timeout) for w in self.workers))
        if not all(healthy):
            await self.stop()
            logs = "\n".join(w.log.read_text(errors="replace")[-2000:] for w in self.workers)
            raise RuntimeError(f"workers did not start:\n{logs}")
        return self.workers

    def kill(self, index: int) -> None:
        """SIGKILL: no shutdown, no goodbye to PostgreSQL; its sockets just drop."""
        self.workers[index].process.send_signal(signal.SIGKILL)
        self.workers[index].process.wait(10)

    def pause(self, index: int) -> None:
        """SIGSTOP: the worker hears nothing and answers nothing until `resume`; its connections stay."""
        self.workers[index].process.send_signal(signal.SIGSTOP)

    def resume(self, index: int) -> None:
        self.workers[index].process.send_signal(signal.SIGCONT)

    async def stop(self) -> None:
        for worker in self.workers:
            if worker.alive:
                worker.process.terminate()
        for worker in self.workers:
            try:
                await asyncio.to_thread(worker.process.wait, 15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(5)

    def errors(self) -> list[str]:
        """Log lines of the workers that say something failed (tracebacks, errors)."""
        return [line for w in self.workers for line in w.log.read_text(errors="replace").splitlines()
                if " ERROR " in line or line.startswith("Traceback")]


async def migrated_database(url: str) -> Database:
    """A `Database` on `url` after `lotsa db upgrade` (run as the admin runs it)."""
    process = await asyncio.create_subprocess_exec(*LOTSA, "db", "upgrade", "--database", url,
                                                   stdout=asyncio.subprocess.DEVNULL)
    if await process.wait() != 0:
        raise RuntimeError("lotsa db upgrade failed")
    return Database(url)
