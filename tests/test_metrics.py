"""`GET /metrics`: scraped through the real server, parsed with prometheus-client's own parser;
who may read it (addresses, trusted proxies, the bearer token); what its labels may carry."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lotsa.settings import ConfigError
from lotsa_testing.clients import ChatClient, waiting_chat
from lotsa_testing.every_channel import OUR_NUMBER, ProviderRig, provider_server
from lotsa_testing.server import RunningServer, make_settings, sqlite_database, start_server

TOKEN = "metrics-" + "t" * 32
LABELS = {"queue", "risk", "state", "channel", "direction", "kind", "route", "status", "le"}
"""Every label /metrics may carry: none can hold text, a number or anyone's id."""
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics", headers=headers or {}) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def metrics(url: str) -> Samples:
    status, content_type, text = await scrape(url)
    assert status == 200, text
    assert content_type.startswith("text/plain; version=0.0.4")
    return parse(text)


@pytest.fixture
async def configured(tmp_path: Path, database_url: str, request: pytest.FixtureRequest
                     ) -> AsyncIterator[RunningServer]:
    test_server, running = await start_server(make_settings(tmp_path, database_url, **request.param))
    yield running
    await test_server.close()


async def test_the_state_and_traffic_change_as_a_person_writes(server: RunningServer) -> None:
    before = await metrics(server.url)
    assert value(before, "lotsa_contacts_waiting", queue="general", risk="routine") == 0
    assert value(before, "lotsa_messages_total", channel="webchat", direction="in") == 0
    assert ("lotsa_contacts_waiting", frozenset({("queue", "acute"), ("risk", "acute")})) in before

    contact = await waiting_chat(server.url)
    try:
        cid = await contact.say("Jag heter Kim och mitt nummer är 0701234567")
        await contact.wait_acked(cid)
        after = await metrics(server.url)
        queue = next(dict(labels)["queue"] for (name, labels), v in after.items()
                     if name == "lotsa_contacts_waiting" and v == 1)
        assert value(after, "lotsa_contacts_waiting", queue=queue, risk="routine") == 1
        assert value(after, "lotsa_oldest_wait_seconds", queue=queue) > 0
        assert value(after, "lotsa_conversations_open", state="queued") == 1
        assert value(after, "lotsa_messages_total", channel="webchat", direction="in") == 4
        assert value(after, "lotsa_messages_total", channel="webchat", direction="out") >= 3
        assert value(after, "lotsa_open_sockets") == 1
        _, _, text = await scrape(server.url)
        assert "Kim" not in text and "0701234567" not in text and contact.token not in text
        labels = {label for family in text_string_to_metric_families(text) for s in family.samples
                  for label in s.labels}
        assert labels <= LABELS
    finally:
        await contact.close()
    for _ in range(50):
        if value(await metrics(server.url), "lotsa_open_sockets") == 0:
            break
        await asyncio.sleep(0.05)
    assert value(await metrics(server.url), "lotsa_open_sockets") == 0


async def test_each_application_counts_only_its_own_traffic(server: RunningServer, tmp_path: Path) -> None:
    folder = tmp_path / "other"
    folder.mkdir()
    test_server, other = await start_server(make_settings(folder, await sqlite_database(folder)))
    try:
        contact = ChatClient(server.url)
        await contact.connect()
        await contact.wait_acked(await contact.say("hej"))
        await contact.close()
        assert value(await metrics(server.url), "lotsa_messages_total", channel="webchat", direction="in") == 1
        assert value(await metrics(other.url), "lotsa_messages_total", channel="webchat", direction="in") == 0
    finally:
        await test_server.close()


@pytest.mark.parametrize("configured", [{"trusted_proxies": ["127.0.0.1"]}], indirect=True)
async def test_a_client_behind_a_trusted_proxy_is_refused_unless_its_own_address_is_allowed(
        configured: RunningServer) -> None:
    status, _, text = await scrape(configured.url, {"X-Forwarded-For": "203.0.113.7"})
    assert status == 403 and "forbidden" in text
    status, _, _ = await scrape(configured.url, {"X-Forwarded-For": "127.0.0.1"})
    assert status == 200, "the proxy itself may forward a local monitor"


@pytest.mark.parametrize("configured", [{"trusted_proxies": ["127.0.0.1"], "metrics_addresses": ["203.0.113.0/24"]}],
                         indirect=True)
async def test_a_monitoring_network_is_allowed_through_a_trusted_proxy(configured: RunningServer) -> None:
    assert (await scrape(configured.url, {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}))[0] == 200
    assert (await scrape(configured.url, {"X-Forwarded-For": "203.0.113.9, 198.51.100.1"}))[0] == 403
    assert (await scrape(configured.url))[0] == 403, "the proxy's own address is not in the list"


async def test_a_request_forwarded_by_a_proxy_lotsa_does_not_trust_is_not_local(server: RunningServer) -> None:
    """A proxy on the same host, not configured: every visitor would come from 127.0.0.1."""
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        status, _, _ = await scrape(server.url, {header: "203.0.113.7"})
        assert status == 403, header
    assert (await scrape(server.url))[0] == 200


@pytest.mark.parametrize("configured", [{"metrics_addresses": [], "metrics_token": TOKEN}], indirect=True)
async def test_the_bearer_token_opens_metrics_from_anywhere_and_nothing_else_does(configured: RunningServer) -> None:
    refused: list[dict[str, str]] = [
        {}, {"Authorization": "Bearer"}, {"Authorization": "Bearer " + TOKEN[:-1]},
        {"Authorization": "Bearer " + TOKEN + "x"}, {"Authorization": "Basic " + TOKEN},
        {"Authorization": TOKEN}, {"Authorization": "Bearer " + "ö" * 40},
    ]
    for headers in refused:
        assert (await scrape(configured.url, headers))[0] == 403, headers
    status, _, text = await scrape(configured.url, {"Authorization": "Bearer " + TOKEN,
                                                    "X-Forwarded-For": "203.0.113.7"})
    assert status == 200 and "lotsa_contacts_waiting" in text
    assert (await scrape(configured.url, {"Authorization": "bearer  " + TOKEN}))[0] == 200


@pytest.mark.parametrize("settings", [{"metrics_addresses": "127.0.0.1,not-an-address"},
                                      {"metrics_addresses": ["10.0.0.0/33"]}, {"metrics_token": "short"}])
def test_bad_metrics_settings_stop_the_start(tmp_path: Path, settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="metrics_"):
        make_settings(tmp_path, "sqlite+aiosqlite:///x.db", **settings)


async def test_the_format_follows_the_accept_header(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/metrics",
                               headers={"Accept": "application/openmetrics-text; version=1.0.0"}) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("application/openmetrics-text")
            assert (await r.text()).rstrip().endswith("# EOF")


# -- provider channels: webhook latency, deliveries, provider errors, dead letters ---------------

@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[ProviderRig]:
    async with provider_server(tmp_path) as rig:
        yield rig


async def _sms(rig: ProviderRig, body: str, sender: str, signed: bool = True) -> int:
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": rig.twilio.account_sid, "From": sender,
              "To": OUR_NUMBER, "Body": body, "NumMedia": "0"}
    headers = {"X-Twilio-Signature": rig.sign("/hooks/twilio/sms", params) if signed else "forged"}
    async with aiohttp.ClientSession() as session, session.post(f"{rig.url}/hooks/twilio/sms", data=params,
                                                                headers=headers) as r:
        return r.status


async def _until(url: str, name: str, at_least: float, **labels: str) -> Samples:
    for _ in range(100):
        samples = await metrics(url)
        if value(samples, name, **labels) >= at_least:
            return samples
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name}{labels} stayed below {at_least}")


async def test_webhooks_deliveries_and_provider_errors_are_counted(rig: ProviderRig) -> None:
    assert await _sms(rig, "hej", "+46701112233") == 200
    assert await _sms(rig, "hej", "+46701112233", signed=False) == 403
    samples = await _until(rig.url, "lotsa_outbox_sent_total", 1, channel="sms")
    sms_route = {"route": "/hooks/twilio/sms"}
    assert value(samples, "lotsa_webhook_duration_seconds_count", **sms_route, status="2xx") == 1
    assert value(samples, "lotsa_webhook_duration_seconds_count", **sms_route, status="4xx") == 1
    assert value(samples, "lotsa_webhook_duration_seconds_bucket", **sms_route, status="2xx", le="+Inf") == 1
    assert value(samples, "lotsa_messages_total", channel="sms", direction="in") == 1
    assert value(samples, "lotsa_messages_total", channel="sms", direction="out") == 1

    rig.twilio.fail_next(500)
    assert await _sms(rig, "1", "+46701112233") == 200
    samples = await _until(rig.url, "lotsa_provider_errors_total", 1, channel="sms", kind="temporary")
    rig.twilio.fail_next(400)
    assert await _sms(rig, "hej", "+46709998877") == 200
    samples = await _until(rig.url, "lotsa_outbox_dead_letters", 1, channel="sms")
    assert value(samples, "lotsa_provider_errors_total", channel="sms", kind="permanent") == 1
    assert value(samples, "lotsa_outbox_backlog", channel="telegram") == 0
