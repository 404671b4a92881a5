"""The adapter interface every messaging channel implements.

Inbound, an adapter verifies and normalises what the provider sends into an `InboundMessage` and
hands it to `Pipeline.accept`. Outbound, channels that deliver through a provider implement
`OutboundChannel.send`; the outbox relay calls it with retries. (The web chat needs no outbox: its
page is pushed new messages live and catches up from the transcript after a reconnect.)
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from lotsa.models import utcnow


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


class OutboundChannel(ABC):
    name: ClassVar[str]

    @abstractmethod
    async def send(self, message: OutboundMessage) -> str | None:
        """Deliver one message; return the provider's message id. The idempotency key lets a
        provider (or the adapter) drop a second delivery after a crash."""


class ProviderChannel(OutboundChannel):
    """A channel to an outside provider (Telegram, Twilio): opened with the service, closed with it.
    A provider that cannot be reached at start must not stop the service."""

    pipeline: Any = None

    async def start(self) -> None:
        """Open clients; must not raise when the provider is unreachable."""

    async def close(self) -> None:
        """Close clients."""
