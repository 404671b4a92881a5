"""Voice through Twilio: TwiML for a keypad triage taken from the same triage script, then a hold
loop until a counsellor takes the call in the console, or a callback at a time the caller chooses.

No recording and no voicemail. The caller's number is only ever a keyed hash and, for a callback,
encrypted. Every request is signed by Twilio (`X-Twilio-Signature`, checked like SMS).

    /hooks/twilio/voice          the call comes in: greeting and the first keypad question
    /hooks/twilio/voice/gather   a key was pressed (or none): the next question, or the queue
    /hooks/twilio/voice/wait     the hold loop: position, then connect once a counsellor took it
    /hooks/twilio/voice/hold     a key pressed while holding (1: offer a callback instead)
    /hooks/twilio/voice/callback the callback window chosen
    /hooks/twilio/voice/status   call status: a caller who hung up leaves the queue
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.twilio_sms import REGION_LANGUAGE, BadNumber, normalise_number
from bot.twilio_webhook import verified_params, xml
from lotsa.channels import Channel, InboundMessage, register
from lotsa.conversations import open_conversation, queue_position
from lotsa.errors import Refused, ascii_id
from lotsa.models import Author, Conversation, ConversationState, Message, StaffUser
from lotsa.pipeline import Pipeline
from lotsa.settings import Settings
from lotsa.texts import Catalogue
from triage.runner import HUMAN, Reply, numbered

log = logging.getLogger(__name__)

CHANNEL = "voice"
DANGER_KEY = "9"
HOLD_SECONDS = 20
VOICES = {"sv": "sv-SE", "en": "en-GB", "ro": "ro-RO", "bg": "bg-BG"}
WINDOWS = {"1": "within_hour", "2": "evening", "3": "tomorrow_morning"}

def keypad(texts: Catalogue, reply: Reply, lang: str) -> tuple[str, dict[str, str]]:
    """What to say for a question with choices, and which digit means which choice."""
    digits = {digit: choice_id for digit, choice_id, _ in numbered(reply.choices)}
    digits["0"] = HUMAN
    spoken = [reply.text, *(texts.text("voice.press", lang, digit=digit, label=label)
                            for digit, choice_id, label in numbered(reply.choices) if choice_id != HUMAN)]
    spoken += [texts.text("voice.human", lang), texts.text("voice.danger", lang)]
    return " ".join(spoken), digits


@register
class VoiceChannel(Channel):
    """The call flow; state lives in the conversation (and its transcript), never in memory, so
    any worker can answer any of Twilio's requests. It reads the conversation; every change goes
    through the pipeline."""

    name = CHANNEL

    def __init__(self, pipeline: Pipeline, *, auth_token: str, from_number: str | None, region: str = "SE") -> None:
        super().__init__(pipeline)
        self.keyring = pipeline.keyring
        self.texts = pipeline.texts
        self.validator = RequestValidator(auth_token)
        self.from_number = from_number
        self.region = region

    @classmethod
    def from_settings(cls, settings: Settings, pipeline: Pipeline) -> VoiceChannel | None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            return None
        return cls(pipeline, auth_token=settings.twilio_auth_token.get_secret_value(),
                   from_number=settings.twilio_from_number, region=settings.phone_region)

    def add_routes(self, app: web.Application) -> None:
        for path, action in ROUTES.items():
            app.router.add_post(path, self._handler(action))

    def _t(self, name: str, lang: str | None, **values: Any) -> str:
        return self.texts.text(f"voice.{name}", lang, **values)

    def caller(self, params: dict[str, str]) -> tuple[str, str, str | None]:
        try:
            number, region = normalise_number(params.get("From", ""), self.region)
        except BadNumber:
            raise web.HTTPBadRequest(text="From is not a phone number.") from None
        return number, self.keyring.contact_key(CHANNEL, number), REGION_LANGUAGE.get(region or "")

    @staticmethod
    def call_sid(params: dict[str, str]) -> str:
        sid = params.get("CallSid", "")
        if not sid or len(sid) > 64:
            raise web.HTTPBadRequest(text="CallSid is missing.")
        return sid

    async def incoming(self, params: dict[str, str]) -> VoiceResponse:
        number, key, language = self.caller(params)
        sid = self.call_sid(params)
        accepted = await self.pipeline.accept(InboundMessage(
            channel=CHANNEL, contact_key=key, provider_message_id=f"{sid}:start", text="📞",
            language=language, reply_address=number, provider_meta={"call": "incoming"}))
        return await self.respond(accepted.conversation_id, accepted.message_id)

    async def gathered(self, params: dict[str, str], step: int) -> VoiceResponse:
        _, key, _ = self.caller(params)
        sid = self.call_sid(params)
        digit = params.get("Digits", "")[:1]
        conversation = await self._open(key)
        if conversation is None:
            return self._goodbye(None)
        lang = conversation.language or "sv"
        choice: str | None = None
        flags: tuple[str, ...] = ()
        text = ""
        step_id = str(step)
        if digit == DANGER_KEY:
            flags, text = ("immediate_danger",), f"9 – {self._t('danger', lang)}"
            step_id = "danger"
        elif conversation.state == ConversationState.TRIAGE and conversation.triage_state.get("step"):
            async with self.pipeline.db.read() as session:
                runner = await self.pipeline.scripts.pinned(session, conversation.script_version)
            _, digits = keypad(self.texts, runner.prompt_for(conversation.triage_state), lang)
            choice = digits.get(digit)
            text = "" if choice else f"({digit or '–'})"
        if not choice and not text:
            return await self.respond(conversation.id, None)
        accepted = await self.pipeline.accept(InboundMessage(
            channel=CHANNEL, contact_key=key, provider_message_id=f"{sid}:{step_id}", text=text, choice=choice,
            language=lang, flags=flags, provider_meta={"keypad": digit}))
        response = await self.respond(accepted.conversation_id, accepted.message_id, step + 1)
        if flags:
            response = self._prefix(self._t("danger_now", lang), lang, response)
        return response

    async def respond(self, conversation_id: int, after_message: int | None, step: int = 1) -> VoiceResponse:
        """Say what the bot answered after the person's last key, then ask the next question, or
        hold, or say goodbye."""
        async with self.pipeline.db.read() as session:
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            replies = [] if after_message is None else (await session.execute(
                select(Message.text).where(Message.conversation_id == conversation_id, Message.id > after_message,
                                           Message.author == Author.BOT).order_by(Message.id))).scalars().all()
            runner = await self.pipeline.scripts.pinned(session, conversation.script_version)
        lang = conversation.language or "sv"
        response = VoiceResponse()
        if conversation.state == ConversationState.TRIAGE and conversation.triage_state.get("step"):
            prompt = runner.prompt_for(conversation.triage_state)
            spoken, _ = keypad(self.texts, prompt, lang)
            for text in replies:
                if text != prompt.text:
                    response.say(text, language=VOICES.get(lang, "en-GB"))
            gather = Gather(num_digits=1, timeout=8, action=f"/hooks/twilio/voice/gather?step={step}",
                            method="POST", action_on_empty_result=True)
            gather.say(spoken, language=VOICES.get(lang, "en-GB"))
            response.append(gather)
            return response
        for text in replies:
            response.say(text, language=VOICES.get(lang, "en-GB"))
        if conversation.state == ConversationState.CLOSED:
            response.say(self._t("goodbye", lang), language=VOICES.get(lang, "en-GB"))
            response.hangup()
            return response
        response.redirect("/hooks/twilio/voice/wait", method="POST")
        return response

    async def wait(self, params: dict[str, str]) -> VoiceResponse:
        _, key, _ = self.caller(params)
        conversation = await self._open(key)
        if conversation is None:
            return self._goodbye(None)
        lang = conversation.language or "sv"
        voice = VOICES.get(lang, "en-GB")
        response = VoiceResponse()
        if conversation.state == ConversationState.ACTIVE:
            phone = await self._counsellor_phone(conversation)
            if phone:
                response.say(self._t("connecting", lang), language=voice)
                dial = response.dial(caller_id=self.from_number, action="/hooks/twilio/voice/status",
                                     method="POST", record="do-not-record")
                dial.number(phone)
                return response
        async with self.pipeline.db.read() as session:
            fresh = await session.get(Conversation, conversation.id)
            position = await queue_position(session, fresh) if fresh is not None else None
        gather = Gather(num_digits=1, timeout=HOLD_SECONDS, action="/hooks/twilio/voice/hold", method="POST")
        if position:
            gather.say(self._t("position", lang, position=position), language=voice)
        gather.say(self._t("hold", lang), language=voice)
        gather.pause(length=HOLD_SECONDS)
        response.append(gather)
        response.redirect("/hooks/twilio/voice/wait", method="POST")
        return response

    async def hold_key(self, params: dict[str, str]) -> VoiceResponse:
        _, key, _ = self.caller(params)
        conversation = await self._open(key)
        lang = conversation.language if conversation is not None else None
        digit = params.get("Digits", "")[:1]
        if conversation is not None and digit == DANGER_KEY:
            return await self.gathered(params, 0)
        response = VoiceResponse()
        if conversation is not None and digit == "1":
            gather = Gather(num_digits=1, timeout=10, action="/hooks/twilio/voice/callback", method="POST")
            gather.say(self._t("callback_offer", lang), language=VOICES.get(lang or "sv", "en-GB"))
            response.append(gather)
        response.redirect("/hooks/twilio/voice/wait", method="POST")
        return response

    async def callback(self, params: dict[str, str]) -> VoiceResponse:
        _, key, _ = self.caller(params)
        window = WINDOWS.get(params.get("Digits", "")[:1])
        conversation = await self._open(key)
        if conversation is None or window is None:
            response = VoiceResponse()
            response.redirect("/hooks/twilio/voice/wait", method="POST")
            return response
        lang = conversation.language or "sv"
        await self.pipeline.requests.ask_callback(key, window)
        response = VoiceResponse()
        response.say(self._t("callback_booked", lang), language=VOICES.get(lang, "en-GB"))
        response.hangup()
        return response

    async def status(self, params: dict[str, str]) -> None:
        """The call ended. Waiting callers who hung up (without asking for a callback) leave the
        queue; a call a counsellor took stays theirs to wrap up."""
        ended = params.get("CallStatus") or params.get("DialCallStatus") or ""
        if ended not in ("completed", "busy", "failed", "no-answer", "canceled"):
            return
        _, key, _ = self.caller(params)
        await self.pipeline.requests.hang_up(key)

    async def _open(self, key: str) -> Conversation | None:
        async with self.pipeline.db.read() as session:
            return await open_conversation(session, key)

    async def _counsellor_phone(self, conversation: Conversation) -> str | None:
        if conversation.counsellor_id is None:
            return None
        async with self.pipeline.db.read() as session:
            staff = await session.get(StaffUser, conversation.counsellor_id)
        return staff.phone if staff is not None else None

    @staticmethod
    def _prefix(text: str, lang: str, response: VoiceResponse) -> VoiceResponse:
        first = VoiceResponse()
        first.say(text, language=VOICES.get(lang, "en-GB"))
        for verb in response.verbs:
            first.append(verb)
        return first

    def _goodbye(self, lang: str | None) -> VoiceResponse:
        response = VoiceResponse()
        response.say(self._t("goodbye", lang), language=VOICES.get(lang or "sv", "en-GB"))
        response.hangup()
        return response

    def _handler(self, action: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            params = await verified_params(request, self.validator)
            try:
                twiml = await self._answer(action, request, params)
            except Refused as e:
                log.info("voice input refused", extra={"code": e.code})
                twiml = VoiceResponse()
                twiml.redirect("/hooks/twilio/voice/wait", method="POST")
            return xml(str(twiml))
        return handle

    async def _answer(self, action: str, request: web.Request, params: dict[str, str]) -> VoiceResponse:
        if action == "incoming":
            return await self.incoming(params)
        if action == "gather":
            step = ascii_id(request.query.get("step", "1"), max_digits=3)
            return await self.gathered(params, step or 1)
        if action == "status":
            await self.status(params)
            return VoiceResponse()
        answer: Callable[[dict[str, str]], Awaitable[VoiceResponse]] = getattr(self, action)
        return await answer(params)


ROUTES = {
    "/hooks/twilio/voice": "incoming",
    "/hooks/twilio/voice/gather": "gather",
    "/hooks/twilio/voice/wait": "wait",
    "/hooks/twilio/voice/hold": "hold_key",
    "/hooks/twilio/voice/callback": "callback",
    "/hooks/twilio/voice/status": "status",
}
