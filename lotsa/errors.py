"""One error path: a request, a frame or a webhook that cannot be taken raises `Refused`; the HTTP
middleware and the socket handlers turn it into the one kind of answer each speaks (a JSON error
with the status, or an error frame). Anything else that escapes is a bug: logged, answered 500."""
from __future__ import annotations


class Refused(Exception):
    """A clear "no" to what someone asked: `code` for programs, `message` for people."""

    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def ascii_id(raw: str, *, max_digits: int = 12) -> int | None:
    """An id from a URL or form: ASCII digits only ("²".isdigit() is true, int("²") fails), not 0,
    at most `max_digits` long; None otherwise."""
    if not raw or len(raw) > max_digits or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value > 0 else None
