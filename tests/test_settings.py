from __future__ import annotations

from pathlib import Path

import pytest

from handoff.queues import QueueConfigError, QueueDirectory
from lotsa.settings import ConfigError, default_config_dir, load_settings


def test_packaged_defaults_load() -> None:
    settings = load_settings()
    assert settings.config_dir == default_config_dir()
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert QueueDirectory.load(default_config_dir() / "queues.yaml").queues["acute"].acute


def test_layers_env_beats_demo_defaults_and_flags_beat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTSA_PORT", "9000")
    monkeypatch.setenv("LOTSA_SECRET_KEY", "from-the-environment")
    settings = load_settings(defaults={"port": 8181, "secret_key": "generated"})
    assert settings.port == 9000 and settings.secret_key.get_secret_value() == "from-the-environment"
    assert load_settings(defaults={"port": 8181}, overrides={"port": 7000}).port == 7000
    assert "from-the-environment" not in repr(settings)


def test_errors_name_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.toml").write_text('port = "eighty"\n')
    with pytest.raises(ConfigError, match=r"settings.toml: port"):
        load_settings(tmp_path)
    (tmp_path / "settings.toml").write_text('colour = "red"\n')
    with pytest.raises(ConfigError, match=r"settings.toml: unknown setting 'colour'"):
        load_settings(tmp_path)
    (tmp_path / "settings.toml").write_text('')
    monkeypatch.setenv("LOTSA_COOKIE_SECURE", "perhaps")
    with pytest.raises(ConfigError, match=r"LOTSA_\*\): cookie_secure"):
        load_settings(tmp_path)


def test_postgres_urls_get_the_async_driver() -> None:
    settings = load_settings(overrides={"database_url": "postgresql://u@h/db"})
    assert settings.effective_database_url == "postgresql+asyncpg://u@h/db"


def test_queue_file_errors_name_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "queues.yaml"
    path.write_text("queues:\n  - {id: a, name: {sv: A}, groups: [pimps]}\n")
    with pytest.raises(QueueConfigError, match=r"queues.yaml: queues.0: groups"):
        QueueDirectory.load(path)


def test_lists_from_the_environment_and_origins_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTSA_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2")
    monkeypatch.setenv("LOTSA_CHAT_ORIGINS", "https://org.example, http://localhost:3000/")
    settings = load_settings()
    assert settings.trusted_proxies == ["10.0.0.1", "10.0.0.2"]
    assert settings.chat_origins == ["https://org.example", "http://localhost:3000"]
    monkeypatch.setenv("LOTSA_CHAT_ORIGINS", "https://org.example/chat")
    with pytest.raises(ConfigError, match=r"LOTSA_\*\)?: chat_origins"):
        load_settings()


def test_a_configuration_copied_before_a_folder_existed_gets_the_packaged_one(tmp_path: Path) -> None:
    """An admin's copied configuration without texts/ or triage/phrases/ still starts (upgrade)."""
    from lotsa.settings import config_folder, default_config_dir

    (tmp_path / "texts").mkdir()
    assert config_folder(tmp_path, "texts") == tmp_path / "texts"
    assert config_folder(tmp_path, "triage/phrases") == default_config_dir() / "triage" / "phrases"
