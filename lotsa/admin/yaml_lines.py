"""Where in a YAML text a key is: errors that name a key (`steps.who.choices.sells.next`) are shown
at its line, from the node marks PyYAML keeps while composing."""
from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

KEY = re.compile(r"^([\w\-]+(?:\.[\w\-]+)*): ")
NEAR = re.compile(r"^([\w\-]+(?:\.[\w\-]+)+)")


@dataclass(frozen=True)
class Problem:
    line: int | None
    """1-based; None when the problem is not in this text (another document, the whole file)."""
    key: str
    message: str

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "key": self.key, "message": self.message}


def syntax_problem(content: str) -> Problem | None:
    """The first YAML error of the text (syntax, or a tag the safe loader refuses), at its line;
    None when it loads."""
    try:
        yaml.safe_load(content)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        return Problem(mark.line + 1 if mark else None, "", f"{e.context or ''} {e.problem or ''}".strip())
    except yaml.YAMLError as e:
        return Problem(None, "", str(e))
    return None


def line_of(content: str, key: str) -> int | None:
    """The line of the deepest node of `key` found (a sequence item is found by its index or its `id`)."""
    try:
        node = yaml.compose(content, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in key.split(".") if key else []:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == part), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode):
            item = _item(node, part)
            if item is None:
                break
            line, node = item.start_mark.line + 1, item
        else:
            break
    return line


def _item(node: yaml.SequenceNode, part: str) -> yaml.Node | None:
    if part.isdigit() and int(part) < len(node.value):
        return node.value[int(part)]
    for item in node.value:
        if isinstance(item, yaml.MappingNode) and any(k.value == "id" and v.value == part for k, v in item.value):
            return item
    return None


def problems(message: str, content: str, own_prefixes: tuple[str, ...]) -> list[Problem]:
    """A loader's error message ("file: key: what; file: key: what") as problems at their lines.
    A part naming this document (one of `own_prefixes`) is placed at its key's line."""
    found = []
    for part in message.split("; "):
        text = part.strip()
        own = next((p for p in own_prefixes if text.startswith(p)), None)
        if own is None:
            found.append(Problem(None, "", text))
            continue
        text = text[len(own):]
        keys = []
        while (match := KEY.match(text)) is not None:
            keys.append(match.group(1))
            text = text[match.end():]
        key = ".".join(keys)
        if not key and (near := NEAR.match(text)) is not None:
            # A key that is not a plain path (a mapping key with spaces): its line is that of the
            # deepest part that is.
            found.append(Problem(line_of(content, near.group(1)), "", text))
            continue
        found.append(Problem(line_of(content, key), key, text))
    return found
