"""`lotsa demo`: the service on a fresh SQLite file, with demo staff, a few waiting contacts and a year
of synthetic closed conversations' statistics (lotsa/demo_statistics.py)."""
from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from lotsa import appkeys, logs
from lotsa.app import create_app
from lotsa.auth import add_user
from lotsa.channels import InboundMessage
from lotsa.db import is_sqlite, upgrade
from lotsa.demo_statistics import seed_statistics
from lotsa.settings import load_settings
from lotsa.statistics_records import ZONE

DEMO_STAFF = (("anna", "counsellor"), ("bo", "counsellor"), ("sara", "supervisor"), ("admin", "admin"))
DEMO_SKILLS: dict[str, dict[str, Any]] = {"anna": {"languages": ["sv", "en"]},
               "bo": {"languages": ["sv"], "queues": ["buys", "relatives", "professionals", "general"]}}
# (language, group choice, what the person wrote)
DEMO_CONTACTS = (
    ("sv", "sells", "Hej. Jag har träffat män för pengar ett tag och vill prata med någon om det."),
    ("en", "relative", "My sister is being sent to men by her boyfriend, I don't know what to do."),
    ("sv", "buys", "Jag köper sex ibland och vill sluta, vart vänder jag mig?"),
    ("sv", "professional", "Jag är skolkurator och undrar hur jag ska göra en orosanmälan."),
)


def _demo_database(data_dir: Path) -> tuple[str, Path | None]:
    path = (data_dir / "demo.db").resolve()
    return f"sqlite+aiosqlite:///{path}", path


def run_demo(config_dir: Path | None, port: int) -> None:
    first = load_settings(config_dir)
    url, demo_file = _demo_database(first.data_dir)
    settings = load_settings(config_dir, defaults={
        "database_url": url, "secret_key": secrets.token_urlsafe(32), "cookie_secure": False,
        "public_url": f"http://127.0.0.1:{port}",
    }, overrides={"port": port})
    logs.configure(settings.log_level)
    database_url = settings.effective_database_url
    if is_sqlite(database_url) and demo_file is not None and database_url == url:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{demo_file}{suffix}").unlink(missing_ok=True)
    upgrade(database_url)
    passwords = {name: secrets.token_urlsafe(9) for name, _ in DEMO_STAFF}
    app = create_app(settings)

    async def seed(app: web.Application) -> None:
        db, pipeline, keyring = app[appkeys.DB], app[appkeys.PIPELINE], app[appkeys.KEYRING]
        for name, role in DEMO_STAFF:
            await add_user(db, name, passwords[name], role, **DEMO_SKILLS.get(name, {}))
        await seed_statistics(db, datetime.now(ZONE).date())
        for n, (lang, group, text) in enumerate(DEMO_CONTACTS):
            key = keyring.contact_key("webchat", secrets.token_urlsafe(32))
            for step, (choice, said) in enumerate(((lang, ""), (group, ""), (None, text))):
                await pipeline.accept(InboundMessage(
                    channel="webchat", contact_key=key, provider_message_id=f"demo-{n}-{step}",
                    text=said, choice=choice, language=lang, greeted=True))

    def banner(_: str) -> None:
        """Printed by run_app once the server listens, so the URLs work when they appear."""
        base = settings.public_url
        print(f"\nLotsa demo is running (database: {database_url})\n"
              f"  web chat:  {base}/chat\n  console:   {base}/console\n  statistics: {base}/admin/statistics\n"
              f"  log-ins:", flush=True)
        for name, role in DEMO_STAFF:
            print(f"    {name:6} {passwords[name]:14} ({role})", flush=True)
        print("Press Ctrl+C to stop.\n", flush=True)

    app.on_startup.append(seed)
    web.run_app(app, host=settings.host, port=settings.port, access_log_class=logs.AccessLogger,
                shutdown_timeout=5, print=banner)
