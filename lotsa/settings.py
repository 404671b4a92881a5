"""Settings: packaged defaults < the config folder's settings.toml < LOTSA_* environment < CLI flags.

Everything is validated once, at start; an error names the file (or variable) and the key.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from yarl import URL


class ConfigError(Exception):
    """A configuration file or variable is wrong; the message names where and which key."""


def default_config_dir() -> Path:
    """The configuration shipped inside the installed package."""
    return Path(str(resources.files("lotsa.default_config")))


def config_folder(config_dir: Path, name: str) -> Path:
    """A folder of the configuration (`texts`, `triage/phrases`); a configuration copied before that
    folder existed gets the packaged one, with a warning, so an upgrade does not stop the service."""
    folder = config_dir / name
    if folder.is_dir():
        return folder
    logging.getLogger(__name__).warning("configuration folder missing: using the packaged one",
                                        extra={"file": name})
    return default_config_dir() / name


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    config_dir: Path = Field(default_factory=default_config_dir)
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    cookie_secure: bool = True
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    max_message_chars: int = Field(default=4000, ge=1, le=20000)
    quick_exit_url: str = "https://www.google.com/"
    handoff_dropoff_seconds: int = Field(default=120, ge=5, le=3600)
    """A counsellor with no console open for this long gets their conversations put back in the queue."""
    handoff_sweep_seconds: float = Field(default=10.0, gt=0, le=600)
    alert_check_seconds: float = Field(default=5.0, gt=0, le=600)
    """How often the worker that leads the wait alerts looks for acute and long waits (scale-out)."""
    log_level: str = "INFO"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    """The Twilio number (E.164) SMS replies are sent from; the number people text and call."""
    twilio_api_url: str = "https://api.twilio.com"
    twilio_segments_per_second: float = Field(default=1.0, gt=0)
    """SMS segments per second per sending number (Twilio's long-code limit unless configured)."""
    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_polling: bool = False
    """Development: fetch updates from Telegram instead of receiving webhooks."""
    telegram_per_chat_per_second: float = Field(default=1.0, gt=0)
    telegram_per_second: float = Field(default=30.0, gt=0)
    contact_messages_per_minute: int = Field(default=30, ge=1)
    """Flood protection: more messages than this from one person in a minute are refused."""
    new_conversations_per_address_per_minute: int = Field(default=5, ge=1)
    """Flood defence: beyond this many new conversations a minute from one client address (in memory
    only), newcomers are still taken but go in line behind everyone who came before."""
    new_conversations_per_minute: int = Field(default=60, ge=1)
    """The same across the whole service."""
    outbox_lease_seconds: int = Field(default=60, ge=1)
    """How long a send may take before another worker (or a restarted one) may take the item over."""
    retention_days: int = Field(default=30, ge=1)
    """Transcripts are erased this many days after a conversation's last message."""
    reply_address_grace_hours: int = Field(default=24, ge=0)
    """How long the encrypted reply address is kept after a person's last conversation closed."""
    purge_interval_minutes: int = Field(default=60, ge=1)
    phone_region: str = "SE"
    """The country a phone number without a country code belongs to (before keyed hashing)."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses of reverse proxies whose `X-Forwarded-For` names the client (comma-separated in
    LOTSA_TRUSTED_PROXIES); from anyone else the header is ignored and the peer is the client."""
    chat_origins: list[str] = Field(default_factory=list)
    """Other sites (scheme://host[:port]) whose pages may open the web chat socket: organisations
    that embed the chat (comma-separated in LOTSA_CHAT_ORIGINS)."""
    metrics_addresses: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    """Addresses or networks (`10.0.0.0/8`) that may read /metrics (comma-separated in
    LOTSA_METRICS_ADDRESSES; empty: none), the client as `trusted_proxies` work it out."""
    metrics_token: SecretStr | None = None
    """A bearer token (`Authorization: Bearer …`, at least 24 characters) that may read /metrics
    from any address."""
    safe_contact_after_minutes: int = Field(default=30, ge=0)
    """A message to SMS or Telegram more than this long after the person last wrote is held until
    they answer "is it safe to write now?" (their code word, if they chose one)."""

    @field_validator("trusted_proxies", "chat_origins", "metrics_addresses", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        """The environment gives one string: split it on commas."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("chat_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            url = URL(origin)
            if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/") or url.query_string:
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port])")
        return [origin.rstrip("/") for origin in value]

    @field_validator("metrics_addresses")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an address or a network (10.0.0.0/8)") from None
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 24:
            raise ValueError("the metrics token must be at least 24 characters")
        return value

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_auth_token and self.twilio_account_sid)

    @property
    def effective_database_url(self) -> str:
        """The database URL; the SQLite file under the data folder when none is configured."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'lotsa.db').resolve()}"

    def secret_bytes(self) -> bytes:
        if self.secret_key is None:
            raise ConfigError("LOTSA_SECRET_KEY is not set: it keys contact pseudonyms and encryption")
        return self.secret_key.get_secret_value().encode()


def normalise_database_url(url: str) -> str:
    """Accept plain postgresql:// and sqlite:// URLs and pick the async drivers Lotsa uses."""
    for plain, driver in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://"),
                          ("sqlite://", "sqlite+aiosqlite://")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


_FIELDS = set(Settings.model_fields)


def _environment() -> dict[str, str]:
    values = {}
    for name, value in os.environ.items():
        if name.startswith("LOTSA_") and name[6:].lower() in _FIELDS:
            values[name[6:].lower()] = value
    return values


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None


def load_settings(config_dir: Path | None = None, *, defaults: dict[str, Any] | None = None,
                  overrides: dict[str, Any] | None = None) -> Settings:
    """Layer the settings: `defaults` (e.g. the demo's generated ones) lose to the environment,
    `overrides` (CLI flags) win over everything."""
    env = _environment()
    if config_dir is None and "config_dir" in env:
        config_dir = Path(env["config_dir"])
    config_dir = config_dir or default_config_dir()
    if not config_dir.is_dir():
        raise ConfigError(f"--config {config_dir}: not a folder")
    toml_path = config_dir / "settings.toml"
    layers: list[tuple[str, dict[str, Any]]] = [
        (str(toml_path), _read_toml(toml_path)),
        ("demo defaults", defaults or {}),
        ("environment (LOTSA_*)", env),
        ("command line", {k: v for k, v in (overrides or {}).items() if v is not None}),
    ]
    merged: dict[str, Any] = {"config_dir": config_dir}
    origin: dict[str, str] = {}
    for where, values in layers:
        for key, value in values.items():
            if key not in _FIELDS:
                raise ConfigError(f"{where}: unknown setting {key!r}")
            merged[key] = value
            origin[key] = where
    try:
        return Settings(**merged)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"{origin.get(key, 'settings')}: {key}: {err['msg']}")
        raise ConfigError("; ".join(problems)) from None
