"""Text helpers shared by the channels that cap a message's length (Telegram, SMS)."""
from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Split a long message at paragraph, line, sentence or word boundaries, never mid-word when
    a boundary exists in the second half of the piece."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for mark in ("\n\n", "\n", ". ", "? ", "! ", " "):
            at = window.rfind(mark)
            if at >= limit // 2:
                cut = at + len(mark.rstrip(" ")) if mark.strip() else at
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        parts.append(rest)
    return parts
