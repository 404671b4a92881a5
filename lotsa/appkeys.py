"""Typed keys for what the app factory puts on the aiohttp application, declared in one place."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from lotsa.texts import Catalogue

if TYPE_CHECKING:
    pass

SETTINGS = web.AppKey["Settings"]("settings")
DB = web.AppKey["Database"]("db")
EVENTS = web.AppKey["EventBus"]("events")
KEYRING = web.AppKey["Keyring"]("keyring")
PIPELINE = web.AppKey["Pipeline"]("pipeline")
OUTBOX = web.AppKey["OutboxRelay"]("outbox")
SESSION_TIMES = web.AppKey["SessionTimes"]("session_times")
SOCKETS = web.AppKey["set[web.WebSocketResponse]"]("sockets")
HANDOFF = web.AppKey["Handoff"]("handoff")
QUEUE_STATE = web.AppKey["QueueSnapshots"]("queue_state")
TEXTS = web.AppKey("texts", Catalogue)
