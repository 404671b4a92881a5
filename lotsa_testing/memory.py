"""An in-memory channel: drives conversations in tests as a person would.

It behaves like a provider channel: inbound messages carry a pseudonymous key and an encrypted
reply address; outbound ones arrive through the outbox relay. It can be told to fail deliveries.
"""
from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

from aiohttp import web

from lotsa.channels import Channel, DeliveryError, InboundMessage, OutboundMessage
from lotsa.pipeline import Accepted, Pipeline
from lotsa.settings import Settings


class MemoryChannel(Channel):
    """Not registered: an app has it only when asked (`create_app(..., channels=[MemoryChannel])`)."""

    name = "memory"
    delivers = True

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(pipeline)
        self.keyring = pipeline.keyring
        self.sent: dict[str, list[OutboundMessage]] = defaultdict(list)
        self.delivered_keys: set[str] = set()
        self.failures = 0
        self._arrived = asyncio.Condition()

    async def write(self, address: str, text: str = "", *, choice: str | None = None,
                    message_id: str | None = None, client: str | None = None) -> Accepted:
        """The person at `address` writes (or presses a choice); `client`: as if from that client
        address (its keyed digest: the flood limit's key)."""
        inbound = InboundMessage(channel=self.name, contact_key=self.keyring.contact_key(self.name, address),
                                 provider_message_id=message_id or f"mem-{uuid.uuid4().hex}", text=text,
                                 choice=choice, reply_address=address, client=client)
        return await self.pipeline.accept(inbound)

    @classmethod
    def from_settings(cls, settings: Settings, pipeline: Pipeline) -> MemoryChannel:
        return cls(pipeline)

    def add_routes(self, app: web.Application) -> None:
        """No routes: tests write through `write`."""

    def fail_next(self, count: int) -> None:
        self.failures = count

    async def send(self, message: OutboundMessage) -> str | None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("simulated provider outage", retry_after=0.05)
        if message.idempotency_key not in self.delivered_keys:
            self.delivered_keys.add(message.idempotency_key)
            self.sent[message.address].append(message)
        async with self._arrived:
            self._arrived.notify_all()
        return f"memory-{message.idempotency_key[:12]}"

    async def wait_for(self, address: str, count: int, timeout: float = 5.0) -> list[OutboundMessage]:
        """Wait until `count` messages have reached `address`."""
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.sent[address]) >= count), timeout)
        return self.sent[address]
