"""Shared UI helpers (`cogs/ui/`): the typed guild id of an interaction, used by every command
instead of `assert interaction.guild_id is not None` (which `python -O` would strip)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from discord import app_commands

from cogs.errors import describe
from cogs.ui.guild import guild_id_of

COGS = Path(__file__).resolve().parents[1] / "cogs"


def _interaction(guild_id: int | None) -> Any:
    return cast(Any, SimpleNamespace(guild_id=guild_id))


def test_the_guild_id_of_a_server_interaction():
    assert guild_id_of(_interaction(1234)) == 1234


def test_no_guild_is_a_clear_refusal_not_an_assertion():
    with pytest.raises(app_commands.NoPrivateMessage) as caught:
        guild_id_of(_interaction(None))
    assert describe(caught.value) == "This command works in a server, not in direct messages."


def test_no_cog_asserts_the_guild_id():
    found = [f"{path.relative_to(COGS.parent)}:{number}"
             for path in sorted(COGS.rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"assert\s+(interaction\.)?guild_id is not None", line)]
    assert found == [], "use cogs.ui.guild.guild_id_of(interaction)"
