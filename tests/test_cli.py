"""The command line as an admin uses it: demo from any folder, serve's refusals, user add."""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from lotsa_testing.clients import ConsoleClient, free_port
from lotsa_testing.server import LOTSA


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTSA_")}
    return {**env, **extra}


async def test_demo_runs_from_any_folder_and_its_log_ins_work(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(LOTSA + ["demo", "--port", str(port)], cwd=tmp_path, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("Press Ctrl+C" in line for line in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}/chat" in output and f"http://127.0.0.1:{port}/console" in output
        assert (tmp_path / "var" / "demo.db").exists()
        name, password = re.search(r"^\s+(anna)\s+(\S+)\s+\(counsellor\)", output, re.M).groups()
        anna = ConsoleClient(f"http://127.0.0.1:{port}")
        try:
            await anna.login(name, password)
            waiting = (await anna.queue())["waiting"]
            assert {c["group"] for c in waiting} == {"sells", "relative", "buys", "professional"}
        finally:
            await anna.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_serve_refuses_without_a_secret_key(tmp_path: Path) -> None:
    result = subprocess.run(LOTSA + ["serve"], cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "LOTSA_SECRET_KEY is not set" in result.stderr


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = _env(tmp_path, LOTSA_SECRET_KEY="a-secret-key-for-this-test", LOTSA_PORT=str(free_port()))
    result = subprocess.run(LOTSA + ["serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "run `lotsa db upgrade`" in result.stderr


def test_user_add_refuses_short_passwords_and_bad_roles(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run(LOTSA + ["db", "upgrade"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60)
    short = subprocess.run(LOTSA + ["user", "add", "anna", "--role", "counsellor"], cwd=tmp_path, env=env,
                           input="short\n", capture_output=True, text=True, timeout=60)
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    role = subprocess.run(LOTSA + ["user", "add", "anna", "--role", "boss"], cwd=tmp_path, env=env,
                          input="long enough password\n", capture_output=True, text=True, timeout=60)
    assert role.returncode == 2 and "invalid choice" in role.stderr


def test_the_bench_commands_take_their_own_options_and_others_refuse_them(tmp_path: Path) -> None:
    for command, option in ((["bench"], "--conversations"), (["triage", "bench"], "--messages")):
        result = subprocess.run(LOTSA + command + ["--help"], cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0 and option in result.stdout and "--json" in result.stdout
    other = subprocess.run(LOTSA + ["purge", "--conversations", "3"], cwd=tmp_path, env=_env(tmp_path),
                           capture_output=True, text=True, timeout=60)
    assert other.returncode == 2 and "unrecognized arguments: --conversations 3" in other.stderr
