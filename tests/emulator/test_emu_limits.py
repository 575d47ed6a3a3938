"""The emulator refuses what Discord refuses: every documented size limit, answered as Discord
answers (HTTP 400, code 50035, ``errors`` mirroring the body), and a body exactly at a limit
passes. First table-driven on the checker, then through a real discord.py client: a channel
message, an interaction reply, a modal, autocomplete choices and a command sync."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord import app_commands

from emulator import limits


def _embed(**fields: Any) -> dict[str, Any]:
    return {"type": "rich", **fields}


def _row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def _button(n: int = 0, **extra: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "ok", "custom_id": f"b{n}", **extra}


def _select(options: int = 1, **extra: Any) -> dict[str, Any]:
    return {"type": 3, "custom_id": "pick", "options": [
        {"label": f"o{i}", "value": str(i)} for i in range(options)], **extra}


def _fields(count: int, name: str = "n", value: str = "v") -> list[dict[str, Any]]:
    return [{"name": name, "value": value, "inline": False} for _ in range(count)]


# (label, body at the limit, body one past it, path of the error, error code)
MESSAGE_LIMITS = [
    ("content 2000", {"content": "x" * 2000}, {"content": "x" * 2001}, "content",
     limits.MAX_LENGTH),
    ("10 embeds", {"embeds": [_embed(title="t")] * 10}, {"embeds": [_embed(title="t")] * 11},
     "embeds", limits.MAX_LENGTH),
    ("embed title 256", {"embeds": [_embed(title="x" * 256)]},
     {"embeds": [_embed(title="x" * 257)]}, "embeds.0.title", limits.MAX_LENGTH),
    ("embed description 4096", {"embeds": [_embed(description="x" * 4096)]},
     {"embeds": [_embed(description="x" * 4097)]}, "embeds.0.description",
     limits.MAX_LENGTH),
    ("25 fields", {"embeds": [_embed(fields=_fields(25))]},
     {"embeds": [_embed(fields=_fields(26))]}, "embeds.0.fields", limits.MAX_LENGTH),
    ("field name 256", {"embeds": [_embed(fields=_fields(1, name="x" * 256))]},
     {"embeds": [_embed(fields=_fields(1, name="x" * 257))]}, "embeds.0.fields.0.name",
     limits.MAX_LENGTH),
    ("field value 1024", {"embeds": [_embed(fields=_fields(1, value="x" * 1024))]},
     {"embeds": [_embed(fields=_fields(1, value="x" * 1025))]}, "embeds.0.fields.0.value",
     limits.MAX_LENGTH),
    ("empty field value", {"embeds": [_embed(fields=_fields(1))]},
     {"embeds": [_embed(fields=_fields(1, value=""))]}, "embeds.0.fields.0.value",
     limits.MIN_LENGTH),
    ("footer 2048", {"embeds": [_embed(footer={"text": "x" * 2048})]},
     {"embeds": [_embed(footer={"text": "x" * 2049})]}, "embeds.0.footer.text",
     limits.MAX_LENGTH),
    ("author 256", {"embeds": [_embed(author={"name": "x" * 256})]},
     {"embeds": [_embed(author={"name": "x" * 257})]}, "embeds.0.author.name",
     limits.MAX_LENGTH),
    ("6000 in all embeds", {"embeds": [_embed(description="x" * 3000)] * 2},
     {"embeds": [_embed(description="x" * 3000), _embed(description="x" * 3001)]},
     "embeds", limits.EMBED_SIZE),
    ("6000 in one embed", {"embeds": [_embed(description="x" * 4000, footer={"text": "y" * 2000})]},
     {"embeds": [_embed(description="x" * 4000, footer={"text": "y" * 2001})]},
     "embeds", limits.EMBED_SIZE),
    ("5 action rows", {"components": [_row(_button(i)) for i in range(5)]},
     {"components": [_row(_button(i)) for i in range(6)]}, "components", limits.MAX_LENGTH),
    ("5 buttons a row", {"components": [_row(*(_button(i) for i in range(5)))]},
     {"components": [_row(*(_button(i) for i in range(6)))]}, "components.0.components",
     limits.MAX_LENGTH),
    ("1 select a row", {"components": [_row(_select())]},
     {"components": [_row(_select(), _button())]}, "components.0.components",
     limits.MAX_LENGTH),
    ("custom_id 100", {"components": [_row(_button(custom_id="c" * 100))]},
     {"components": [_row(_button(custom_id="c" * 101))]},
     "components.0.components.0.custom_id", limits.MAX_LENGTH),
    ("button label 80", {"components": [_row(_button(label="l" * 80))]},
     {"components": [_row(_button(label="l" * 81))]}, "components.0.components.0.label",
     limits.MAX_LENGTH),
    ("25 select options", {"components": [_row(_select(25))]},
     {"components": [_row(_select(26))]}, "components.0.components.0.options",
     limits.MAX_LENGTH),
    ("select placeholder 150", {"components": [_row(_select(placeholder="p" * 150))]},
     {"components": [_row(_select(placeholder="p" * 151))]},
     "components.0.components.0.placeholder", limits.MAX_LENGTH),
    ("option label 100",
     {"components": [_row(_select(options=0) | {"options": [{"label": "l" * 100,
                                                              "value": "1"}]})]},
     {"components": [_row(_select(options=0) | {"options": [{"label": "l" * 101,
                                                              "value": "1"}]})]},
     "components.0.components.0.options.0.label", limits.MAX_LENGTH),
]


def _error_at(errors: dict[str, Any], path: str) -> list[dict[str, str]]:
    node: Any = errors
    for key in path.split("."):
        node = node.get(key, {})
    return node.get("_errors", [])


@pytest.mark.parametrize(("label", "ok", "bad", "path", "code"), MESSAGE_LIMITS,
                         ids=[row[0] for row in MESSAGE_LIMITS])
def test_message_limits_like_discord(label, ok, bad, path, code):
    assert limits.message_errors(ok) is None, label
    errors = limits.message_errors(bad)
    assert errors is not None, f"{label}: accepted"
    found = _error_at(errors, path)
    assert [e["code"] for e in found] == [code], (label, errors)
    assert found[0]["message"].startswith(("Must be", "Embed size exceeds"))


def test_modal_choice_and_command_limits():
    text_input = {"type": 4, "custom_id": "f", "label": "l" * 45, "style": 1}
    modal = {"title": "t" * 45, "custom_id": "m", "components": [_row(text_input)]}
    assert limits.modal_errors(modal) is None
    assert _error_at(limits.modal_errors({**modal, "title": "t" * 46}) or {}, "title")
    long_label = _row({**text_input, "label": "l" * 46})
    assert _error_at(limits.modal_errors({**modal, "components": [long_label]}) or {},
                     "components.0.components.0.label")

    choices = [{"name": "n" * 100, "value": "v" * 100}] * 25
    assert limits.choices_errors(choices) is None
    assert _error_at(limits.choices_errors(choices + choices[:1]) or {}, "choices")
    assert _error_at(limits.choices_errors([{"name": "n" * 101, "value": "v"}]) or {},
                     "choices.0.name")
    assert _error_at(limits.choices_errors([{"name": "n", "value": "v" * 101}]) or {},
                     "choices.0.value")
    assert limits.choices_errors([{"name": "n", "value": 10**9}]) is None  # numbers: no length

    command = {"name": "c" * 32, "description": "d" * 100, "options": [
        {"type": 3, "name": "o", "description": "d"}] * 25}
    assert limits.command_errors(command) is None
    assert _error_at(limits.command_errors({**command, "name": "c" * 33}) or {}, "name")
    assert _error_at(limits.command_errors({**command, "description": ""}) or {},
                     "description")
    too_many = {**command, "options": command["options"] * 2}
    assert _error_at(limits.command_errors(too_many) or {}, "options")


# --------------------------------------------------------------- through discord.py
async def test_discord_py_gets_a_400_with_code_50035_and_the_errors(emu, scene, bot):
    channel = bot.get_channel(scene.general.id)
    await channel.send(embed=discord.Embed(title="x" * 256))  # at the limit: fine
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=discord.Embed(title="x" * 257))
    assert caught.value.status == 400 and caught.value.code == 50035
    assert "embeds.0.title" in caught.value.text and "256 or fewer" in caught.value.text
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("x" * 2001)
    assert caught.value.code == 50035 and "content" in caught.value.text
    assert len(emu.rejections) == 2
    assert emu.limit_violations()[0].endswith(
        "embeds.0.title: Must be 256 or fewer in length.")
    with pytest.raises(AssertionError, match="code 50035"):
        emu.assert_within_limits()


async def test_interaction_replies_modals_choices_and_syncs_are_checked(emu, scene, bot):
    failures: list[BaseException] = []

    @bot.tree.command(name="oversized", description="Breaks limits on purpose")
    @app_commands.describe(what="which limit")
    async def oversized(interaction: discord.Interaction, what: str) -> None:
        try:
            if what == "embed":
                embed = discord.Embed(title="ok", description="x" * 4000)
                embed.set_footer(text="y" * 2001)  # 6001 characters in all
                await interaction.response.send_message(embed=embed)
            else:
                modal = discord.ui.Modal(title="t" * 46)
                modal.add_item(discord.ui.TextInput(label="ok"))
                await interaction.response.send_modal(modal)
        except discord.HTTPException as error:
            failures.append(error)

    @oversized.autocomplete("what")
    async def what_choices(interaction: discord.Interaction,
                           current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name="n" * 101, value="embed")]

    guild = discord.Object(id=scene.guild.id)
    bot.tree.copy_global_to(guild=guild)
    await bot.tree.sync(guild=guild)
    assert not emu.rejections

    for count, what in enumerate(("embed", "modal"), start=1):
        inter = await emu.slash(scene.alice, scene.general, "oversized", what=what)
        await emu.wait_until(lambda c=count: len(failures) >= c or None, 10,
                             f"the {what} refusal")
        assert not inter.responded
    assert [getattr(f, "code", None) for f in failures] == [50035, 50035]
    inter = await emu.autocomplete(scene.alice, scene.general, "oversized", focused="what",
                                   what="e")
    await emu.wait_until(lambda: len(emu.rejections) >= 3 or None, 10, "the choices refusal")
    assert not inter.responded
    lines = emu.limit_violations()
    assert any("data.embeds: Embed size exceeds maximum size of 6000" in line for line in lines)
    assert any("data.title: Must be 45 or fewer in length." in line for line in lines)
    assert any("data.choices.0.name: Must be 100 or fewer in length." in line for line in lines)

    # A command definition over the limits is refused at sync, like Discord does.
    @bot.tree.command(name="x" * 32, description="d" * 100)
    async def long_name(interaction: discord.Interaction) -> None:  # pragma: no cover
        pass

    long_name.name = "y" * 33  # past discord.py's own check, as a hand-made request could be
    with pytest.raises(discord.HTTPException) as caught:
        await bot.tree.sync()
    assert caught.value.code == 50035 and "name: Must be 32 or fewer" in caught.value.text
