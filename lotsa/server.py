"""Running the application under aiohttp's runner."""
from __future__ import annotations

import gc
from collections.abc import Iterable

from aiohttp import web

from lotsa import logs
from lotsa.app import create_app
from lotsa.channels import Channel
from lotsa.settings import Settings

GC_THRESHOLDS = (10_000, 50, 50)
"""Python's defaults (700, 10, 10) run a full collection every few seconds while pages connect; with
a thousand open sockets each one walks every object and holds the event loop for 100-200 ms."""


async def quiet_collector(app: web.Application) -> None:
    """Once the service is up (the classifier loaded: a great many long-lived objects), keep what is
    loaded out of the collector's sight and collect fully far less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(settings: Settings, channels: Iterable[type[Channel]] = (), print_banner: bool = True) -> None:
    logs.configure(settings.log_level)
    app = create_app(settings, channels=channels)
    app.on_startup.append(quiet_collector)   # after the cleanup contexts' start (the classifier's load)
    web.run_app(app, host=settings.host, port=settings.port, access_log_class=logs.AccessLogger,
                shutdown_timeout=5, print=print if print_banner else None, handle_signals=True)
