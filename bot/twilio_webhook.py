"""Checking what Twilio posts: the `X-Twilio-Signature`, computed by the twilio library's
`RequestValidator` over the configured public URL (never the request's Host header, so it holds
behind a proxy) plus the path and every posted parameter."""
from __future__ import annotations

import hmac
import logging

from aiohttp import web
from twilio.request_validator import RequestValidator

from lotsa import appkeys

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
MAX_PARAMS = 200


def xml(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/xml", charset="utf-8")


def public_url(request: web.Request) -> str:
    return request.app[appkeys.SETTINGS].public_url.rstrip("/") + request.rel_url.path_qs


def signed(validator: RequestValidator, url: str, params: dict[str, str], signature: str) -> bool:
    """The twilio library's check, with the HMAC computed once for the configured URL first:
    `validate` always computes it twice (the URL with and without its port), a third of the
    webhook's own cost. A signature that does not match the URL as configured gets `validate`'s
    two tries, so every signature it accepts is still accepted."""
    expected = validator.compute_signature(url, params)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return bool(validator.validate(url, params, signature))


async def verified_params(request: web.Request, validator: RequestValidator) -> dict[str, str]:
    """The posted parameters, once the signature holds; 403 (logged without content) when it does
    not, 400/415 for a body that is not a form Twilio would send."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if request.content_type != FORM:
        raise web.HTTPUnsupportedMediaType(text="Twilio webhooks are form posts.")
    try:
        form = await request.post()
    except (UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(text="The form cannot be read.") from None
    # Twilio sends no null character in ids and numbers; PostgreSQL cannot store or compare one.
    # (A message Body with one is refused with an answer to the person, as on every channel.)
    if len(form) > MAX_PARAMS or any(not isinstance(v, str) or "\x00" in k or ("\x00" in v and k != "Body")
                                     for k, v in form.items()):
        raise web.HTTPBadRequest(text="Unexpected form content.")
    params = {key: str(value) for key, value in form.items()}
    if not signature or not signed(validator, public_url(request), params, signature):
        log.warning("twilio webhook refused: bad or missing signature", extra={"route": request.path})
        raise web.HTTPForbidden(text="forbidden")
    return params
