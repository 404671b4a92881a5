"""Running the application under aiohttp's runner."""
from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from lotsa import logs
from lotsa.app import create_app
from lotsa.channels import Channel
from lotsa.settings import Settings


def serve(settings: Settings, channels: Iterable[type[Channel]] = (), print_banner: bool = True) -> None:
    logs.configure(settings.log_level)
    app = create_app(settings, channels=channels)
    web.run_app(app, host=settings.host, port=settings.port, access_log_class=logs.AccessLogger,
                shutdown_timeout=5, print=print if print_banner else None, handle_signals=True)
