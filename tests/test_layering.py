"""The service's packages never import the testing toolkit or the benchmarks, and triage stands alone.

Walks the syntax tree of every module in lotsa/, bot/, handoff/ and triage/, so an import hidden
inside a function counts as much as one at the top. The one allowed exception: lotsa/cli.py runs
`lotsa bench` and `lotsa triage bench`, and imports `benchmarks` inside the functions that do."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("lotsa", "bot", "handoff", "triage")
NEVER = ("lotsa_testing", "benchmarks")
CLI = ROOT / "lotsa" / "cli.py"


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imports(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    """(top-level package imported, the import node) for every import in `tree`; relative imports
    resolve to the package the module is in, which is never one of NEVER."""
    found: list[tuple[str, ast.AST]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node))
    return found


def inside_functions(tree: ast.AST) -> set[ast.AST]:
    """The import nodes within a function body (run only when the function is called)."""
    return {node for function in ast.walk(tree) if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)}


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_walk_finds_the_packages_and_sees_imports_inside_functions() -> None:
    for package in PRODUCT:
        assert len(modules(package)) > 1, package
    tree = ast.parse("import os\ndef f():\n    from benchmarks import load\n    import lotsa_testing.server\n")
    assert [name for name, _ in imports(tree)] == ["os", "benchmarks", "lotsa_testing"]
    assert len(inside_functions(tree)) == 2


@pytest.mark.parametrize("package", PRODUCT)
def test_the_service_never_imports_the_testing_toolkit_or_the_benchmarks(package: str) -> None:
    offences = []
    for path in modules(package):
        tree = parsed(path)
        lazy = inside_functions(tree)
        for name, node in imports(tree):
            if name not in NEVER or (path == CLI and name == "benchmarks" and node in lazy):
                continue
            offences.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert offences == []


def test_the_cli_imports_the_benchmarks_only_inside_functions() -> None:
    tree = parsed(CLI)
    found = [node for name, node in imports(tree) if name == "benchmarks"]
    assert found, "lotsa/cli.py no longer runs the benchmarks: drop its exception from this test"
    assert set(found) <= inside_functions(tree)


def test_triage_imports_none_of_the_service_packages() -> None:
    offences = [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                for path in modules("triage") for name, node in imports(parsed(path))
                if name in ("lotsa", "bot", "handoff", *NEVER)]
    assert offences == []


def test_building_the_command_line_loads_neither() -> None:
    """`lotsa serve` builds the whole parser: the bench commands must not pull the benchmarks (and the
    protocol clients they use) into the service's process."""
    probe = ("import sys; from lotsa.cli import parser; parser(); "
             f"print(sorted(m for m in sys.modules if m.split('.')[0] in {NEVER!r}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
