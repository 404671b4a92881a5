"""Webhook routes under /hooks/ for the provider channels whose secrets are configured.

A channel that is switched off has no route, so its webhook answers 404.
"""
from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from bot import telegram, twilio_sms, twilio_voice
from lotsa.channels import ProviderChannel
from lotsa.settings import Settings


def setup(app: web.Application, settings: Settings, providers: Iterable[ProviderChannel]) -> None:
    for channel in providers:
        if isinstance(channel, telegram.TelegramChannel):
            telegram.setup(app, channel, webhook_route=settings.telegram_webhook_secret is not None)
        elif isinstance(channel, twilio_sms.SmsChannel):
            twilio_sms.setup(app, channel)
            twilio_voice.setup(app, channel)
