"""`lotsa triage classify | eval | train` as their contract specifies them (README, "Commands"; docs/triage.md)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from lotsa.settings import default_config_dir

LOTSA = [sys.executable, "-m", "lotsa.cli"]


def test_classify_reads_json_lines_and_writes_one_line_each() -> None:
    lines = [{"id": "a", "text": "hjälp jag är 15 och han tog mitt pass"}, {"id": 2, "text": "hej"},
             "not json", {"id": "c"}, {"id": "d", "text": "i want to stop buying sex"}]
    stdin = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    result = subprocess.run(LOTSA + ["triage", "classify"], input=stdin, capture_output=True, text=True,
                            timeout=120, check=True)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 5
    first = out[0]
    assert set(first) == {"id", "group", "flags", "risk", "needs", "language", "queue", "confidence"}
    assert first["id"] == "a" and {"minor", "trafficking"} <= set(first["flags"])
    assert first["risk"] == "acute" and first["queue"] == "acute" and first["language"] == "sv"
    assert out[1]["id"] == 2 and out[1]["risk"] == "routine"
    assert "error" in out[2] and "error" in out[3]
    assert out[4]["group"] == "buys" and out[4]["queue"] == "buys"


def test_eval_prints_per_class_scores_and_a_confusion_matrix() -> None:
    result = subprocess.run(LOTSA + ["triage", "eval"], capture_output=True, text=True, timeout=120, check=True)
    assert "macro-F1" in result.stdout and "confusion" in result.stdout
    for name in ("sells", "buys", "relative", "professional", "other", "minor", "immediate_danger", "suicide",
                 "trafficking"):
        assert name in result.stdout


def test_train_builds_a_model_an_admin_can_use(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(default_config_dir(), config, ignore=shutil.ignore_patterns("model", "__pycache__"))
    examples = config / "triage" / "examples"
    for path in examples.glob("*.jsonl"):
        path.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:40]) + "\n", encoding="utf-8")
    trained = subprocess.run(LOTSA + ["triage", "train", "--config", str(config), "--epochs", "2"],
                             capture_output=True, text=True, timeout=300, check=True)
    assert "trained on" in trained.stdout and (config / "triage" / "model" / "config.cfg").exists()
    result = subprocess.run(LOTSA + ["triage", "classify", "--config", str(config)], input='{"id": 1, "text": "hej"}\n',
                            capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout)["id"] == 1
