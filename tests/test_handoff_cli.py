"""`lotsa user add` stores a counsellor's skills: languages, queues and most simultaneous chats."""
from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from sqlalchemy import select

from lotsa.db import Database
from lotsa.models import StaffUser
from lotsa_testing.server import LOTSA


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTSA_")}
    return {**env, "LOTSA_DATA_DIR": str(tmp_path / "var")}


def _add(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(LOTSA + ["user", "add", *args], cwd=tmp_path, env=_env(tmp_path),
                          input="long enough password\n", capture_output=True, text=True, timeout=60)


def test_user_add_stores_skills_and_refuses_unknown_queues(tmp_path: Path) -> None:
    subprocess.run(LOTSA + ["db", "upgrade"], cwd=tmp_path, env=_env(tmp_path), check=True, capture_output=True,
                   timeout=60)
    added = _add(tmp_path, "bo", "--role", "counsellor", "--languages", "sv,en", "--queues", "buys, acute",
                 "--max-chats", "2")
    assert added.returncode == 0, added.stderr
    plain = _add(tmp_path, "cia", "--role", "counsellor")
    assert plain.returncode == 0, plain.stderr
    unknown = _add(tmp_path, "dan", "--role", "counsellor", "--queues", "sells,nowhere")
    assert unknown.returncode == 2 and "nowhere" in unknown.stderr and "queues.yaml" in unknown.stderr
    too_many = _add(tmp_path, "eva", "--role", "counsellor", "--max-chats", "0")
    assert too_many.returncode == 2 and "max chats" in too_many.stderr

    async def skills() -> dict[str, tuple[list[str], list[str], int]]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'var' / 'lotsa.db'}")
        try:
            async with db.read() as session:
                users = (await session.execute(select(StaffUser))).scalars().all()
                return {u.name: (u.languages, u.queues, u.max_chats) for u in users}
        finally:
            await db.close()

    assert asyncio.run(skills()) == {"bo": (["sv", "en"], ["buys", "acute"], 2), "cia": ([], [], 3)}
