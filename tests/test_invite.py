"""`python -m bot invite` (issue 21 item 10, issue 27 item 3): the OAuth2 URL with exactly the
scopes and permissions the bot uses, from `--application-id`, `[discord] application_id` or
the token's first part (the bot's id in base64)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import discord
import pytest
import timeouts

from bot.invite import (
    PERMISSIONS,
    InviteError,
    application_id_from_token,
    invite_url,
    required_permissions,
)

REPO = Path(__file__).resolve().parents[1]
# View Channels (1 << 10) + Send Messages (1 << 11) + Embed Links (1 << 14)
# + Attach Files (1 << 15) + Manage Events (1 << 33) + Send Messages in Threads (1 << 38)
PERMISSION_BITS = (1 << 10) + (1 << 11) + (1 << 14) + (1 << 15) + (1 << 33) + (1 << 38)


def url_for(application_id: int) -> str:
    return ("https://discord.com/oauth2/authorize?client_id="
            f"{application_id}&scope=bot+applications.commands&permissions={PERMISSION_BITS}")


def token_for(user_id: int) -> str:
    first = base64.b64encode(str(user_id).encode()).decode().rstrip("=")  # as Discord writes it
    return f"{first}.GhIjKl.not-a-real-secret_0123456789abcdef"


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DISCORD_TOKEN", "MOVIEBOT_CONFIG", "MOVIEBOT_DATABASE")}
    environ["PYTHONPATH"] = str(REPO)
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=timeouts.scaled(120))


def test_the_url_has_exactly_the_scopes_and_permissions_the_bot_uses():
    assert invite_url(123456789012345678) == url_for(123456789012345678)
    assert required_permissions().value == PERMISSION_BITS
    names = {flag for flag, _name, _why in PERMISSIONS}
    assert names == {"view_channel", "send_messages", "send_messages_in_threads",
                     "embed_links", "attach_files", "manage_events"}
    assert all(hasattr(discord.Permissions, flag) for flag in names)


@pytest.mark.parametrize("user_id", [123456789012345678, 1234567890123456789, 98765432109876543])
def test_the_application_id_is_read_from_the_token(user_id):
    assert application_id_from_token(token_for(user_id)) == user_id


@pytest.mark.parametrize("token", ["not-a-token", "", "bm90IGFuIGlk.x.y", "MA.x.y"])
def test_a_token_without_an_id_is_refused(token):
    with pytest.raises(InviteError, match="--application-id"):
        application_id_from_token(token)


@pytest.mark.slow
def test_the_command_prints_the_url_from_the_option_the_config_or_the_token(tmp_path):
    from_option = cli("invite", "--application-id", "111222333444555666", cwd=tmp_path)
    assert from_option.returncode == 0, from_option.stderr
    assert from_option.stdout == url_for(111222333444555666) + "\n"
    assert "Embed Links" in from_option.stderr and "Attach Files" in from_option.stderr

    config = tmp_path / "bot.toml"
    config.write_text("[discord]\napplication_id = 222333444555666777\n", encoding="utf-8")
    config.chmod(0o600)
    from_config = cli("invite", "--config", str(config), cwd=tmp_path,
                      DISCORD_TOKEN=token_for(999888777666555444))
    assert from_config.stdout == url_for(222333444555666777) + "\n", from_config.stderr

    from_token = cli("invite", cwd=tmp_path, DISCORD_TOKEN=token_for(333444555666777888))
    assert from_token.returncode == 0, from_token.stderr
    assert from_token.stdout == url_for(333444555666777888) + "\n"


def test_without_any_id_it_says_how_to_give_one(tmp_path):
    result = cli("invite", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Cannot make the invite link: no application "
                                                   "id: pass --application-id"), result.stderr


def test_the_readme_uses_it_and_lists_the_same_permissions():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Create the Discord application", 1)[1].split("\n## ", 1)[0]
    section = " ".join(section.split())
    assert "python -m bot invite" in section
    for _flag, name, _why in PERMISSIONS:
        assert name in section, name
