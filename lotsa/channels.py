"""The adapter interface every messaging channel implements, and the registry they join.

A channel registers itself (`@register`), is built from the settings (`from_settings`, None when
it is switched off) with the pipeline it hands messages to, and adds its own routes. Inbound, it
verifies and normalises what the provider sends into an `InboundMessage` and hands it to
`Pipeline.accept`. Outbound, a channel that `delivers` implements `send`; the outbox relay calls it
with retries. (The web chat needs no outbox: its page is pushed new messages live and catches up
from the transcript after a reconnect.) `running` is the channel's life with the service: its
clients open and close there, and anything it runs in the background (Telegram polling).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from aiohttp import web

from lotsa.models import utcnow

if TYPE_CHECKING:
    from lotsa.pipeline import Pipeline
    from lotsa.settings import Settings


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    contact_key: str
    """The pseudonymous key (Keyring.contact_key): never a phone number, chat id or IP."""
    provider_message_id: str
    """Unique per channel; a provider's retry carries the same id and is not stored twice."""
    text: str
    choice: str | None = None
    """A triage choice id, when the person pressed a button (or keypad digit)."""
    language: str | None = None
    reply_address: str | None = None
    """What is needed to reply (phone number, chat id): stored encrypted, never in clear."""
    client_ref: str | None = None
    """A reference the sender's own client gave the message, echoed back so it can match its copy."""
    source: str | None = None
    """The campaign or entry point the person came from, when the entry link or they say so."""
    provider_meta: dict[str, Any] = field(default_factory=dict)
    """Provider details kept with the message (never an identifier), e.g. a Telegram message id
    so the bot can delete the message when the person asks."""
    flags: tuple[str, ...] = ()
    """Red flags the person raised themselves (e.g. pressed 9: "I am in danger right now")."""
    greeted: bool = False
    """The person was shown the script's greeting before this message (the web chat does that)."""
    client: str | None = None
    """A keyed digest of the client's address (lotsa.client_address), for the in-memory flood limit
    on new conversations: never stored or logged."""
    received_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class OutboundMessage:
    idempotency_key: str
    channel: str
    address: str
    text: str
    choices: tuple[tuple[str, str], ...] = ()
    in_doubt_since: datetime | None = None
    """An earlier attempt began at this time and never finished (the service was killed mid-send):
    a channel that can ask its provider what was delivered does so before sending again."""


class DeliveryError(Exception):
    """A temporary failure: the relay tries again later (after `retry_after` seconds if given)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentDeliveryError(Exception):
    """The provider will never accept this message: it goes to the dead-letter list."""


class Channel(ABC):
    """A messaging channel: built from settings, given the pipeline, adding its own routes."""

    name: ClassVar[str]
    delivers: ClassVar[bool] = False
    """Messages to this channel's people leave through the outbox (`send`)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings, pipeline: Pipeline) -> Channel | None:
        """The channel as the settings configure it; None when it is switched off."""

    @abstractmethod
    def add_routes(self, app: web.Application) -> None:
        """Add this channel's pages, sockets or webhooks."""

    async def send(self, message: OutboundMessage) -> str | None:
        raise NotImplementedError(f"{self.name} does not deliver through the outbox")

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """The channel's life with the service (an aiohttp cleanup context): open clients, run
        what runs in the background, close. A provider unreachable at start must not stop it."""
        yield


ChannelClass = TypeVar("ChannelClass", bound=type[Channel])
_REGISTERED: dict[str, type[Channel]] = {}


def register(cls: ChannelClass) -> ChannelClass:
    """Class decorator: the channel is built by every app whose settings switch it on."""
    _REGISTERED[cls.name] = cls
    return cls


def registered() -> list[type[Channel]]:
    """Every registered channel class, in the order they registered."""
    return list(_REGISTERED.values())
