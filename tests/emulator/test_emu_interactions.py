"""Slash commands, autocomplete, components, modals, followups, edits and attachments."""

from __future__ import annotations

import aiohttp
import pytest

from emulator import rendered_text


async def test_slash_reply_is_ephemeral_with_allowed_mentions(emu, scene, bot):
    inter = await emu.slash(scene.alice, scene.general, "rate", movie="Heat", score=8)
    reply = await inter.response()
    assert reply.type == 4
    assert reply.content == f"<@{scene.alice.id}> rated **Heat** 8/10"
    assert reply.ephemeral
    assert reply.allowed_mentions == {"parse": []}
    assert reply.mentions == []  # allowed_mentions none: nobody pinged
    opts = inter.payload["data"]["options"]
    assert opts == [{"name": "movie", "type": 3, "value": "Heat"},
                    {"name": "score", "type": 4, "value": 8}]


async def test_slash_validates_options_like_discord(emu, scene, bot):
    with pytest.raises(ValueError, match="max_value"):
        await emu.slash(scene.alice, scene.general, "rate", movie="Heat", score=11)
    with pytest.raises(ValueError, match="required option 'score'"):
        await emu.slash(scene.alice, scene.general, "rate", movie="Heat")
    with pytest.raises(LookupError, match="not registered"):
        await emu.slash(scene.alice, scene.general, "nope")


async def test_autocomplete_choices(emu, scene, bot):
    inter = await emu.autocomplete(scene.alice, scene.general, "rate", focused="movie",
                                   movie="matr", score=None)
    reply = await inter.response()
    assert reply.type == 8
    assert reply.choice_names == ["The Matrix", "The Matrix Reloaded"]
    focused = inter.payload["data"]["options"][0]
    assert focused == {"name": "movie", "type": 3, "value": "matr", "focused": True}


async def test_subcommands_and_groups(emu, scene, bot):
    reply = await (await emu.slash(scene.alice, scene.general, "movies search",
                                   query="alien")).response()
    assert reply.content == "2 hits: Alien, Aliens"
    denied = await (await emu.slash(scene.alice, scene.general, "movies admin reset",
                                    confirm=True)).response()
    assert denied.content == "no permission" and denied.ephemeral
    ok = await (await emu.slash(scene.mod, scene.general, "movies admin reset",
                                confirm=True)).response()
    assert ok.content == "reset confirm=True" and not ok.ephemeral


async def test_member_permissions_computed(emu, scene, bot):
    r = await (await emu.slash(scene.alice, scene.general, "perms")).response()
    assert r.content == "manage_guild=False admin=False app_send=True"
    r = await (await emu.slash(scene.mod, scene.general, "perms")).response()
    assert r.content.startswith("manage_guild=True admin=False")
    r = await (await emu.slash(scene.owner, scene.general, "perms")).response()
    assert r.content.startswith("manage_guild=True admin=True")


async def test_resolved_user_role_channel(emu, scene, bot):
    role = scene.guild.role("Moderator")
    inter = await emu.slash(scene.alice, scene.general, "whois", user=scene.mod, role=role,
                            channel=scene.general)
    reply = await inter.response()
    assert reply.content == (f"user=mod id={scene.mod.id} roles=['@everyone', 'Moderator'] "
                             "role=Moderator channel=general")
    resolved = inter.payload["data"]["resolved"]
    assert set(resolved) == {"users", "members", "roles", "channels"}


async def test_embed_button_click_edits_message(emu, scene, bot):
    inter = await emu.slash(scene.alice, scene.general, "card")
    reply = await inter.response()
    assert reply.embed["title"] == "Heat"
    assert reply.embed["fields"] == [{"name": "Score", "value": "8.3", "inline": True}]
    assert rendered_text(reply) == ("| **Heat**\n| 1995 crime film\n| Score: 8.3\n"
                                    "| — via emulator\n[Like] [Never (disabled)]")
    with pytest.raises(ValueError, match="disabled"):
        await emu.click(scene.alice, reply, "never")
    click = await emu.click(scene.mod, reply, "like")
    update = await click.response()
    assert update.type == 7
    assert update.content == "Liked by mod"
    assert update.buttons[0]["disabled"] is True
    final = inter.final()
    assert final.content == "Liked by mod"
    assert final.rendered_text().endswith("[Liked (disabled)] [Never (disabled)]")


async def test_select_menu(emu, scene, bot):
    msg = await (await emu.slash(scene.alice, scene.general, "genres")).response()
    assert "[▾ Pick genres]" in msg.rendered_text()
    sel = await emu.select(scene.alice, msg, "genre", ["drama", "scifi"])
    reply = await sel.response()
    assert reply.content == "genres: drama, scifi" and reply.ephemeral
    with pytest.raises(ValueError, match="not an option"):
        await emu.select(scene.alice, msg, "genre", ["western"])


async def test_modal_roundtrip(emu, scene, bot):
    opened = await (await emu.slash(scene.alice, scene.general, "feedback")).response()
    assert opened.type == 9 and opened.modal["title"] == "Feedback"
    sub = await emu.submit_modal(scene.alice, scene.general, opened.modal["custom_id"],
                                 {"fb_text": "great", "fb_stars": "5"})
    reply = await sub.response()
    assert reply.content == "thanks: great (5 stars)"
    with pytest.raises(ValueError, match="required"):
        await emu.submit_modal(scene.alice, scene.general, opened.modal["custom_id"], {})


async def test_defer_then_followups(emu, scene, bot):
    inter = await emu.slash(scene.alice, scene.general, "slow")
    first = await inter.response()
    assert first.type == 5 and first.deferred and first.loading
    followups = await inter.followups(2)
    assert [f.content for f in followups] == ["first followup", "secret followup"]
    assert [f.ephemeral for f in followups] == [False, True]


async def test_defer_then_edit_original(emu, scene, bot):
    inter = await emu.slash(scene.alice, scene.general, "compute")
    final = await inter.wait_final()
    assert final.content == "computed 42"
    assert not final.loading
    assert len(inter.edits) == 1


async def test_edit_original_history(emu, scene, bot):
    inter = await emu.slash(scene.alice, scene.general, "progress")
    assert (await inter.response()).content == "working..."
    edits = await inter.wait_edits(1)
    assert edits[0].content == "done"
    assert edits[0].embed["title"] == "Result"
    assert inter.final().message["edited_timestamp"] is not None


async def test_attachments_readable(emu, scene, bot):
    inter = await emu.slash(scene.alice, scene.general, "export")
    reply = await inter.response()
    assert reply.ephemeral and reply.content == "your export"
    csv = reply.attachment("ratings.csv")
    assert csv.data == b"movie,score\nHeat,9\nAlien,8\n"
    assert csv.text.splitlines()[1] == "Heat,9"
    (blob,) = await inter.followups(1)
    assert blob.attachments[0].filename == "blob.bin" and blob.attachments[0].size == 10
    async with aiohttp.ClientSession() as s, s.get(csv.url) as resp:
        assert await resp.read() == csv.data
    assert "📎 ratings.csv (27 bytes)" in reply.rendered_text()


async def test_channel_message_and_voice_states(emu, scene, bot):
    await emu.join_voice(scene.alice, scene.cinema)
    await emu.join_voice(scene.mod, scene.cinema)
    r = await (await emu.slash(scene.alice, scene.general, "voice")).response()
    assert r.content == "Cinema: ['alice', 'mod']"
    inter = await emu.slash(scene.alice, scene.general, "announce", text="movie night")
    await inter.response()
    msg = await emu.wait_for_message(scene.general)
    assert msg.content == "📣 movie night"
    assert [m.content for m in emu.channel_messages(scene.general)][-1] == "📣 movie night"


async def test_guild_join_and_remove(emu, scene, bot):
    new = await emu.add_guild("Second Club")
    await emu.wait_until(lambda: new.id in bot.seen["joined"], what="on_guild_join")
    assert bot.get_guild(new.id) is not None
    await emu.remove_guild(new)
    await emu.wait_until(lambda: new.id in bot.seen["removed"], what="on_guild_remove")
    assert bot.get_guild(new.id) is None


async def test_unknown_route_recorded(emu, scene, bot):
    reply = await (await emu.slash(scene.alice, scene.general, "weird")).response()
    assert reply.content == "route missing"
    assert [(r.method, r.path) for r in emu.unknown_routes] == [("GET", "/nonexistent/thing")]
    with pytest.raises(AssertionError, match="nonexistent"):
        emu.assert_no_unknown_routes()
    emu.unknown_routes.clear()


async def test_requests_recorded(emu, scene, bot):
    await (await emu.slash(scene.alice, scene.general, "rate", movie="Heat", score=7)).response()
    method, _path, body, status = emu.requests_matching("POST /interactions/*/callback")[-1]
    assert method == "POST" and status == 200
    assert body["type"] == 4 and body["data"]["flags"] == 64
