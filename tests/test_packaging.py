"""The package list in pyproject.toml is written by hand (config/ is installed as
lotsa.default_config): every folder of Python code must be in it, and every folder of pages or
static files in its package data, or an installed (non-editable) Lotsa fails at import or serves
no page."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ("lotsa", "bot", "handoff", "triage", "lotsa_testing", "benchmarks")
ASSETS = ("static", "templates")


def setuptools_table() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def python_packages() -> set[str]:
    return {".".join(p.parent.relative_to(ROOT).parts) for top in CODE for p in (ROOT / top).rglob("*.py")}


def test_every_folder_of_python_code_is_a_listed_package_with_an_init() -> None:
    listed = set(setuptools_table()["packages"])
    assert python_packages() - listed == set()
    assert all((ROOT / name.replace(".", "/") / "__init__.py").exists() for name in python_packages())


def test_every_folder_of_pages_and_static_files_is_package_data() -> None:
    data = setuptools_table()["package-data"]
    missing = [f"{package}: {folder}/*" for package in python_packages() for folder in ASSETS
               if (ROOT / package.replace(".", "/") / folder).is_dir()
               and f"{folder}/*" not in data.get(package, [])]
    assert missing == []
