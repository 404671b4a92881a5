"""Telegram through python-telegram-bot: a webhook at /hooks/telegram, or polling for development.

Inbound updates are checked (secret token, size, shape), turned into `InboundMessage`s keyed by a
keyed hash of the chat id and de-duplicated by `update_id`. Outbound messages leave through the
outbox; triage choices become inline keyboards. The chat id needed to reply is stored encrypted.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiolimiter import AsyncLimiter
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.limits import PerAddressLimiter
from bot.text import split_text
from lotsa.channels import (
    Channel,
    DeliveryError,
    InboundMessage,
    OutboundMessage,
    PermanentDeliveryError,
    register,
)
from lotsa.errors import Refused
from lotsa.pipeline import Pipeline
from lotsa.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LANGUAGES = ("sv", "en", "ro", "bg")


class BadUpdate(Exception):
    """The body is not a Telegram update this service can read."""


def _retry_after(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def keyboard(choices: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup | None:
    if not choices:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=choice_id)]
                                 for choice_id, label in choices])


@register
class TelegramChannel(Channel):
    name = CHANNEL
    delivers = True

    def __init__(self, pipeline: Pipeline, token: str, *, webhook_secret: str | None = None, polling: bool = False,
                 api_url: str = "https://api.telegram.org", per_chat_per_second: float = 1.0,
                 per_second: float = 30.0) -> None:
        super().__init__(pipeline)
        self.keyring = pipeline.keyring
        self.texts = pipeline.texts
        self.webhook_secret = webhook_secret
        self.polling = polling
        self.bot = Bot(token, base_url=f"{api_url.rstrip('/')}/bot",
                       request=HTTPXRequest(connection_pool_size=16, read_timeout=10, connect_timeout=5))
        self.per_chat = PerAddressLimiter(per_chat_per_second)
        self.overall = AsyncLimiter(per_second, 1)
        self._tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    def from_settings(cls, settings: Settings, pipeline: Pipeline) -> TelegramChannel | None:
        """On when a token is set and either a webhook secret or polling (development)."""
        secret = settings.telegram_webhook_secret
        if settings.telegram_token is None or not (secret or settings.telegram_polling):
            return None
        return cls(pipeline, settings.telegram_token.get_secret_value(),
                   webhook_secret=secret.get_secret_value() if secret else None,
                   polling=settings.telegram_polling, api_url=settings.telegram_api_url,
                   per_chat_per_second=settings.telegram_per_chat_per_second, per_second=settings.telegram_per_second)

    def add_routes(self, app: web.Application) -> None:
        if self.webhook_secret is not None:
            app.router.add_post("/hooks/telegram", self.webhook)

    # -- life cycle --------------------------------------------------------------------------------

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """The HTTP client, and in development the polling loop. Telegram being unreachable at
        start must not stop the service."""
        try:
            await asyncio.wait_for(self.bot.initialize(), 5)
        except (TelegramError, TimeoutError) as e:
            log.warning("telegram is not reachable at start; the outbox will retry",
                        extra={"error": type(e).__name__})
        stop = asyncio.Event()
        polling = asyncio.create_task(poll(self, stop), name="telegram-polling") if self.polling else None
        yield
        stop.set()
        if polling is not None:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bot.shutdown()

    def _background(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- outbound ----------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> str | None:
        parts = split_text(message.text, MAX_TEXT) or [""]
        sent_ids = []
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            async with self.per_chat.limit(message.address):
                async with self.overall:
                    sent_ids.append(await self._send_one(message.address, part,
                                                         keyboard(message.choices) if last else None))
        return ",".join(sent_ids)

    async def _send_one(self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None) -> str:
        try:
            sent = await self.bot.send_message(chat_id=int(chat_id), text=text, reply_markup=markup)
        except RetryAfter as e:
            raise DeliveryError("telegram flood control", retry_after=_retry_after(e)) from None
        except (BadRequest, Forbidden, InvalidToken) as e:
            raise PermanentDeliveryError(f"telegram refused: {type(e).__name__}") from None
        except NetworkError as e:
            raise DeliveryError(f"telegram unreachable: {type(e).__name__}") from None
        return str(sent.message_id)

    async def delete_messages(self, chat_id: str, message_ids: list[int]) -> int:
        """Delete messages in a private chat (the bot's and the person's); returns how many went."""
        deleted = 0
        for message_id in message_ids:
            try:
                async with self.overall:
                    await self.bot.delete_message(chat_id=int(chat_id), message_id=message_id)
                deleted += 1
            except TelegramError as e:
                log.info("telegram message not deleted", extra={"error": type(e).__name__})
        return deleted

    async def say_now(self, chat_id: str, text: str) -> None:
        """A best-effort direct answer for what has no conversation to live in (an erasure receipt)."""
        try:
            async with self.overall:
                await self.bot.send_message(chat_id=int(chat_id), text=text)
        except TelegramError as e:
            log.warning("telegram direct answer failed", extra={"error": type(e).__name__})

    # -- inbound -----------------------------------------------------------------------------------

    def parse(self, data: Any) -> Update:
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise BadUpdate("not a Telegram update")
        try:
            return Update.de_json(data, self.bot)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise BadUpdate(f"unreadable update: {type(e).__name__}") from None

    async def handle(self, update: Update) -> str:
        """Store what the update says; returns what was done (for logs and tests)."""
        if update.callback_query is not None:
            return await self._choice(update)
        message = update.message
        if message is None or message.chat.type != "private":
            return "ignored"
        chat_id = str(message.chat.id)
        key = self.keyring.contact_key(CHANNEL, chat_id)
        text = message.text or ""
        if not text:
            self._background(self.say_now(chat_id, self.texts.text("commands.text_only", self._language(update))))
            return "not_text"
        command, _, argument = text.partition(" ")
        command = command.split("@", 1)[0].lower()
        if command in ("/radera", "/delete"):
            return await self._erase(update, chat_id, key)
        if command == "/stop":
            if not await self.pipeline.requests.opt_out(CHANNEL, key, self._language(update)):
                self._background(self.say_now(chat_id, self.texts.text("commands.stopped", self._language(update))))
            return "stopped"
        if command in ("/kodord", "/codeword", "/tyst", "/quiet"):
            name = {"/codeword": "kodord", "/quiet": "tyst"}.get(command, command.lstrip("/"))
            answer = await self.pipeline.requests.set_preference(key, name, argument, self._language(update))
            if answer is not None:
                self._background(self.say_now(chat_id, answer))
            return "preference"
        source = None
        if command == "/start":
            source = argument.strip()[:32] or None
        inbound = InboundMessage(channel=CHANNEL, contact_key=key, provider_message_id=f"u{update.update_id}",
                                 text=text, language=self._language(update), reply_address=chat_id,
                                 source=source, provider_meta={"tg": message.message_id})
        accepted = await self.pipeline.accept(inbound)
        log.info("telegram message stored", extra={"conversation": accepted.conversation_id,
                                                   "message_id": accepted.message_id,
                                                   "duplicate": str(accepted.duplicate)})
        return "duplicate" if accepted.duplicate else "stored"

    async def _choice(self, update: Update) -> str:
        query = update.callback_query
        assert query is not None
        if query.message is None or not query.data:
            return "ignored"
        chat_id = str(query.message.chat.id)
        self._background(self._answer_query(query.id))
        inbound = InboundMessage(channel=CHANNEL, contact_key=self.keyring.contact_key(CHANNEL, chat_id),
                                 provider_message_id=f"u{update.update_id}", text="", choice=query.data[:32],
                                 language=self._language(update), reply_address=chat_id)
        accepted = await self.pipeline.accept(inbound)
        return "duplicate" if accepted.duplicate else "stored"

    async def _answer_query(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as e:
            log.info("telegram callback answer failed", extra={"error": type(e).__name__})

    async def _erase(self, update: Update, chat_id: str, key: str) -> str:
        erased = await self.pipeline.requests.erase_contact(CHANNEL, key)
        lang = erased.language or self._language(update) or "sv"
        ids = [int(i) for i in erased.provider_ids if i.isdigit()] + erased.inbound_meta("tg")
        if update.message is not None:
            ids.append(update.message.message_id)
        self._background(self._erase_in_chat(chat_id, sorted(set(ids)), lang))
        return "erased"

    async def _erase_in_chat(self, chat_id: str, message_ids: list[int], lang: str) -> None:
        await self.delete_messages(chat_id, message_ids)
        await self.say_now(chat_id, self.texts.text("commands.erased", lang))

    async def webhook(self, request: web.Request) -> web.Response:
        assert self.webhook_secret is not None
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            log.warning("telegram webhook refused: wrong or missing secret token")
            raise web.HTTPForbidden(text="forbidden")
        try:
            update = self.parse(json.loads(await request.read()))
        except (ValueError, UnicodeDecodeError, RecursionError, BadUpdate) as e:
            log.info("telegram webhook: unreadable body", extra={"error": type(e).__name__})
            return web.json_response({"error": "bad_update", "message": "Not a Telegram update."}, status=400)
        try:
            outcome = await self.handle(update)
        except Refused as e:
            # Telegram retries anything but 2xx: a message that can never be taken is answered with
            # 200, one that can be taken later (the service is starting) with the refusal's 5xx.
            log.info("telegram message refused", extra={"code": e.code})
            if e.status >= 500:
                return web.json_response({"error": e.code, "message": e.message}, status=e.status)
            outcome = "refused"
        return web.json_response({"ok": True, "outcome": outcome})

    @staticmethod
    def _language(update: Update) -> str | None:
        user = update.effective_user
        code = (user.language_code or "")[:2] if user is not None else ""
        return code if code in LANGUAGES else None


async def poll(channel: TelegramChannel, stop: asyncio.Event) -> None:
    """Development mode: fetch updates instead of receiving webhooks. An update is confirmed
    (the next offset) only after it was stored."""
    offset: int | None = None
    delay = 1.0
    while not stop.is_set():
        try:
            if offset is None:
                await channel.bot.delete_webhook()
            updates = await channel.bot.get_updates(offset=offset, timeout=20,
                                                    allowed_updates=["message", "callback_query"])
            delay = 1.0
        except TelegramError as e:
            log.warning("telegram polling failed; trying again", extra={"error": type(e).__name__})
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, 60)
            continue
        for update in updates:
            try:
                await channel.handle(update)
            except Refused as e:
                log.info("telegram message refused", extra={"code": e.code})
            offset = update.update_id + 1
        if offset is None:
            offset = 0
