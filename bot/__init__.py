"""Channel adapters, one module per channel. Each registers itself with `lotsa.channels.register`
when imported; `load_adapters` imports them all."""
from __future__ import annotations

import importlib

ADAPTERS = ("bot.webchat", "bot.telegram", "bot.twilio_sms", "bot.twilio_voice")


def load_adapters() -> None:
    """Import every adapter, so each registers its channel."""
    for module in ADAPTERS:
        importlib.import_module(module)
