"""SMS through Twilio: a signed webhook at /hooks/twilio/sms, replies through the outbox with the
twilio REST client.

Phone numbers are normalised to E.164 and only ever stored as a keyed hash (the contact key) and,
while needed to reply, encrypted. Triage choices become numbered lines; keywords (STOP, START,
HELP, RADERA, KODORD, TYST) are answered at once in the webhook's TwiML.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import phonenumbers
from aiohttp import ClientError, web
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.limits import PerAddressLimiter
from bot.sms_segments import segments
from bot.text import split_text
from bot.twilio_webhook import verified_params, xml
from lotsa.channels import (
    Channel,
    DeliveryError,
    InboundMessage,
    OutboundMessage,
    PermanentDeliveryError,
    register,
)
from lotsa.errors import Refused
from lotsa.outbox import mark_undelivered
from lotsa.pipeline import Pipeline
from lotsa.settings import Settings
from triage.runner import numbered

log = logging.getLogger(__name__)

CHANNEL = "sms"
MAX_BODY = 1530
"""Ten concatenated segments: a long answer is split into messages of at most this many characters."""
KEYWORDS = {
    "stop": "stop", "stopall": "stop", "unsubscribe": "stop", "cancel": "stop", "end": "stop", "quit": "stop",
    "sluta": "stop",
    "start": "start", "unstop": "start",
    "help": "help", "hjälp": "help", "hjalp": "help", "info": "help",
    "radera": "erase", "delete": "erase",
    "kodord": "kodord", "codeword": "kodord",
    "tyst": "tyst", "quiet": "tyst",
}
REGION_LANGUAGE = {"SE": "sv", "RO": "ro", "BG": "bg", "GB": "en", "US": "en", "IE": "en"}


class BadNumber(ValueError):
    pass


def normalise_number(raw: str, region: str) -> tuple[str, str | None]:
    """E.164 and the number's country, so one person has one contact key however it is written."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise BadNumber("not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise BadNumber("not a possible phone number")
    return (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            phonenumbers.region_code_for_number(number))


def render(text: str, choices: tuple[tuple[str, str], ...]) -> str:
    """A question with numbered answers; "talk to someone" is always 0."""
    return "\n".join([text, *(f"{digit} {label}" for digit, _, label in numbered(choices))])


def bodies(text: str, choices: tuple[tuple[str, str], ...] = ()) -> list[str]:
    """The SMS bodies one outgoing message is sent as (each billed by its segments: bot.sms_segments)."""
    return split_text(render(text, choices), MAX_BODY)


@register
class SmsChannel(Channel):
    name = CHANNEL
    delivers = True

    def __init__(self, pipeline: Pipeline, *, account_sid: str, auth_token: str, from_number: str | None,
                 public_url: str, api_url: str = "https://api.twilio.com", segments_per_second: float = 1.0,
                 region: str = "SE") -> None:
        super().__init__(pipeline)
        self.keyring = pipeline.keyring
        self.texts = pipeline.texts
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.public_url = public_url.rstrip("/")
        self.api_url = api_url
        self.region = region
        self.validator = RequestValidator(auth_token)
        self.per_number = PerAddressLimiter(segments_per_second)
        self.client: Client | None = None
        self._http: AsyncTwilioHttpClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings, pipeline: Pipeline) -> SmsChannel | None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            return None
        return cls(pipeline, account_sid=settings.twilio_account_sid,
                   auth_token=settings.twilio_auth_token.get_secret_value(),
                   from_number=settings.twilio_from_number, public_url=settings.public_url,
                   api_url=settings.twilio_api_url, segments_per_second=settings.twilio_segments_per_second,
                   region=settings.phone_region)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/hooks/twilio/sms", self.webhook)
        app.router.add_post("/hooks/twilio/sms/status", self.status_webhook)

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """The REST client lives with the service (it opens no connection before the first send)."""
        self._http = AsyncTwilioHttpClient(timeout=10)
        self.client = Client(self.account_sid, self.auth_token, http_client=self._http)
        self.client.api.base_url = self.api_url.rstrip("/")
        yield
        if self._http.session is not None:
            await self._http.session.close()

    # -- outbound ----------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> str | None:
        if self.client is None or not self.from_number:
            raise DeliveryError("the SMS channel has no client or no sending number yet")
        parts = bodies(message.text, message.choices)
        delivered = await self._delivered(message) if message.in_doubt_since else {}
        sids = []
        for part in parts:
            if part in delivered:
                sids.append(delivered.pop(part))
                continue
            limiter = self.per_number.limit(self.from_number)
            for _ in range(segments(part)):
                await limiter.acquire()
            sids.append(await self._create(message.address, part))
        return ",".join(sids)

    async def _delivered(self, message: OutboundMessage) -> dict[str, str]:
        """After an interrupted send: which parts Twilio already has (body → sid), so a restart
        never texts the person twice. Twilio's message list is the only witness."""
        assert self.client is not None and message.in_doubt_since is not None
        try:
            recent = await self.client.messages.list_async(to=message.address, from_=self.from_number, limit=20)
        except TwilioRestException as e:
            raise DeliveryError(f"twilio answered {e.status} to the delivery check") from None
        except (TwilioException, ClientError, TimeoutError, OSError) as e:
            raise DeliveryError(f"twilio unreachable: {type(e).__name__}") from None
        since = message.in_doubt_since - timedelta(seconds=5)
        return {m.body: str(m.sid) for m in recent
                if m.body is not None and (m.date_created is None or m.date_created >= since)}

    async def _create(self, to: str, body: str) -> str:
        assert self.client is not None
        try:
            sent = await self.client.messages.create_async(
                to=to, from_=self.from_number, body=body,
                status_callback=f"{self.public_url}/hooks/twilio/sms/status")
        except TwilioRestException as e:
            if e.status == 429 or e.status >= 500:
                raise DeliveryError(f"twilio answered {e.status}") from None
            raise PermanentDeliveryError(f"twilio refused: {e.status} code {e.code}") from None
        except (TwilioException, ClientError, TimeoutError, OSError) as e:
            raise DeliveryError(f"twilio unreachable: {type(e).__name__}") from None
        return str(sent.sid)

    # -- inbound -----------------------------------------------------------------------------------

    async def receive(self, params: dict[str, str]) -> str | None:
        """Store an inbound SMS; returns an immediate answer (for keywords), else None."""
        sid = params.get("MessageSid") or params.get("SmsSid") or ""
        if not sid or len(sid) > 64:
            raise web.HTTPBadRequest(text="MessageSid is missing.")
        try:
            number, region = normalise_number(params.get("From", ""), self.region)
        except BadNumber:
            raise web.HTTPBadRequest(text="From is not a phone number.") from None
        language = REGION_LANGUAGE.get(region or "")
        key = self.keyring.contact_key(CHANNEL, number)
        body = params.get("Body", "")
        first, _, rest = body.strip().partition(" ")
        keyword = KEYWORDS.get(first.casefold().rstrip(".!")) if len(body) < 80 else None
        if keyword in ("kodord", "tyst"):
            return await self.pipeline.requests.set_preference(key, keyword, rest, language) or ""
        if keyword is not None and not rest.strip():
            return await self._keyword(keyword, key, language)
        if not body.strip():
            return self.texts.text("commands.text_only", language) if params.get("NumMedia", "0") != "0" else ""
        accepted = await self.pipeline.accept(InboundMessage(
            channel=CHANNEL, contact_key=key, provider_message_id=sid, text=body, language=language,
            reply_address=number))
        log.info("sms stored", extra={"conversation": accepted.conversation_id, "message_id": accepted.message_id,
                                      "duplicate": str(accepted.duplicate)})
        return None

    async def _keyword(self, keyword: str, key: str, language: str | None) -> str:
        if keyword == "stop":
            # Twilio itself confirms STOP and blocks further messages on the number.
            await self.pipeline.requests.opt_out(CHANNEL, key, language, receipt=False)
            return ""
        if keyword == "start":
            return self.texts.text("commands.started", language)
        if keyword == "help":
            return self.texts.text("commands.help", language)
        erased = await self.pipeline.requests.erase_contact(CHANNEL, key)
        return self.texts.text("commands.erased", erased.language or language)

    async def status(self, params: dict[str, str]) -> None:
        """A delivery report: a message the network gave up on becomes a dead letter for supervisors."""
        sid, state = params.get("MessageSid", ""), params.get("MessageStatus", "")
        if state not in ("failed", "undelivered") or not sid or len(sid) > 64:
            return
        await mark_undelivered(self.pipeline.db, sid, f"network: {state} {params.get('ErrorCode', '')}")

    # -- webhooks ----------------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        params = await verified_params(request, self.validator)
        try:
            answer = await self.receive(params)
        except Refused as e:
            log.info("sms refused", extra={"code": e.code})
            answer = e.message
        twiml = MessagingResponse()
        if answer:
            twiml.message(answer)
        return xml(str(twiml))

    async def status_webhook(self, request: web.Request) -> web.Response:
        await self.status(await verified_params(request, self.validator))
        return web.Response(status=204)
