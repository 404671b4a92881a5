"""The client's address for in-memory throttles: X-Forwarded-For only from a trusted proxy, and
only ever kept as a keyed digest."""
from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from lotsa.client_address import address_key, client_address


def _request(peer: str, forwarded: str | None = None) -> web.Request:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return make_mocked_request("GET", "/", headers=headers).clone(remote=peer)


def test_forwarded_for_counts_only_from_a_trusted_proxy() -> None:
    assert client_address(_request("203.0.113.9", "198.51.100.1"), []) == "203.0.113.9"
    trusted = ["10.0.0.1"]
    assert client_address(_request("10.0.0.1", "1.2.3.4, 198.51.100.1"), trusted) == "198.51.100.1"
    assert client_address(_request("10.0.0.1"), trusted) == "10.0.0.1"


def test_the_key_is_a_digest_not_the_address() -> None:
    assert address_key("198.51.100.1") == address_key("198.51.100.1") != address_key("198.51.100.2")
    assert "198" not in address_key("198.51.100.1")
