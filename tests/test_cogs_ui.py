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


async def test_an_option_in_range_is_declared_and_checked_on_arrival():
    from cogs.errors import UserError
    from cogs.movienight import MovieNight
    from cogs.recommend import Recommend
    from cogs.ui.options import InRange

    bounded = InRange(1, 25, "The count must be a whole number from 1 to 25.")
    assert (bounded.min_value, bounded.max_value) == (1, 25)
    assert await bounded.transform(_interaction(1), 25) == 25
    for bad in (0, 26, True, 2.5, "3"):
        with pytest.raises(UserError, match="from 1 to 25"):
            await bounded.transform(_interaction(1), bad)
    options = {p.name: p for p in Recommend.recommend.parameters}
    count = options["count"]
    assert (count.type.value, count.min_value, count.max_value) == (4, 1, 25)
    assert [c.value for c in options["rule"].choices] == ["average", "least_misery"]
    assert [c.name for c in options["rule"].choices] == ["average", "least misery"]
    night = {p.name: p for p in MovieNight.movienight.parameters}
    assert (night["hours"].min_value, night["hours"].max_value) == (1, 768)
    assert not night["hours"].required
