"""Who is asking, for throttles that live in memory only: the client's address, reduced at once to
a keyed digest (a key made at start and never stored), so no address is kept, stored or logged.

Behind a reverse proxy every request comes from the proxy: only when the peer is one of the
configured `trusted_proxies` does `X-Forwarded-For` say who the client is (the right-most entry
that is not itself a trusted proxy: the left ones are whatever the client chose to send).
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection

from aiohttp import web

_KEY = secrets.token_bytes(32)


def client_address(request: web.Request, trusted_proxies: Collection[str]) -> str:
    """The client's address as seen here (not stored: pass it to `address_key`)."""
    peer = request.remote or ""
    if peer not in trusted_proxies:
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return peer


def address_key(address: str) -> str:
    """A keyed digest of an address: the same address gives the same key within this process only."""
    return hashlib.blake2b(address.encode(), key=_KEY, digest_size=16).hexdigest()


def client_key(request: web.Request, trusted_proxies: Collection[str]) -> str:
    return address_key(client_address(request, trusted_proxies))
