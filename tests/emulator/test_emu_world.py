"""The world model, payload shapes, body parsing and text rendering (no bot needed)."""

from __future__ import annotations

import discord
import pytest

from emulator import ALL_PERMISSIONS, Overwrite, Permissions, World, rendered_text, running_bot
from emulator.bodies import parse_body
from emulator.payloads import guild_create_payload


def test_permissions_match_discord_py():
    assert discord.Permissions(manage_guild=True).value == Permissions.MANAGE_GUILD
    assert Permissions.ADMINISTRATOR == 1 << 3
    assert ALL_PERMISSIONS & discord.Permissions.all().value == discord.Permissions.all().value


def test_permission_computation_with_roles_and_overwrites():
    world = World()
    guild = world.create_guild("G")
    mods = guild.add_role("Mods", Permissions.MANAGE_GUILD)
    admins = guild.add_role("Admins", Permissions.ADMINISTRATOR)
    user, mod, admin = (guild.add_member("u"), guild.add_member("m", roles=[mods]),
                        guild.add_member("a", roles=[admins]))
    assert not user.has(Permissions.MANAGE_GUILD)
    assert mod.has(Permissions.MANAGE_GUILD)
    assert admin.permissions() == ALL_PERMISSIONS
    assert guild.owner.permissions() == ALL_PERMISSIONS
    secret = guild.add_text_channel("secret", overwrites=[
        Overwrite(guild.id, 0, deny=Permissions.VIEW_CHANNEL),
        Overwrite(mods.id, 0, allow=Permissions.VIEW_CHANNEL),
    ])
    assert not user.permissions(secret) & Permissions.VIEW_CHANNEL
    assert mod.permissions(secret) & Permissions.VIEW_CHANNEL
    assert user.permissions(guild.channel("general")) & Permissions.VIEW_CHANNEL


def test_the_bots_role_and_channel_overwrites_set_what_interactions_carry():
    """`Guild.bot_role` and `Channel.set_overwrite` (for tests of the bot's own permissions,
    e.g. /setup): an interaction's `app_permissions` is the bot's result in that channel."""
    from types import SimpleNamespace

    from discord.enums import InteractionType

    from emulator.interactions import base_payload

    world = World()
    guild = world.create_guild("G", channels=("general", "events"))
    alice = guild.add_member("alice")
    role = guild.bot_role
    assert role.managed and role in guild.me.roles and role.permissions == world.bot_permissions
    role.permissions |= Permissions.MANAGE_EVENTS
    events, general = guild.channel("events"), guild.channel("general")
    first = events.set_overwrite(role, deny=Permissions.MANAGE_EVENTS | Permissions.EMBED_LINKS)
    events.set_overwrite(role, deny=Permissions.MANAGE_EVENTS)  # replaces the first
    events.set_overwrite(alice, deny=Permissions.SEND_MESSAGES)  # a member's: type 1
    assert first not in events.overwrites and len(events.overwrites) == 2
    assert {ow.type for ow in events.overwrites} == {0, 1}
    emu = SimpleNamespace(world=world)

    def app_permissions(channel):
        payload = base_payload(emu, InteractionType.application_command, alice, channel, {})
        return discord.Permissions(int(payload["app_permissions"]))

    assert app_permissions(general).manage_events
    in_events = app_permissions(events)
    assert not in_events.manage_events and in_events.embed_links and in_events.send_messages
    assert not alice.permissions(events) & Permissions.SEND_MESSAGES


def test_snowflakes_increase_and_guild_payload_is_complete():
    world = World()
    ids = [world.ids() for _ in range(1000)]
    assert ids == sorted(set(ids))
    guild = world.create_guild("G", voice_channels=("Voice",))
    alice = guild.add_member("alice")
    guild.join_voice(alice, guild.channel("Voice"))
    data = guild_create_payload(guild)
    assert data["member_count"] == len(data["members"]) == 3  # owner, bot, alice
    assert {c["type"] for c in data["channels"]} == {0, 2}
    assert data["voice_states"][0]["user_id"] == str(alice.id)
    assert all(isinstance(r["id"], str) for r in data["roles"])


def test_multipart_body_keeps_file_bytes():
    boundary = "XyZ"
    binary = bytes(range(256)) + b"\r\n--XyZ-not-a-boundary\r\n"
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="payload_json"\r\n'
        b'Content-Type: application/json\r\n\r\n{"content": "hi", "attachments": '
        b'[{"id": 0, "filename": "a.bin"}]}\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="files[0]"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + binary + b"\r\n--XyZ--\r\n"
    )
    parsed = parse_body(f"multipart/form-data; boundary={boundary}", body)
    assert parsed.json["content"] == "hi"
    (f,) = parsed.files
    assert (f.filename, f.index, f.data) == ("a.bin", 0, binary)


def test_rendered_text():
    msg = {
        "content": "Top picks",
        "embeds": [{"title": "Heat", "description": "Crime", "fields": [
            {"name": "Score", "value": "9"}], "footer": {"text": "page 1/2"}}],
        "components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "Prev", "custom_id": "p", "disabled": True},
            {"type": 2, "style": 1, "label": "Next", "custom_id": "n"}]}],
        "attachments": [{"filename": "x.csv", "size": 3}],
        "flags": 64,
    }
    assert rendered_text(msg) == (
        "Top picks\n| **Heat**\n| Crime\n| Score: 9\n| — page 1/2\n"
        "[Prev (disabled)] [Next]\n📎 x.csv (3 bytes)\n(only you can see this)"
    )


async def test_voice_states_at_login_and_heartbeat(emu, scene, bot_factory):
    scene.guild.join_voice(scene.alice, scene.cinema)
    async with running_bot(bot_factory(scene.guild.id), emu) as bot:
        vc = bot.get_guild(scene.guild.id).get_channel(scene.cinema.id)
        assert isinstance(vc, discord.VoiceChannel)
        assert [m.id for m in vc.members] == [scene.alice.id]
        await emu.leave_voice(scene.alice)
        await emu.wait_until(lambda: not vc.members, what="VOICE_STATE_UPDATE leave")
    assert any(p.get("op") == 1 for p in emu.gateway.received)  # heartbeat was sent + ACKed
    identify = emu.gateway.identifies[0]
    assert identify["token"] == "test-token" and identify["intents"] & (1 << 1)


async def test_delete_original(emu, scene, bot):
    inter = await emu.slash(scene.alice, scene.general, "temp")
    assert (await inter.response()).content == "now you see me"
    await emu.wait_until(lambda: inter.deleted, what="DELETE @original")
    assert inter.final() is None


@pytest.mark.parametrize("is_global", [False, True])
async def test_global_and_bucket_rate_limits_are_retried(emu, scene, bot, is_global):
    emu.faults.rate_limit("POST /interactions/*/callback", retry_after=0.05,
                          is_global=is_global, count=2)
    reply = await (await emu.slash(scene.alice, scene.general, "perms")).response()
    assert reply.content.startswith("manage_guild=False")
    statuses = [r.status for r in emu.requests_matching("POST /interactions/*/callback")]
    assert statuses == [429, 429, 200]


async def test_wrong_token_is_rejected(bot_factory, scene, emu):
    emu.token = "right"
    with pytest.raises(RuntimeError, match=r"LoginFailure|Unauthorized|401"):
        async with running_bot(bot_factory(scene.guild.id), emu, token="wrong"):
            pass
