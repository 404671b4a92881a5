"""Typed keys for what the app factory puts on the aiohttp application, declared in one place."""
from __future__ import annotations

from aiohttp import web

from handoff.queue_state import QueueSnapshots
from handoff.queues import QueueDirectory
from handoff.service import Handoff
from lotsa.auth import SessionTimes
from lotsa.channels import Channel
from lotsa.conversations import Conversations
from lotsa.crypto import Keyring
from lotsa.db import Database
from lotsa.events import EventPublisher
from lotsa.login_throttle import LoginThrottle
from lotsa.outbox import OutboxRelay
from lotsa.pipeline import Pipeline
from lotsa.settings import Settings
from lotsa.texts import Catalogue

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
EVENTS = web.AppKey("events", EventPublisher)
KEYRING = web.AppKey("keyring", Keyring)
TEXTS = web.AppKey("texts", Catalogue)
CONVERSATIONS = web.AppKey("conversations", Conversations)
PIPELINE = web.AppKey("pipeline", Pipeline)
QUEUES = web.AppKey("queues", QueueDirectory)
OUTBOX = web.AppKey("outbox", OutboxRelay)
CHANNELS = web.AppKey("channels", dict[str, Channel])
SESSION_TIMES = web.AppKey("session_times", SessionTimes)
SOCKETS = web.AppKey[set[web.WebSocketResponse]]("sockets")
HANDOFF = web.AppKey("handoff", Handoff)
QUEUE_STATE = web.AppKey("queue_state", QueueSnapshots)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
