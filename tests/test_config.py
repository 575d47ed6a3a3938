"""Configuration loading: valid files, one-line errors naming file and key, environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, permission_warnings

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_example_config_loads_and_documents_every_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("MOVIEBOT_DATABASE", raising=False)
    example = REPO / "config.example.toml"
    settings = load_settings(example)
    assert settings.token is None
    assert settings.database == REPO / "data" / "moviebot.sqlite3"
    text = example.read_text()
    for section in ("recommender", "training", "limits", "privacy"):
        for key in getattr(settings, section).__dataclass_fields__:
            assert f"\n{key} =" in text, f"{section}.{key} is not documented in the example"


def test_values_and_relative_database_path(tmp_path, monkeypatch):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("MOVIEBOT_DATABASE", raising=False)
    path = write(tmp_path, """
[discord]
token = "abc"
dev_guild_id = 123
owner_ids = [1, "2"]
[storage]
database = "db/bot.sqlite3"
[recommender]
features = 12
regularization = 2.5
[training]
debounce_seconds = 5
""")
    settings = load_settings(path)
    assert settings.token == "abc"
    assert settings.dev_guild_id == 123
    assert settings.owner_ids == (1, 2)
    assert settings.database == tmp_path / "db" / "bot.sqlite3"
    assert settings.recommender.features == 12
    assert settings.recommender.regularization == 2.5
    assert settings.training.debounce_seconds == 5.0


def test_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "from-env")
    monkeypatch.setenv("MOVIEBOT_DATABASE", str(tmp_path / "env.sqlite3"))
    settings = load_settings(write(tmp_path, '[discord]\ntoken = "from-file"\n'))
    assert settings.token == "from-env"
    assert settings.database == tmp_path / "env.sqlite3"


@pytest.mark.parametrize(("text", "names"), [
    ("[recommender]\nfeatures = 0\n", "recommender.features"),
    ("[recommender]\nfeatures = 2.5\n", "recommender.features"),
    ("[recommender]\nfeatures = \"ten\"\n", "recommender.features"),
    ("[recommender]\nfeaturez = 3\n", "recommender.featurez"),
    ("[training]\nworkers = true\n", "training.workers"),
    ("[training]\nmode = \"fork\"\n", "training.mode"),
    ("[training]\nmode = 1\n", "training.mode"),
    ("[discord]\ndev_guild_id = -5\n", "discord.dev_guild_id"),
    ("[discord]\nowner_ids = 5\n", "discord.owner_ids"),
    ("[logging]\nlevel = \"LOUD\"\n", "logging.level"),
    ("[catalog]\nmovielens_url = \"ftp://x\"\n", "catalog.movielens_url"),
    ("[storage]\ndatabase = \"\"\n", "storage.database"),
    ("[surprise]\nx = 1\n", "surprise"),
    ("recommender = 3\n", "recommender"),
])
def test_invalid_settings_name_file_and_key(tmp_path, text, names):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert f"'{names}'" in message


def test_training_mode_auto_by_default_or_thread_or_process(tmp_path, monkeypatch):
    monkeypatch.delenv("MOVIEBOT_DATABASE", raising=False)
    assert load_settings(write(tmp_path, "")).training.mode == "auto"
    settings = load_settings(write(tmp_path, '[training]\nmode = "Process"\n'))
    assert settings.training.mode == "process"
    settings = load_settings(write(tmp_path, '[training]\nbig_guild_ratings = 5000\n'))
    assert settings.training.big_guild_ratings == 5000


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[discord\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_world_readable_config_warns(tmp_path):
    path = write(tmp_path, "")
    assert permission_warnings(load_settings(path)) == []
    os.chmod(path, 0o644)
    warnings = permission_warnings(load_settings(path))
    assert len(warnings) == 1 and "chmod 600" in warnings[0]
