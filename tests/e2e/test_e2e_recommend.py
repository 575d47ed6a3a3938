"""End-to-end: /recommend (personal, cold start, group, voice), its rate/show-more view, and
/similar, through the Discord emulator with a real model trained on small seeded data."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from typing import TYPE_CHECKING

from emulator import Reply

if TYPE_CHECKING:
    from conftest import Env

LINE = re.compile(r"^\d+\. \*\*(?P<label>.+?)\*\* — (?P<genres>.*?) · "
                  r"(?P<kind>predicted|typical rating|group score|similarity) (?P<score>[\d.]+)"
                  r"(?:/10|%)(?P<rest>.*)$")


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def pick_lines(reply: Reply) -> list[re.Match]:
    assert reply.embed is not None, reply.rendered_text()
    lines = reply.embed.get("description", "").splitlines()
    return [m for m in (LINE.match(line) for line in lines) if m]


def labels(reply: Reply) -> list[str]:
    return [unescape(m["label"]) for m in pick_lines(reply)]


def component(reply: Reply, kind: int) -> dict:
    found = [c for c in reply.walk_components() if c.get("type") == kind]
    assert found, f"no component of type {kind}: {reply.rendered_text()}"
    return found[0]


async def ids_of(env: Env, names: list[str], guild=None) -> set[int]:
    return {(await env.movie(name, guild)).id for name in names}


async def fan_of_scifi(env: Env, member=None, guild=None, *, train: bool = True) -> None:
    """Seed the taste clusters plus a member who loves sci-fi and dislikes romance."""
    guild = guild or env.guild
    member = member or env.alice
    await env.seed_taste_clusters(guild, train=False)
    await env.seed(guild, {member.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2,
                                       "Roman Holiday": 3}}, train=train)


# --------------------------------------------------------------------------- registration
async def test_recommend_options_are_described(env: Env) -> None:
    command = env.emu.find_command("recommend", env.guild)
    options = {o["name"]: o for o in command["options"]}
    assert set(options) == {"count", "genre", "group", "voice", "rule", "source",
                            "runtime_max", "min_year", "max_year", "certification", "language",
                            "exclude_genre"}
    assert all(o["description"] for o in options.values())
    assert (options["count"]["min_value"], options["count"]["max_value"]) == (1, 25)
    assert options["genre"]["autocomplete"] is True
    assert [c["value"] for c in options["rule"]["choices"]] == ["average", "least_misery"]
    assert [c["value"] for c in options["source"]["choices"]] == ["library", "streaming", "any"]
    assert options["voice"]["channel_types"] == [2]
    assert command.get("contexts") == [0] or command.get("dm_permission") is False
    similar = env.emu.find_command("similar", env.guild)
    assert similar["options"][0]["autocomplete"] is True


# --------------------------------------------------------------------------- empty states
async def test_empty_guild_gets_a_helpful_message(env: Env) -> None:
    reply = await env.run(env.alice, "recommend")
    assert reply.ephemeral
    text = reply.rendered_text()
    assert "Nobody in this server has rated" in text and "/rate" in text
    assert not reply.components


async def test_cold_start_says_how_many_ratings_unlock_personal_picks(env: Env) -> None:
    await env.run(env.admin, "settings", min_ratings=3)  # the default is 1
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.dave.id: {"Jaws": 8}})
    reply = await env.run(env.dave, "recommend")
    assert reply.embed["title"] == "Popular in this server"
    assert "Rate 2 more movies with `/rate` to unlock personal picks" in reply.embed["description"]
    picks = labels(reply)
    assert picks and "Jaws (1975)" not in picks
    assert all(m["kind"] == "typical rating" for m in pick_lines(reply))


async def test_member_without_ratings_gets_popular_picks(env: Env) -> None:
    await env.seed_taste_clusters(env.guild)
    reply = await env.run(env.carol, "recommend", count=3)
    assert reply.embed["title"] == "Popular in this server"
    assert "Rate 1 more movie with" in reply.embed["description"]
    assert len(pick_lines(reply)) == 3


# --------------------------------------------------------------------------- personal picks
async def test_personal_picks_are_sorted_unrated_in_range_and_explained(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend")
    assert reply.ephemeral and reply.allowed_mentions["parse"] == []
    assert reply.embed["title"] == "Your picks"
    lines = pick_lines(reply)
    assert lines
    scores = [float(m["score"]) for m in lines]
    assert scores == sorted(scores, reverse=True)
    assert all(1.0 <= s <= 10.0 for s in scores)
    assert all(m["kind"] == "predicted" for m in lines)
    rated = await ids_of(env, ["Star Wars", "Alien", "Casablanca", "Roman Holiday"])
    shown = await ids_of(env, labels(reply))
    assert not shown & rated
    assert any("because you rated *Star Wars (1977)* 10/10" in m["rest"] for m in lines)
    # A sci-fi fan gets the sci-fi movies first.
    top = labels(reply)[:3]
    assert all(any(t in label for t in env.SCIFI) for label in top), top
    # Year and genres are shown.
    assert "(1975)" in reply.embed["description"] and "Thriller" in reply.embed["description"]


async def test_genre_filter_and_autocomplete(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", genre="romance")
    assert reply.embed["title"] == "Your picks: Romance"
    lines = pick_lines(reply)
    assert lines and all("Romance" in m["genres"] for m in lines)
    choices = await (await env.emu.autocomplete(env.alice, env.channel, "recommend", "genre",
                                                genre="sci")).response()
    assert "Sci-Fi" in choices.choice_names


async def test_unknown_genre_lists_the_valid_ones(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", genre="Space **Opera**")
    text = reply.content
    assert "Unknown genre" in text and "Sci-Fi" in text and "Romance" in text
    assert "**Opera**" not in text


async def test_count_out_of_range_is_refused(env: Env) -> None:
    inter = await env.raw_slash(env.alice, "recommend",
                                [{"name": "count", "type": 4, "value": 99}])
    reply = await env.answer(inter)
    assert "1 to 25" in reply.content


async def test_show_more_pages_through_the_picks_and_ends(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", count=4)
    first = labels(reply)
    assert len(first) == 4
    button = component(reply, 2)
    assert button["label"] == "Show more" and not button.get("disabled")
    seen = list(first)
    message_id = reply.id
    for _ in range(10):
        click = await env.emu.click(env.alice, message_id, button["custom_id"])
        await env.answer(click)  # the message edited (at once, or after a deferred update)
        assert (await click.response()).type in (6, 7)
        now = env.emu.message(message_id)
        button = component(now, 2)
        page = labels(now)
        if button.get("disabled"):
            break
        assert page and not set(page) & set(seen)
        seen += page
    else:
        raise AssertionError("Show more never reached the end")
    assert len(seen) > 4
    assert len(set(seen)) == len(seen)


async def test_rate_a_pick_from_the_list_and_it_leaves_the_next_list(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", count=5)
    select = component(reply, 3)
    target = select["options"][0]
    opened = await env.emu.select(env.alice, reply.id, select["custom_id"], [target["value"]])
    modal = await opened.response()
    assert modal.type == 9, modal
    field = modal.modal["components"][0]["components"][0]
    submitted = await env.emu.submit_modal(env.alice, env.channel, modal.modal["custom_id"],
                                           {field["custom_id"]: "9"})
    confirmation = await submitted.response()
    assert confirmation.ephemeral
    assert target["label"] in unescape(confirmation.content) and "9/10" in confirmation.content
    movie_id = int(target["value"])
    assert await env.storage.get_rating(env.guild.id, env.alice.id, movie_id) == 9
    # The pick left the select on the original message...
    await env.emu.wait_until(
        lambda: target["value"] not in [o["value"] for o in
                                        component(env.emu.message(reply.id), 3)["options"]],
        what="the rated pick to leave the select")
    # ...and the next /recommend leaves it out.
    await env.service.wait_idle(env.guild.id)
    again = await env.run(env.alice, "recommend", count=25)
    assert target["label"] not in labels(again)


async def test_modal_rejects_bad_scores_and_saves_nothing(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", count=3)
    select = component(reply, 3)
    target = select["options"][0]
    opened = await env.emu.select(env.alice, reply.id, select["custom_id"], [target["value"]])
    modal = await opened.response()
    custom_id = modal.modal["custom_id"]
    field = modal.modal["components"][0]["components"][0]["custom_id"]
    for bad, expected in (("eleven", "is not a score"), ("0", "out of range"),
                          ("11", "out of range"), ("", "Type a score"), ("7.5", "not a score")):
        submitted = await env.raw_modal(env.alice, custom_id, {field: bad})
        answer = await submitted.response()
        assert answer.ephemeral, bad
        assert expected in answer.content and "Nothing was saved" in answer.content, answer
    assert await env.storage.get_rating(env.guild.id, env.alice.id, int(target["value"])) is None
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 4


async def test_someone_else_cannot_use_the_buttons(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", count=3)
    before = env.emu.message(reply.id).embed["description"]
    click = await env.emu.click(env.bob, reply.id, component(reply, 2)["custom_id"])
    answer = await click.response()
    assert answer.ephemeral and "belong to" in answer.content
    select = component(reply, 3)
    picked = await env.emu.select(env.bob, reply.id, select["custom_id"],
                                  [select["options"][0]["value"]])
    answer = await picked.response()
    assert answer.type != 9 and "belong to" in answer.content
    assert env.emu.message(reply.id).embed["description"] == before
    assert await env.storage.count_member_ratings(env.guild.id, env.bob.id) == 0


async def test_view_times_out_cleanly_and_survives_a_deleted_message(env: Env, monkeypatch,
                                                                     caplog) -> None:
    monkeypatch.setattr(sys.modules["cogs.ui.views"], "VIEW_TIMEOUT", 0.3)
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", count=3)
    await env.emu.wait_until(
        lambda: all(c.get("disabled") for c in env.emu.message(reply.id).walk_components()
                    if c.get("type") in (2, 3)),
        what="the buttons to be disabled on timeout")
    # A second list whose message is deleted before the timeout: no error, nothing logged.
    other = await env.run(env.alice, "recommend", count=3)
    env.emu.messages.delete(other.id)
    await asyncio.sleep(0.6)
    assert env.emu.message(other.id) is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR
                and r.name.startswith(("cogs", "discord"))]


async def test_mentions_in_titles_are_escaped_in_the_list(env: Env) -> None:
    evil = await env.storage.add_movie("@everyone <@&123456789012345678> **bold**", 2020,
                                       ("Sci-Fi",), guild_id=env.guild.id)
    await env.seed_taste_clusters(env.guild, train=False)
    fans = {env.FAN_BASE + i: {evil: 9} for i in range(4)}
    await env.seed(env.guild, fans, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9, "Casablanca": 2}})
    reply = await env.run(env.alice, "recommend", count=25)
    description = reply.embed["description"]
    assert "everyone" in description  # it is listed...
    assert "@everyone" not in description and "**bold**" not in description  # ...escaped
    assert reply.allowed_mentions["parse"] == [] and reply.mentions == []


async def test_cooldown_blocks_a_second_recommend(env: Env) -> None:
    env.set_cooldown(60)
    first = await env.run(env.alice, "recommend")
    assert "try again" not in first.rendered_text()
    second = await env.run(env.alice, "recommend")
    assert second.ephemeral and "try again in" in second.content
    other_member = await env.run(env.bob, "recommend")
    assert "try again" not in other_member.rendered_text()
    other_guild = await env.run(env.alice2, "recommend")
    assert "try again" not in other_guild.rendered_text()


# --------------------------------------------------------------------------- group mode
async def test_group_pick_excludes_what_anyone_rated_and_names_the_rule(env: Env) -> None:
    await fan_of_scifi(env, train=False)
    await env.seed(env.guild, {env.bob.id: {"Jaws": 9, "Superman": 8, "Vertigo": 3}})
    reply = await env.run(env.alice, "recommend", group=f"<@{env.bob.id}>")
    assert reply.ephemeral and reply.allowed_mentions["parse"] == []
    embed = reply.embed
    assert embed["title"] == "Movie night for 2"
    assert "alice" in embed["description"] and "bob" in embed["description"]
    assert "Average: the highest mean predicted score" in unescape(
        embed["description"].replace("**", ""))
    shown = await ids_of(env, labels(reply))
    rated = await ids_of(env, ["Star Wars", "Alien", "Casablanca", "Roman Holiday", "Jaws",
                               "Superman", "Vertigo"])
    assert shown and not shown & rated
    assert all(m["kind"] == "group score" for m in pick_lines(reply))
    misery = await env.run(env.alice, "recommend", group=f"<@!{env.bob.id}>",
                           rule="least_misery")
    assert "Least misery: the highest lowest-member score, so nobody hates the pick" in \
        misery.embed["description"].replace("**", "")
    assert not (await ids_of(env, labels(misery))) & rated


async def test_voice_channel_members_make_the_group(env: Env) -> None:
    await fan_of_scifi(env)
    await env.emu.join_voice(env.bob, env.voice)
    await env.emu.join_voice(env.carol, env.voice)
    await asyncio.sleep(0.05)
    reply = await env.run(env.alice, "recommend", voice=env.voice)
    embed = reply.embed
    assert embed["title"] == "Movie night for 3", reply.rendered_text()
    for name in ("alice", "bob", "carol"):
        assert name in embed["description"]
    assert pick_lines(reply)


async def test_group_bad_input(env: Env) -> None:
    await fan_of_scifi(env)
    no_mentions = await env.run(env.alice, "recommend", group="bob and carol")
    assert "Mention the members" in no_mentions.content
    stranger = await env.run(env.alice, "recommend", group=f"<@{env.owner2.id}>")
    assert "not a member of this server" in stranger.content
    bot_user = await env.run(env.alice, "recommend", group=f"<@{env.emu.world.bot_user.id}>")
    assert "is a bot" in bot_user.content
    only_me = await env.run(env.alice, "recommend", group=f"<@{env.alice.id}>")
    assert "at least two people" in only_me.content
    empty_voice = await env.run(env.alice, "recommend", voice=env.voice)
    assert "Nobody is in" in empty_voice.content
    rule_alone = await env.run(env.alice, "recommend", rule="least_misery")
    assert "movie nights" in rule_alone.content


async def test_group_in_an_empty_guild(env: Env) -> None:
    reply = await env.run(env.alice, "recommend", group=f"<@{env.bob.id}>")
    assert "Nobody in this server has rated" in reply.rendered_text()


# --------------------------------------------------------------------------- /similar
async def test_similar_lists_neighbours(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "similar", movie="Star Wars")
    assert reply.ephemeral
    assert reply.embed["title"] == "Movies like Star Wars (1977)"
    names = labels(reply)
    assert names and "Star Wars (1977)" not in names
    assert any(t in names[0] for t in env.SCIFI)
    romance_at = [i for i, n in enumerate(names) if any(t in n for t in env.ROMANCE)]
    scifi_at = [i for i, n in enumerate(names) if any(t in n for t in env.SCIFI)]
    assert not romance_at or max(scifi_at) < min(romance_at)
    # a handful of members rated each pair: the footer says the genres carried the list
    assert reply.embed["footer"]["text"].startswith(
        "From this server's ratings and the movies' genres: few members here have rated both")


async def test_similar_without_data_and_with_bad_input(env: Env) -> None:
    await fan_of_scifi(env)
    unrated = await env.run(env.alice, "similar", movie="Metropolis")
    assert "can't place" in unrated.rendered_text()
    typo = await env.run(env.alice, "similar", movie="Star Warz")
    assert "Did you mean" in typo.content
    missing = await env.run(env.alice, "similar", movie="#999999")
    assert "I don't know a movie" in missing.content
