"""Two rules of the redesign, checked on the source: only lotsa/conversations.py changes a
conversation's state, and no function of the service (or its tools) is longer than 60 lines."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE = ("lotsa", "bot", "handoff", "triage")
TOOLS = ("benchmarks", "lotsa_testing")
STATE_MACHINE = ROOT / "lotsa" / "conversations.py"
MAX_LINES = 60


def sources(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def names_a_state(node: ast.AST) -> bool:
    """The expression mentions ConversationState.<X>."""
    return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "ConversationState"
               for n in ast.walk(node))


def state_assignments(tree: ast.AST) -> list[int]:
    """Lines that set a conversation's state: `x.state = ConversationState.…` (also in a tuple) or
    `state=ConversationState.…` in a call such as `.values(…)`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and names_a_state(node.value):
            targets = [t for target in node.targets for t in ast.walk(target)]
            if any(isinstance(t, ast.Attribute) and t.attr == "state" for t in targets):
                found.append(node.lineno)
        elif isinstance(node, ast.keyword) and node.arg == "state" and names_a_state(node.value):
            found.append(node.value.lineno)
    return found


def long_functions(tree: ast.AST) -> list[str]:
    return [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None
            and node.end_lineno - node.lineno + 1 > MAX_LINES]


def test_the_checks_see_what_they_look_for() -> None:
    sample = ast.parse("a.state = ConversationState.CLOSED\nb.state, b.at = ConversationState.QUEUED, 1\n"
                       "update(C).values(state=ConversationState.ACTIVE)\nitem.state = OutboxState.DEAD\n"
                       "def f():\n" + "    x = 1\n" * MAX_LINES)
    assert state_assignments(sample) == [1, 2, 3]
    assert long_functions(sample) == [f"f ({MAX_LINES + 1} lines)"]
    assert len(sources(*SERVICE)) > 50


@pytest.mark.parametrize("path", sources(*SERVICE), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_state_machine_sets_a_conversations_state(path: Path) -> None:
    if path == STATE_MACHINE:
        return
    assert state_assignments(ast.parse(path.read_text(encoding="utf-8"))) == [], \
        f"{path.relative_to(ROOT)} sets a conversation's state: use lotsa.conversations.Change"


@pytest.mark.parametrize("path", sources(*SERVICE, *TOOLS), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_is_longer_than_60_lines(path: Path) -> None:
    assert long_functions(ast.parse(path.read_text(encoding="utf-8"))) == []
