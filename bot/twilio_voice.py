"""Voice through Twilio: TwiML for a keypad triage taken from the same triage script, then a hold
loop until a counsellor takes the call in the console, or a callback at a time the caller chooses.

No recording and no voicemail. The caller's number is only ever a keyed hash and, for a callback,
encrypted. Every request is signed by Twilio (`X-Twilio-Signature`, checked like SMS).

What is said is the phone's own: the script's `voice:` variants and the catalogue's `voice.*` texts,
each `<Say>` in the voice configured for its language (`config/voice.yaml`). The language menu says
each option in its own language and voice. On every question: `*` says the options again, `0` is a
person, `9` is danger (one prompt: 112 if you can, else stay on the line; then the acute queue); no
key or a wrong key asks once more, then a person takes over (the script's not-understood rule).

    /hooks/twilio/voice          the call comes in: greeting and the first keypad question
    /hooks/twilio/voice/gather   a key was pressed (or none): the next question, or the queue
    /hooks/twilio/voice/wait     the hold loop: place in line, estimate, hold tones; connect once taken
    /hooks/twilio/voice/hold     a key pressed while holding (1: offer a callback instead, 9: danger)
    /hooks/twilio/voice/callback the callback window chosen
    /hooks/twilio/voice/status   call status: a caller who hung up leaves the queue
    /hooks/twilio/voice/hold.wav the hold tone (GET; Lotsa's own, public, carries nothing)

The hold loop keeps what it last said in its own redirect URL (`wait?p=<position>&m=<minutes>&at=
<unix time>`, signed by Twilio like every request), so any worker can answer the next round.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.hold_tone import SECONDS as TONE_SECONDS
from bot.hold_tone import hold_tone
from bot.twilio_sms import REGION_LANGUAGE, BadNumber, normalise_number
from bot.twilio_webhook import verified_params, xml
from bot.voices import Voice, Voices
from lotsa.channels import Channel, InboundMessage, register
from lotsa.conversations import open_conversation
from lotsa.errors import Refused, ascii_id
from lotsa.models import Author, Conversation, ConversationState, Message, StaffUser
from lotsa.pipeline import Pipeline
from lotsa.settings import ConfigError, Settings
from lotsa.texts import DEFAULT_LANGUAGE, FALLBACK_LANGUAGE, Catalogue
from triage.runner import HUMAN, TriageRunner, numbered
from triage.script import TriageScript

log = logging.getLogger(__name__)

CHANNEL = "voice"
DANGER_KEY = "9"
REPEAT_KEY = "*"
QUESTION_TIMEOUT = 6
"""Seconds a question waits for a key once said; then it counts as no answer."""
HOLD_TIMEOUT = 1
SPEAK_EVERY = 60
"""The longest time on hold between two spoken places in line."""
HOLD_ROUND = TONE_SECONDS + HOLD_TIMEOUT + 3
"""One silent round of the hold loop (a tone, the gather's timeout, a margin for Twilio's fetch)."""
WAIT = "/hooks/twilio/voice/wait"
TONE = "/hooks/twilio/voice/hold.wav"
WINDOWS = {"1": "within_hour", "2": "evening", "3": "tomorrow_morning"}
SPOKEN = ("press", "choose_language", "star", "human", "danger", "danger_now", "position", "estimate",
          "estimate_one", "hold", "hold_danger", "callback_offer", "callback_booked", "connecting", "goodbye")
"""The catalogue's `voice.*` texts this channel says."""
Spoken = list[tuple[str, str]]
"""What to say: (text, language) in order; each language in its own voice."""


def keypad_digits(runner: TriageRunner, state: dict[str, Any]) -> dict[str, str]:
    """Which digit means which choice of the question the conversation waits on (0: a person)."""
    digits = {digit: choice_id for digit, choice_id, _ in numbered(runner.prompt_for(state).choices)}
    digits["0"] = HUMAN
    return digits


def menu_languages(script: TriageScript) -> set[str]:
    """The languages a script's choices switch to: its language menu, said each in its own words."""
    return {str(c.set["language"]) for step in script.spec.steps.values() for c in step.choices
            if "language" in c.set}


def check_voice_line(script: TriageScript, texts: Catalogue, voices: Voices) -> None:
    """At start: a voice for every language the phone may speak, and the menu line of every
    language the menu offers in that language's own catalogue file."""
    spec = script.spec
    voices.require([*spec.languages, *spec.partial_languages], f"the triage script {spec.name!r}")
    voices.require([FALLBACK_LANGUAGE], "the catalogue's fallback")
    for name in SPOKEN:
        for lang in (DEFAULT_LANGUAGE, FALLBACK_LANGUAGE):
            if not texts.has(f"voice.{name}", lang):
                raise ConfigError(f"{lang}.yaml: voice.{name}: missing (the phone line says it)")
    for lang in sorted(menu_languages(script)):
        if not texts.has("voice.choose_language", lang):
            raise ConfigError(f"{lang}.yaml: voice.choose_language: missing (the phone's language menu of "
                              f"the triage script {spec.name!r} offers {lang!r} in its own words)")


def _number(value: str | None) -> int | None:
    """A small non-negative integer from the hold loop's own URL, else None."""
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 12 else None


@register
class VoiceChannel(Channel):
    """The call flow; state lives in the conversation (and its transcript), never in memory, so
    any worker can answer any of Twilio's requests. It reads the conversation; every change goes
    through the pipeline."""

    name = CHANNEL

    def __init__(self, pipeline: Pipeline, *, auth_token: str, from_number: str | None, voices: Voices,
                 public_url: str, region: str = "SE") -> None:
        super().__init__(pipeline)
        self.keyring = pipeline.keyring
        self.texts = pipeline.texts
        self.validator = RequestValidator(auth_token)
        self.from_number = from_number
        self.region = region
        self.voices = voices
        self.tone_url = public_url.rstrip("/") + TONE
        self.clock: Callable[[], float] = time.time
        """Seconds since the epoch; tests replace it to run the hold loop in simulated time."""
        for script in pipeline.scripts.current.values():
            check_voice_line(script, self.texts, voices)

    @classmethod
    def from_settings(cls, settings: Settings, pipeline: Pipeline) -> VoiceChannel | None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            return None
        return cls(pipeline, auth_token=settings.twilio_auth_token.get_secret_value(),
                   from_number=settings.twilio_from_number, voices=Voices.load(settings.config_dir),
                   public_url=settings.public_url, region=settings.phone_region)

    def add_routes(self, app: web.Application) -> None:
        for path, action in ROUTES.items():
            app.router.add_post(path, self._handler(action))
        app.router.add_get(TONE, self._tone)

    # -- speaking ---------------------------------------------------------------------------------

    def _t(self, name: str, lang: str | None, **values: Any) -> tuple[str, str]:
        return self.texts.spoken(f"voice.{name}", lang, **values)

    def voice(self, lang: str) -> Voice:
        return self.voices.by_language.get(lang) or self.voices[FALLBACK_LANGUAGE]

    def say(self, verb: VoiceResponse | Gather, spoken: Spoken) -> None:
        """One `<Say>` per run of the same language, in that language's voice."""
        runs: list[tuple[list[str], str]] = []
        for text, lang in spoken:
            if runs and runs[-1][1] == lang:
                runs[-1][0].append(text)
            else:
                runs.append(([text], lang))
        for texts, lang in runs:
            voice = self.voice(lang)
            verb.say(" ".join(texts), language=voice.language, voice=voice.voice)

    def options(self, runner: TriageRunner, state: dict[str, Any], lang: str) -> Spoken:
        """The question and its keys; a language option is said in its own language."""
        prompt = runner.prompt_for(state)
        languages = runner.step_languages(state)
        spoken: Spoken = [(prompt.text, lang)]
        for digit, choice_id, label in numbered(prompt.choices):
            if choice_id == HUMAN:
                continue
            other = languages.get(choice_id)
            spoken.append(self._t("choose_language", other, digit=digit) if other
                          else self._t("press", lang, digit=digit, label=label))
        return spoken + [self._t("human", lang), self._t("danger", lang), self._t("star", lang)]

    # -- the call -----------------------------------------------------------------------------------

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
        """A key on a question: `9` danger, `*` the question again, a choice (0 a person), or a
        wrong key or none, which the script counts (asked again once, then a person)."""
        _, key, _ = self.caller(params)
        sid = self.call_sid(params)
        digit = params.get("Digits", "")[:1]
        conversation = await self._open(key)
        if conversation is None:
            return self._goodbye(None)
        if digit == DANGER_KEY:
            return await self.danger(conversation, key, sid)
        if conversation.state != ConversationState.TRIAGE or not conversation.triage_state.get("step"):
            return self._to_wait()
        if digit == REPEAT_KEY:
            return await self.respond(conversation.id, None, step)
        async with self.pipeline.db.read() as session:
            runner = await self.pipeline.scripts.pinned(session, conversation.script_version)
        choice = keypad_digits(runner, conversation.triage_state).get(digit)
        accepted = await self.pipeline.accept(InboundMessage(
            channel=CHANNEL, contact_key=key, provider_message_id=f"{sid}:{step}",
            text="", choice=choice or f"({digit or '–'})", language=conversation.language,
            provider_meta={"keypad": digit or "none"}))
        return await self.respond(accepted.conversation_id, accepted.message_id, step + 1)

    async def danger(self, conversation: Conversation, key: str, sid: str) -> VoiceResponse:
        """Danger, at any point of the call: one prompt, said once (the script's acute hand-off on a
        question, the catalogue's same words while waiting), then the acute queue."""
        lang = conversation.language or "sv"
        accepted = await self.pipeline.accept(InboundMessage(
            channel=CHANNEL, contact_key=key, provider_message_id=f"{sid}:danger",
            text=f"9 – {self._t('danger', lang)[0]}", language=lang, flags=("immediate_danger",),
            provider_meta={"keypad": DANGER_KEY}))
        return await self.respond(accepted.conversation_id, accepted.message_id,
                                  when_silent=self._t("danger_now", lang))

    async def respond(self, conversation_id: int, after_message: int | None, step: int = 1,
                      when_silent: tuple[str, str] | None = None) -> VoiceResponse:
        """Say what the bot answered after the person's last key (or `when_silent` if nothing),
        then ask the next question, or hold, or say goodbye."""
        async with self.pipeline.db.read() as session:
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            replies = [] if after_message is None else (await session.execute(
                select(Message.text).where(Message.conversation_id == conversation_id, Message.id > after_message,
                                           Message.author == Author.BOT).order_by(Message.id))).scalars().all()
            runner = await self.pipeline.scripts.pinned(session, conversation.script_version)
        lang = conversation.language or "sv"
        spoken: Spoken = [(text, lang) for text in replies] or ([when_silent] if when_silent else [])
        response = VoiceResponse()
        state = conversation.triage_state
        if conversation.state == ConversationState.TRIAGE and state.get("step"):
            question = runner.prompt_for(state).text
            gather = Gather(num_digits=1, timeout=QUESTION_TIMEOUT, action=f"/hooks/twilio/voice/gather?step={step}",
                            method="POST", action_on_empty_result=True)
            self.say(gather, [s for s in spoken if s[0] != question] + self.options(runner, state, lang))
            response.append(gather)
            return response
        if conversation.state == ConversationState.CLOSED:
            self.say(response, [*spoken, self._t("goodbye", lang)])
            response.hangup()
            return response
        self.say(response, spoken)
        response.redirect(WAIT, method="POST")
        return response

    # -- holding ------------------------------------------------------------------------------------

    async def wait(self, params: dict[str, str], query: dict[str, str]) -> VoiceResponse:
        """One round of the hold loop: connect when a counsellor took the call; else the hold tone,
        after the place in line and the estimate when they changed or SPEAK_EVERY is near."""
        _, key, _ = self.caller(params)
        conversation = await self._open(key)
        if conversation is None:
            return self._goodbye(None)
        lang = conversation.language or "sv"
        response = VoiceResponse()
        if conversation.state == ConversationState.ACTIVE:
            phone = await self._counsellor_phone(conversation)
            if phone:
                self.say(response, [self._t("connecting", lang)])
                dial = response.dial(caller_id=self.from_number, action="/hooks/twilio/voice/status",
                                     method="POST", record="do-not-record")
                dial.number(phone)
                return response
        position, minutes = await self._place(conversation)
        now = int(self.clock())
        said_at = _number(query.get("at"))
        changed = (position or 0, minutes or 0) != (_number(query.get("p")), _number(query.get("m")))
        due = changed or said_at is None or now - said_at >= SPEAK_EVERY - HOLD_ROUND
        gather = Gather(num_digits=1, timeout=HOLD_TIMEOUT, action="/hooks/twilio/voice/hold", method="POST")
        if due:
            self.say(gather, self._place_spoken(lang, position, minutes, conversation.risk != "acute"))
        gather.play(self.tone_url)
        response.append(gather)
        response.redirect(f"{WAIT}?p={position or 0}&m={minutes or 0}&at={now if due else said_at}", method="POST")
        return response

    async def _place(self, conversation: Conversation) -> tuple[int | None, int | None]:
        """Place in line and the wait estimate (minutes), from the shared waiting line."""
        place = await self.pipeline.place_in_line(conversation.id)
        if place is None:
            return None, None
        position, frame = place
        return position, frame.get("minutes") if frame else None

    def _place_spoken(self, lang: str, position: int | None, minutes: int | None, remind_112: bool) -> Spoken:
        """Place in line, estimate, the callback offer, and 112 (not to a caller who pressed 9 and
        was just told: the danger prompt is said once)."""
        spoken: Spoken = [self._t("position", lang, position=position)] if position else []
        if minutes == 1:
            spoken.append(self._t("estimate_one", lang))
        elif minutes:
            spoken.append(self._t("estimate", lang, minutes=minutes))
        spoken.append(self._t("hold", lang))
        return spoken + ([self._t("hold_danger", lang)] if remind_112 else [])

    async def hold_key(self, params: dict[str, str]) -> VoiceResponse:
        """A key on hold: 1 a callback instead, 9 danger; any other (0 and * too) says the place in
        line and the options again at once."""
        _, key, _ = self.caller(params)
        conversation = await self._open(key)
        if conversation is None:
            return self._goodbye(None)
        digit = params.get("Digits", "")[:1]
        if digit == DANGER_KEY:
            return await self.danger(conversation, key, self.call_sid(params))
        if digit != "1":
            return self._to_wait()
        return self._callback_offer(conversation.language)

    def _callback_offer(self, lang: str | None) -> VoiceResponse:
        response = VoiceResponse()
        gather = Gather(num_digits=1, timeout=QUESTION_TIMEOUT, action="/hooks/twilio/voice/callback", method="POST")
        self.say(gather, [self._t("callback_offer", lang)])
        response.append(gather)
        response.redirect(WAIT, method="POST")
        return response

    async def callback(self, params: dict[str, str]) -> VoiceResponse:
        """The window chosen (1-3); `*` the offer again, 9 danger; anything else back in line."""
        _, key, _ = self.caller(params)
        digit = params.get("Digits", "")[:1]
        conversation = await self._open(key)
        if conversation is None:
            return self._goodbye(None)
        if digit == DANGER_KEY:
            return await self.danger(conversation, key, self.call_sid(params))
        if digit == REPEAT_KEY:
            return self._callback_offer(conversation.language)
        window = WINDOWS.get(digit)
        if window is None:
            return self._to_wait()
        await self.pipeline.requests.ask_callback(key, window)
        response = VoiceResponse()
        self.say(response, [self._t("callback_booked", conversation.language)])
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

    async def _tone(self, request: web.Request) -> web.Response:
        return web.Response(body=hold_tone(), content_type="audio/wav",
                            headers={"Cache-Control": "public, max-age=86400"})

    async def _open(self, key: str) -> Conversation | None:
        async with self.pipeline.db.read() as session:
            return await open_conversation(session, key)

    async def _counsellor_phone(self, conversation: Conversation) -> str | None:
        if conversation.counsellor_id is None:
            return None
        async with self.pipeline.db.read() as session:
            staff = await session.get(StaffUser, conversation.counsellor_id)
        if staff is None or staff.phone_sealed is None:
            return None
        return self.pipeline.keyring.open_phone(staff.phone_sealed)

    @staticmethod
    def _to_wait() -> VoiceResponse:
        response = VoiceResponse()
        response.redirect(WAIT, method="POST")
        return response

    def _goodbye(self, lang: str | None) -> VoiceResponse:
        response = VoiceResponse()
        self.say(response, [self._t("goodbye", lang)])
        response.hangup()
        return response

    def _handler(self, action: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            params = await verified_params(request, self.validator)
            try:
                twiml = await self._answer(action, request, params)
            except Refused as e:
                log.info("voice input refused", extra={"code": e.code})
                twiml = self._to_wait()
            return xml(str(twiml))
        return handle

    async def _answer(self, action: str, request: web.Request, params: dict[str, str]) -> VoiceResponse:
        if action == "incoming":
            return await self.incoming(params)
        if action == "gather":
            step = ascii_id(request.query.get("step", "1"), max_digits=3)
            return await self.gathered(params, step or 1)
        if action == "wait":
            return await self.wait(params, dict(request.query))
        if action == "status":
            await self.status(params)
            return VoiceResponse()
        answer: Callable[[dict[str, str]], Awaitable[VoiceResponse]] = getattr(self, action)
        return await answer(params)


ROUTES = {
    "/hooks/twilio/voice": "incoming",
    "/hooks/twilio/voice/gather": "gather",
    WAIT: "wait",
    "/hooks/twilio/voice/hold": "hold_key",
    "/hooks/twilio/voice/callback": "callback",
    "/hooks/twilio/voice/status": "status",
}
