"""[jellyfin], [plex], [trakt], [seerr], [media] and [security]: read, checked, overridden by
MOVIEBOT_<SECTION>_<KEY>, and never shown (repr, redaction)."""

from __future__ import annotations

import logging

import pytest

from bot.config import ConfigError, default_settings, load_settings
from bot.redaction import RedactSecrets, redact, redactor_for

CONFIG = """
[jellyfin]
url = "http://jellyfin.lan:8096/"
api_key = "jf-key-0123456789abcdef"
[plex]
url = "http://plex.lan:32400"
token = "plex-token-abcdef012345"
[trakt]
client_id = "trakt-id-0123"
client_secret = "trakt-secret-0123456789"
[seerr]
url = "https://seerr.example"
api_key = "seerr-key-0123456789"
[media]
sync_hours = 12
[security]
secret_key = "a-secret-key-for-tokens-0123456789"
"""

SECRETS = ("jf-key-0123456789abcdef", "plex-token-abcdef012345", "trakt-secret-0123456789",
           "seerr-key-0123456789", "a-secret-key-for-tokens-0123456789")


def _clear(monkeypatch):
    for name in ("JELLYFIN_URL", "JELLYFIN_API_KEY", "PLEX_URL", "PLEX_TOKEN",
                 "TRAKT_CLIENT_ID", "TRAKT_CLIENT_SECRET", "SEERR_URL", "SEERR_API_KEY",
                 "MEDIA_SYNC_HOURS", "SECURITY_SECRET_KEY"):
        monkeypatch.delenv(f"MOVIEBOT_{name}", raising=False)


def test_sections_are_read_and_secrets_stay_out_of_the_repr(tmp_path, monkeypatch):
    _clear(monkeypatch)
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    settings = load_settings(path)
    assert settings.jellyfin.url == "http://jellyfin.lan:8096" and settings.jellyfin.enabled
    assert settings.plex.enabled and settings.trakt.enabled and settings.seerr.enabled
    assert settings.media.sync_hours == 12.0
    text = repr(settings)
    assert not [s for s in SECRETS if s in text]


def test_nothing_configured_means_every_service_is_off(monkeypatch):
    _clear(monkeypatch)
    settings = default_settings()
    assert not (settings.jellyfin.enabled or settings.plex.enabled or settings.trakt.enabled
                or settings.seerr.enabled)
    assert settings.media.sync_hours == 6.0


def test_environment_overrides(tmp_path, monkeypatch):
    _clear(monkeypatch)
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    monkeypatch.setenv("MOVIEBOT_JELLYFIN_API_KEY", "from-env-key-0123")
    monkeypatch.setenv("MOVIEBOT_PLEX_URL", "http://other:32400")
    monkeypatch.setenv("MOVIEBOT_TRAKT_CLIENT_SECRET", "env-secret-0123")
    monkeypatch.setenv("MOVIEBOT_MEDIA_SYNC_HOURS", "3")
    settings = load_settings(path)
    assert settings.jellyfin.api_key == "from-env-key-0123"
    assert settings.jellyfin.url == "http://jellyfin.lan:8096"  # the file's, kept
    assert settings.plex.url == "http://other:32400"
    assert settings.trakt.client_secret == "env-secret-0123"
    assert settings.media.sync_hours == 3.0
    monkeypatch.setenv("MOVIEBOT_SEERR_URL", "ftp://nope")
    with pytest.raises(ConfigError, match="MOVIEBOT_SEERR_URL"):
        load_settings(path)


@pytest.mark.parametrize("text, key", [
    ('[jellyfin]\nurl = "jellyfin.lan"', "jellyfin.url"),
    ('[plex]\ntoken = 5', "plex.token"),
    ('[trakt]\nbase_url = "http://x"', "trakt.base_url"),  # the imitation's only
    ('[seerr]\nkey = "x"', "seerr.key"),
    ('[media]\nsync_hours = 0', "media.sync_hours"),
])
def test_bad_values_name_the_key(tmp_path, monkeypatch, text, key):
    _clear(monkeypatch)
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(path)


def test_the_media_secrets_are_redacted_from_logs(tmp_path, monkeypatch, caplog):
    _clear(monkeypatch)
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    redactor = redactor_for(load_settings(path))
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "keys: %s", (SECRETS,), None)
    RedactSecrets(redactor).filter(record)
    assert not [s for s in SECRETS if s in record.getMessage()]
    assert "[secret]" in record.getMessage()


def test_library_hours_and_the_seerr_webhook(tmp_path, monkeypatch):
    for name in ("MEDIA_LIBRARY_HOURS", "SEERR_WEBHOOK_PORT", "SEERR_WEBHOOK_SECRET",
                 "SEERR_WEBHOOK_HOST"):
        monkeypatch.delenv(f"MOVIEBOT_{name}", raising=False)
    assert default_settings().media.library_hours == 6.0
    assert default_settings().seerr.webhook_port == 0
    path = tmp_path / "config.toml"
    path.write_text('[media]\nlibrary_hours = 2\n[seerr]\nwebhook_port = 8787\n'
                    'webhook_secret = "hook-secret-0123456789"\n', encoding="utf-8")
    path.chmod(0o600)
    settings = load_settings(path)
    assert settings.media.library_hours == 2.0 and settings.seerr.webhook_port == 8787
    assert "hook-secret-0123456789" not in repr(settings)
    assert redact("x hook-secret-0123456789", redactor_for(settings)) == "x [secret]"
    monkeypatch.setenv("MOVIEBOT_SEERR_WEBHOOK_PORT", "9000")
    monkeypatch.setenv("MOVIEBOT_MEDIA_LIBRARY_HOURS", "3")
    settings = load_settings(path)
    assert settings.seerr.webhook_port == 9000 and settings.media.library_hours == 3.0
    for bad in ('[seerr]\nwebhook_port = "many"\n', '[seerr]\nwebhook_port = 70000\n',
                '[media]\nlibrary_hours = 0\n'):
        monkeypatch.delenv("MOVIEBOT_SEERR_WEBHOOK_PORT")
        monkeypatch.setenv("MOVIEBOT_SEERR_WEBHOOK_PORT", "")
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(ConfigError):
            load_settings(path)
