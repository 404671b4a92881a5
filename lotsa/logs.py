"""Logging that carries ids, never message text, identifiers or IP addresses."""
from __future__ import annotations

import logging
import sys

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class IdFormatter(logging.Formatter):
    """`time level logger message key=value…` with the ids passed in `extra`."""

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in sorted(vars(record).items())
                          if k not in _STANDARD and isinstance(v, int | str))
        return f"{base} {extras}" if extras else base


CONTENT_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg", "httpx", "httpcore",
                   "twilio.http_client", "twilio.async_http_client", "aiohttp_retry", "telegram", "hpack")
"""Libraries that log statement parameters, request bodies or URLs with tokens at their debug levels."""


def silence_content_loggers() -> None:
    """Whatever level an admin sets, these never log below WARNING: their details carry message text
    and identifiers."""
    for name in CONTENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(IdFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    silence_content_loggers()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING if level.upper() != "DEBUG" else logging.INFO)


class AccessLogger(AbstractAccessLogger):
    """Method, route and status: no client address, no query string, no headers."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.1fms", request.method, request.path, response.status, time * 1000)
