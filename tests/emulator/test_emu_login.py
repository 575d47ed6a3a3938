"""Login, gateway handshake and command registration against the emulator."""

from __future__ import annotations


async def test_login_ready_and_guild_cache(emu, scene, bot):
    assert bot.user is not None and bot.user.id == emu.world.bot_user.id
    assert bot.application_id == emu.world.application_id
    guild = bot.get_guild(scene.guild.id)
    assert guild is not None and guild.name == "Movie Club"
    assert {c.name for c in guild.channels} == {"general", "Cinema"}
    assert guild.get_member(scene.alice.id) is not None
    assert guild.me is not None
    assert bot.seen["ready"] == 1
    emu.assert_no_unknown_routes()


async def test_commands_registered(emu, scene, bot):
    cmds = {c["name"]: c for c in emu.registered_commands(scene.guild)}
    assert {"rate", "movies", "card", "slow", "export"} <= set(cmds)
    assert all(c["id"].isdigit() and c["application_id"] == str(emu.world.application_id)
               for c in cmds.values())
    movies = cmds["movies"]
    assert [o["name"] for o in movies["options"]] == ["search", "admin"]
