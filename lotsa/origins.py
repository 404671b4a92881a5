"""Which sites' pages may talk to this one: the site itself (its public URL, or the host asked for)
and, for the web chat socket only, the organisations configured to embed it (`chat_origins`)."""
from __future__ import annotations

from aiohttp import web
from yarl import URL

from lotsa import appkeys


def site_origins(request: web.Request) -> set[str]:
    """This site's origins: the public URL's, and the one the request itself was made to."""
    public = URL(request.app[appkeys.SETTINGS].public_url)
    return {f"{public.scheme}://{public.host_port_subcomponent}", f"{request.scheme}://{request.host}"}


def chat_origin_allowed(request: web.Request) -> bool:
    """A browser page may open the chat socket from this site or a configured embedding site. A
    request without `Origin` is no browser page (browsers always send it on a WebSocket): the
    check guards people's browsers against other sites' pages, not programs."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin in site_origins(request) or origin in request.app[appkeys.SETTINGS].chat_origins
