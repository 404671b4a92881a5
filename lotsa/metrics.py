"""`GET /metrics`: the service's state and traffic in the Prometheus text format.

Gauges are read at scrape time (`StateCollector`): who waits, by queue and risk, and the longest
wait; open conversations by state; the outbox backlog, held messages and dead letters by channel;
open sockets. They come from the database, so every worker reports the same values. Counters and
histograms are this worker's own since it started: messages stored in and out by channel, outbox
deliveries and provider errors by channel, webhook latency by route. Labels are queue ids, risk
levels, channels, states and routes only: never message text, a phone number or anyone's id.

Each application has its own `CollectorRegistry` (never the library's global one): tests start many
applications in one process. Only the addresses in `metrics_addresses` (the client's address as
`lotsa.client_address` works it out behind trusted proxies), or a request with the
`metrics_token` bearer token, may read it; anyone else gets 403.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, choose_encoder, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from lotsa.client_address import client_address
from lotsa.db import Database
from lotsa.errors import Refused
from lotsa.models import Conversation, ConversationState, OutboxItem, OutboxState, utcnow
from lotsa.settings import Settings
from triage.vocabulary import RISKS

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
WEBHOOK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")
OPEN_STATES = (ConversationState.TRIAGE, ConversationState.QUEUED, ConversationState.ACTIVE)


@dataclass
class State:
    """What the gauges show, read from the database at one scrape."""

    waiting: dict[tuple[str, str], int] = field(default_factory=dict)
    """(queue, risk) → conversations waiting."""
    oldest_wait: dict[str, float] = field(default_factory=dict)
    """queue → seconds the longest-waiting conversation has waited."""
    open: dict[str, int] = field(default_factory=dict)
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)
    """(channel, state: pending | held | dead) → items."""
    oldest_pending: dict[str, float] = field(default_factory=dict)


async def read_state(db: Database, now: datetime) -> State:
    state = State()
    async with db.read() as session:
        conversations = await session.execute(
            select(Conversation.state, Conversation.queue, Conversation.risk, func.count(),
                   func.min(Conversation.queued_at))
            .where(Conversation.state.in_(OPEN_STATES))
            .group_by(Conversation.state, Conversation.queue, Conversation.risk))
        for conversation_state, queue, risk, count, since in conversations:
            state.open[conversation_state] = state.open.get(conversation_state, 0) + count
            if conversation_state == ConversationState.QUEUED and queue is not None:
                state.waiting[queue, risk] = count
                if since is not None:
                    waited = max((now - since).total_seconds(), 0.0)
                    state.oldest_wait[queue] = max(state.oldest_wait.get(queue, 0.0), waited)
        outbox = await session.execute(
            select(OutboxItem.channel, OutboxItem.state, func.count(), func.min(OutboxItem.created_at))
            .where(OutboxItem.state.in_((OutboxState.PENDING, OutboxState.HELD, OutboxState.DEAD)))
            .group_by(OutboxItem.channel, OutboxItem.state))
        for channel, item_state, count, since in outbox:
            state.outbox[channel, item_state] = count
            if item_state == OutboxState.PENDING and since is not None:
                state.oldest_pending[channel] = max((now - since).total_seconds(), 0.0)
    return state


class StateCollector(Collector):
    """The gauges of the last `refresh`, with a series for every queue × risk and every channel
    (at zero when nothing is there), so a dashboard's lines do not come and go."""

    def __init__(self, queues: Iterable[str], channels: Iterable[str], sockets: Callable[[], int]) -> None:
        self.queues = list(queues)
        self.channels = list(channels)
        self.sockets = sockets
        self.state = State()

    async def refresh(self, db: Database) -> None:
        self.state = await read_state(db, utcnow())

    def collect(self) -> Iterator[Metric]:
        state = self.state
        queues = sorted({*self.queues, *(q for q, _ in state.waiting)})
        channels = sorted({*self.channels, *(c for c, _ in state.outbox)})
        waiting = GaugeMetricFamily("lotsa_contacts_waiting", "People waiting for a counsellor, by queue and risk.",
                                    labels=["queue", "risk"])
        oldest = GaugeMetricFamily("lotsa_oldest_wait_seconds",
                                   "How long the longest-waiting person of each queue has waited (0: nobody waits).",
                                   labels=["queue"])
        for queue in queues:
            for risk in RISKS:
                waiting.add_metric([queue, risk], state.waiting.get((queue, risk), 0))
            oldest.add_metric([queue], state.oldest_wait.get(queue, 0.0))
        yield waiting
        yield oldest
        conversations = GaugeMetricFamily("lotsa_conversations_open", "Conversations not closed, by state.",
                                          labels=["state"])
        for conversation_state in OPEN_STATES:
            conversations.add_metric([conversation_state.value], state.open.get(conversation_state, 0))
        yield conversations
        yield from self._outbox(channels)
        yield GaugeMetricFamily("lotsa_open_sockets", "Open WebSockets (web chats and consoles) of this worker.",
                                value=self.sockets())

    def _outbox(self, channels: list[str]) -> Iterator[Metric]:
        state = self.state
        families = {
            OutboxState.PENDING: GaugeMetricFamily(
                "lotsa_outbox_backlog", "Messages waiting to be delivered to a provider, by channel.",
                labels=["channel"]),
            OutboxState.HELD: GaugeMetricFamily(
                "lotsa_outbox_held", "Messages held until the person answers the safe-contact check, by channel.",
                labels=["channel"]),
            OutboxState.DEAD: GaugeMetricFamily(
                "lotsa_outbox_dead_letters", "Messages a provider refused for good (supervisors can retry them).",
                labels=["channel"]),
        }
        oldest = GaugeMetricFamily("lotsa_outbox_oldest_pending_seconds",
                                   "Age of the oldest message waiting to be delivered, by channel.", labels=["channel"])
        for channel in channels:
            for item_state, family in families.items():
                family.add_metric([channel], state.outbox.get((channel, item_state), 0))
            oldest.add_metric([channel], state.oldest_pending.get(channel, 0.0))
        yield from families.values()
        yield oldest


class Metrics:
    """The registry of one application: the state collector, the counters and the histogram."""

    def __init__(self, db: Database, settings: Settings, queues: Iterable[str], channels: Iterable[str],
                 sockets: Callable[[], int]) -> None:
        self.db = db
        self.settings = settings
        self.networks = networks(settings.metrics_addresses)
        self.registry = CollectorRegistry()
        self.state = StateCollector(queues, channels, sockets)
        self.registry.register(self.state)
        self.messages = Counter("lotsa_messages", "Messages stored since this worker started, by channel and "
                                "direction (in: from people; out: to them).", ["channel", "direction"],
                                registry=self.registry)
        self.sent = Counter("lotsa_outbox_sent", "Messages a provider took from this worker's outbox relay.",
                            ["channel"], registry=self.registry)
        self.provider_errors = Counter("lotsa_provider_errors", "Failed deliveries to a provider, by channel and "
                                       "kind (temporary: retried; permanent: a dead letter).", ["channel", "kind"],
                                       registry=self.registry)
        self.webhook_seconds = Histogram("lotsa_webhook_duration_seconds", "Time to answer a provider's webhook, "
                                         "by route and status class.", ["route", "status"],
                                         buckets=WEBHOOK_BUCKETS, registry=self.registry)
        for channel in channels:
            for direction in ("in", "out"):
                self.messages.labels(channel, direction)

    def count_message(self, channel: str, direction: str) -> None:
        """A message stored and committed (called by `Conversations.publish`)."""
        self.messages.labels(channel, direction).inc()

    def count_delivery(self, channel: str, outcome: str) -> None:
        """A delivery attempt of the outbox relay: `sent`, `temporary` or `permanent`."""
        if outcome == "sent":
            self.sent.labels(channel).inc()
        else:
            self.provider_errors.labels(channel, outcome).inc()

    @web.middleware
    async def time_webhooks(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/hooks/"):
            return await handler(request)
        started, status = time.perf_counter(), 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as e:
            status = e.status
            raise
        except Refused as e:
            status = e.status
            raise
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            self.webhook_seconds.labels(route, f"{status // 100}xx").observe(time.perf_counter() - started)

    def allowed(self, request: web.Request) -> bool:
        """From a monitoring address, or with the bearer token. A request a proxy forwarded counts
        as local only when that proxy is trusted (else a proxy on this host would make every
        visitor local)."""
        trusted = self.settings.trusted_proxies
        forwarded = any(name in request.headers for name in FORWARDING_HEADERS)
        if not forwarded or (request.remote or "") in trusted:
            if within(client_address(request, trusted), self.networks):
                return True
        token = self.settings.metrics_token
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return (token is not None and scheme.lower() == "bearer"
                and hmac.compare_digest(given.strip().encode(errors="replace"), token.get_secret_value().encode()))

    async def handle(self, request: web.Request) -> web.Response:
        if not self.allowed(request):
            log.info("metrics refused")
            raise Refused("forbidden", "Metrics are served to the monitoring addresses or with the metrics token.",
                          403)
        await self.state.refresh(self.db)
        body, content_type = encode(self.registry, request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})


def encode(registry: CollectorRegistry, accept: str) -> tuple[bytes, str]:
    """The format the scraper asks for (prometheus-client's negotiation: OpenMetrics or the text
    format); the classic text format when the Accept header cannot be read."""
    try:
        encoder, content_type = choose_encoder(accept)
        return encoder(registry), content_type
    except (ValueError, TypeError):  # a version that is not a version: the library compares str with int
        return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4


def networks(entries: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


def within(address: str, allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in allowed)
