"""The package list in pyproject.toml is written by hand (config/ is installed as
lotsa.default_config): every folder of code or data must be in it, and every page, static file and
configuration file in its package data, or an installed (non-editable) Lotsa fails at import or serves
no page. A folder left out of the list also makes setuptools print a long warning on every install
(the demo command's first screen)."""
from __future__ import annotations

import fnmatch
import subprocess
import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
CODE = ("lotsa", "bot", "handoff", "triage", "lotsa_testing", "benchmarks")
SHIPPED = ("lotsa", "bot", "handoff", "triage", "config")
"""Folders whose every file an installed Lotsa needs (benchmarks and the test kit keep notes and
scripts of their own that are not installed)."""


def setuptools_table() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def package_of(folder: PurePosixPath) -> str:
    parts = folder.parts
    return ".".join(("lotsa", "default_config", *parts[1:]) if parts[0] == "config" else parts)


def tracked_files() -> list[PurePosixPath]:
    listed = subprocess.run(["git", "ls-files", *CODE, "config"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    return [PurePosixPath(name) for name in listed if (ROOT / name).exists()]


def test_every_folder_of_code_or_data_is_a_listed_package() -> None:
    listed = set(setuptools_table()["packages"])
    folders = {package_of(f.parent) for f in tracked_files()
               if f.parent.parts[0] in SHIPPED or f.suffix == ".py"}
    assert folders - listed == set()


def test_every_python_package_has_an_init() -> None:
    packages = {f.parent for f in tracked_files() if f.suffix == ".py"}
    assert [str(p) for p in packages if not (ROOT / p / "__init__.py").exists()] == []


def test_every_page_static_file_and_configuration_file_is_package_data() -> None:
    data = setuptools_table()["package-data"]
    missing = [str(f) for f in tracked_files()
               if f.parts[0] in SHIPPED and f.suffix != ".py"
               and not any(fnmatch.fnmatch(f.name, pattern) for pattern in data.get(package_of(f.parent), []))]
    assert missing == []
