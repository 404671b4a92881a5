"""`lotsa triage publish | versions | rollback` as a script runs them: a real process on a migrated
SQLite file, problems printed at the file's line, and the audit log."""
from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from lotsa.settings import default_config_dir
from lotsa_testing.server import LOTSA

SCRIPT = (default_config_dir() / "triage" / "default.yaml").read_text(encoding="utf-8")


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTSA_")}
    return subprocess.run(LOTSA + list(args), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_publish_versions_and_rollback_from_the_command_line(tmp_path: Path) -> None:
    upgraded = run(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0 and "configuration documents imported" in upgraded.stdout
    (tmp_path / "warmer.yaml").write_text(SCRIPT.replace("Talk to someone now", "Talk to a person now"))
    published = run(tmp_path, "triage", "publish", "warmer.yaml", "--comment", "plainer words")
    assert published.returncode == 0 and published.stdout.strip() == "published default version 2"
    broken = SCRIPT.replace("start: language", "start: nowhere")
    (tmp_path / "broken.yaml").write_text(broken)
    refused = run(tmp_path, "triage", "publish", "broken.yaml", "--comment", "oops")
    line = broken.splitlines().index("start: nowhere") + 1
    assert refused.returncode == 1 and refused.stderr.startswith(f"broken.yaml:{line}: start: no step named")
    again = run(tmp_path, "triage", "publish", "warmer.yaml", "--comment", "twice")
    assert again.returncode == 1 and "nothing changed" in again.stderr
    back = run(tmp_path, "triage", "rollback", "1")
    assert back.returncode == 0 and "version 1 published again as version 3" in back.stdout
    listed = [line.split("\t") for line in run(tmp_path, "triage", "versions").stdout.splitlines()]
    assert [(row[0], row[1], row[3], row[4], row[5]) for row in listed] == [
        ("default", "3", "cli", "active", "rollback to version 1"), ("default", "2", "cli", "", "plainer words"),
        ("default", "1", "config", "", "imported from the configuration folder")]
    with sqlite3.connect(tmp_path / "var" / "lotsa.db") as db:
        audited = db.execute("SELECT actor, target, detail FROM audit_log WHERE action = 'config.published'").fetchall()
    assert len(audited) == 2 and all(actor == "cli" and target == "triage_script:default"
                                     for actor, target, _ in audited)
