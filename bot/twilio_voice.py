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
from typing import Any

from aiohttp import web
from sqlalchemy import select
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.twilio_sms import REGION_LANGUAGE, BadNumber, SmsChannel, normalise_number
from bot.twilio_webhook import verified_params, xml
from lotsa.channels import InboundMessage
from lotsa.models import Author, Contact, Conversation, ConversationState, Message, StaffUser, utcnow
from lotsa.pipeline import MessageRefused, Pipeline
from triage.runner import HUMAN, Reply

log = logging.getLogger(__name__)

CHANNEL = "voice"
DANGER_KEY = "9"
HOLD_SECONDS = 20
VOICES = {"sv": "sv-SE", "en": "en-GB", "ro": "ro-RO", "bg": "bg-BG"}
WINDOWS = {"1": "within_hour", "2": "evening", "3": "tomorrow_morning"}

TEXTS: dict[str, dict[str, str]] = {
    "press": {"sv": "Tryck {digit} för {label}.", "en": "Press {digit} for {label}."},
    "human": {"sv": "Tryck 0 för att prata med någon direkt.", "en": "Press 0 to talk to someone now."},
    "danger": {"sv": "Är du i fara just nu, tryck 9.", "en": "If you are in danger right now, press 9."},
    "danger_now": {"sv": "Lägg på och ring 112 om du kan. Vi kopplar dig till en samtalsstödjare direkt.",
                   "en": "Hang up and call 112 if you can. We are connecting you with a counsellor right away."},
    "position": {"sv": "Du är nummer {position} i kön.", "en": "You are number {position} in the queue."},
    "hold": {"sv": "Vänta kvar så kopplar vi dig. Tryck 1 om du hellre vill bli uppringd. Vid fara, ring 112.",
             "en": "Please hold and we will connect you. Press 1 if you would rather be called back. "
                   "In danger, call 112."},
    "callback_offer": {"sv": "När kan vi ringa dig? Tryck 1 inom en timme, 2 i kväll mellan 18 och 21, "
                             "3 i morgon mellan 9 och 12.",
                       "en": "When can we call you? Press 1 within the hour, 2 this evening between 6 and 9 pm, "
                             "3 tomorrow between 9 and 12."},
    "callback_booked": {"sv": "Tack. Vi ringer dig då, från ett dolt nummer. Hej då.",
                        "en": "Thank you. We will call you then, from a hidden number. Goodbye."},
    "connecting": {"sv": "Nu kopplar vi dig till en samtalsstödjare.", "en": "We are connecting you with a counsellor now."},
    "goodbye": {"sv": "Tack för att du ringde. Hej då.", "en": "Thank you for calling. Goodbye."},
    "call_ended": {"sv": "Samtalet avslutades.", "en": "The call ended."},
    "caller_hung_up": {"sv": "Den som ringde lade på innan någon svarade.",
                       "en": "The caller hung up before anyone answered."},
    "callback_note": {"sv": "Vill bli uppringd: {window}.", "en": "Wants a callback: {window}."},
}
WINDOW_NAMES = {
    "within_hour": {"sv": "inom en timme", "en": "within the hour"},
    "evening": {"sv": "i kväll 18–21", "en": "this evening 18–21"},
    "tomorrow_morning": {"sv": "i morgon 9–12", "en": "tomorrow 9–12"},
}


def _t(name: str, lang: str | None, **values: Any) -> str:
    table = TEXTS[name]
    return table.get(lang or "sv", table["en"]).format(**values)


def keypad(reply: Reply, lang: str) -> tuple[str, dict[str, str]]:
    """What to say for a question with choices, and which digit means which choice."""
    digits: dict[str, str] = {}
    spoken = [reply.text]
    number = 0
    for choice_id, label in reply.choices:
        if choice_id == HUMAN:
            continue
        number += 1
        digits[str(number)] = choice_id
        spoken.append(_t("press", lang, digit=number, label=label))
    digits["0"] = HUMAN
    spoken += [_t("human", lang), _t("danger", lang)]
    return " ".join(spoken), digits


class VoiceCalls:
    """The call flow; state lives in the conversation (and its transcript), never in memory, so
    any worker can answer any of Twilio's requests."""

    def __init__(self, sms: SmsChannel) -> None:
        self.sms = sms

    @property
    def pipeline(self) -> Pipeline:
        assert self.sms.pipeline is not None
        return self.sms.pipeline

    def caller(self, params: dict[str, str]) -> tuple[str, str, str | None]:
        try:
            number, region = normalise_number(params.get("From", ""), self.sms.region)
        except BadNumber:
            raise web.HTTPBadRequest(text="From is not a phone number.") from None
        return number, self.sms.keyring.contact_key(CHANNEL, number), REGION_LANGUAGE.get(region or "")

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
            flags, text = ("immediate_danger",), f"9 – {_t('danger', lang)}"
            step_id = "danger"
        elif conversation.state == ConversationState.TRIAGE and conversation.triage_state.get("step"):
            async with self.pipeline.db.read() as session:
                runner = await self.pipeline.scripts.pinned(session, conversation.script_version)
            _, digits = keypad(runner.prompt_for(conversation.triage_state), lang)
            choice = digits.get(digit)
            text = "" if choice else f"({digit or '–'})"
        if not choice and not text:
            return await self.respond(conversation.id, None)
        accepted = await self.pipeline.accept(InboundMessage(
            channel=CHANNEL, contact_key=key, provider_message_id=f"{sid}:{step_id}", text=text, choice=choice,
            language=lang, flags=flags, provider_meta={"keypad": digit}))
        response = await self.respond(accepted.conversation_id, accepted.message_id, step + 1)
        if flags:
            response = self._prefix(_t("danger_now", lang), lang, response)
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
            spoken, _ = keypad(prompt, lang)
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
            response.say(_t("goodbye", lang), language=VOICES.get(lang, "en-GB"))
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
                response.say(_t("connecting", lang), language=voice)
                dial = response.dial(caller_id=self.sms.from_number, action="/hooks/twilio/voice/status",
                                     method="POST", record="do-not-record")
                dial.number(phone)
                return response
        async with self.pipeline.db.read() as session:
            fresh = await session.get(Conversation, conversation.id)
            position = await self.pipeline.queue_position(session, fresh) if fresh is not None else None
        gather = Gather(num_digits=1, timeout=HOLD_SECONDS, action="/hooks/twilio/voice/hold", method="POST")
        if position:
            gather.say(_t("position", lang, position=position), language=voice)
        gather.say(_t("hold", lang), language=voice)
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
            gather.say(_t("callback_offer", lang), language=VOICES.get(lang or "sv", "en-GB"))
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
        async with self.pipeline.db.write() as session:
            row = await session.get(Conversation, conversation.id, with_for_update=True)
            assert row is not None
            row.triage = {**(row.triage or {}), "callback": {"window": window, "asked_at": utcnow().isoformat()}}
            note = await self.pipeline.system_message(session, row, _t(
                "callback_note", lang, window=WINDOW_NAMES[window].get(lang, WINDOW_NAMES[window]["en"])))
        self.pipeline.publish_changes([(row, [note], True)])
        response = VoiceResponse()
        response.say(_t("callback_booked", lang), language=VOICES.get(lang, "en-GB"))
        response.hangup()
        return response

    async def status(self, params: dict[str, str]) -> None:
        """The call ended. Waiting callers who hung up (without asking for a callback) leave the
        queue; a call a counsellor took stays theirs to wrap up."""
        ended = params.get("CallStatus") or params.get("DialCallStatus") or ""
        if ended not in ("completed", "busy", "failed", "no-answer", "canceled"):
            return
        _, key, _ = self.caller(params)
        conversation = await self._open(key)
        if conversation is None:
            return
        lang = conversation.language or "sv"
        async with self.pipeline.db.write() as session:
            row = await session.get(Conversation, conversation.id, with_for_update=True)
            if row is None or row.state == ConversationState.CLOSED:
                return
            waiting = row.state in (ConversationState.TRIAGE, ConversationState.QUEUED)
            if waiting and "callback" in (row.triage or {}):
                return
            note = await self.pipeline.system_message(session, row, _t("caller_hung_up" if waiting else "call_ended",
                                                                       lang))
            if waiting:
                row.state = ConversationState.CLOSED
                row.closed_at = utcnow()
        self.pipeline.publish_changes([(row, [note], waiting)])

    async def _open(self, key: str) -> Conversation | None:
        async with self.pipeline.db.read() as session:
            return (await session.execute(
                select(Conversation).join(Contact).where(Contact.key == key,
                                                         Conversation.state != ConversationState.CLOSED)
                .order_by(Conversation.id.desc()).limit(1))).scalar()

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

    @staticmethod
    def _goodbye(lang: str | None) -> VoiceResponse:
        response = VoiceResponse()
        response.say(_t("goodbye", lang), language=VOICES.get(lang or "sv", "en-GB"))
        response.hangup()
        return response


VOICE = web.AppKey("voice", VoiceCalls)


def _handler(action: str) -> Any:
    async def handle(request: web.Request) -> web.Response:
        calls = request.app[VOICE]
        params = await verified_params(request, calls.sms.validator)
        try:
            if action == "incoming":
                twiml = await calls.incoming(params)
            elif action == "gather":
                step = request.query.get("step", "1")
                twiml = await calls.gathered(params, int(step) if step.isascii() and step.isdigit() and len(step) < 4
                                             else 1)
            elif action == "status":
                await calls.status(params)
                twiml = VoiceResponse()
            else:
                twiml = await getattr(calls, action)(params)
        except MessageRefused as e:
            log.info("voice input refused", extra={"code": e.code})
            twiml = VoiceResponse()
            twiml.redirect("/hooks/twilio/voice/wait", method="POST")
        return xml(str(twiml))
    return handle


def setup(app: web.Application, sms: SmsChannel) -> None:
    app[VOICE] = VoiceCalls(sms)
    app.router.add_post("/hooks/twilio/voice", _handler("incoming"))
    app.router.add_post("/hooks/twilio/voice/gather", _handler("gather"))
    app.router.add_post("/hooks/twilio/voice/wait", _handler("wait"))
    app.router.add_post("/hooks/twilio/voice/hold", _handler("hold_key"))
    app.router.add_post("/hooks/twilio/voice/callback", _handler("callback"))
    app.router.add_post("/hooks/twilio/voice/status", _handler("status"))

