"""Hidden ratings stay hidden (issue 13, row 2): with `ratings_visible = false` no command
reveals another member's ratings.

* `/movies info` and `/movies top` show a movie's average and count only when at least
  MIN_RATERS members besides the asker rated it ("2/10 from 1 rating" was Alice's score).
* `/recommend group:@alice` (which leaves out what anyone in the group rated) needs Alice to
  press Agree; members in the requester's voice channel need not; only the requester sees the
  picks; a Decline or the timeout ends the request with a clear message and no picks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.service.privacy import MIN_RATERS

if TYPE_CHECKING:
    from conftest import Env


async def _hide(env: Env) -> None:
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=False)


def _fields(reply) -> dict[str, str]:
    return {f["name"]: f["value"] for f in reply.embed["fields"]}


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def test_info_hides_an_average_fewer_than_three_others_gave(env: Env) -> None:
    await _hide(env)
    vertigo = await env.movie("Vertigo")
    await env.seed(env.guild, {env.alice.id: {vertigo: 2}}, train=False)
    reply = await env.run(env.bob, "movies info", movie=f"#{vertigo.id}")
    server = _fields(reply)["Server rating"]
    assert "2/10" not in server and "1 rating" not in server
    assert server.startswith("Hidden: this server keeps ratings private")
    assert "Server score" not in _fields(reply)

    # Alice herself, with two others: still hidden (she could subtract her own score).
    others = {env.FAN_BASE + i: {vertigo: 6} for i in range(MIN_RATERS - 1)}
    await env.seed(env.guild, others, train=False)
    assert _fields(await env.run(env.alice, "movies info", movie=f"#{vertigo.id}"))[
        "Server rating"].startswith("Hidden")
    # Bob sees the three others' average: no one member's score.
    shown = _fields(await env.run(env.bob, "movies info", movie=f"#{vertigo.id}"))
    assert shown["Server rating"] == "4.7/10 from 3 ratings"

    # With ratings visible, the same movie shows its numbers to everyone.
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=True)
    assert _fields(await env.run(env.alice, "movies info", movie=f"#{vertigo.id}"))[
        "Server rating"] == "4.7/10 from 3 ratings"


async def test_top_lists_only_movies_enough_others_rated(env: Env) -> None:
    await _hide(env)
    lonely, shared = await env.movie("Vertigo"), await env.movie("Casablanca")
    ratings = {env.alice.id: {lonely: 10, shared: 9}}
    ratings.update({env.FAN_BASE + i: {shared: 8} for i in range(MIN_RATERS)})
    await env.seed(env.guild, ratings, train=False)
    text = (await env.run(env.bob, "movies top")).rendered_text()
    assert "Casablanca" in text and "Vertigo" not in text
    # Alice asking: Casablanca has three raters besides her, still listed.
    assert "Casablanca" in (await env.run(env.alice, "movies top")).rendered_text()
    await env.storage.update_guild_settings(env.guild.id, ratings_visible=True)
    assert "Vertigo" in (await env.run(env.bob, "movies top")).rendered_text()


async def test_group_picks_wait_for_the_named_members_consent(env: Env) -> None:
    await _hide(env)
    await env.seed_taste_clusters(env.guild, train=False)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 10, "Alien": 9},
                               env.bob.id: {"Jaws": 9, "Casablanca": 3}})
    inter = await env.slash(env.alice, "recommend", group=f"<@{env.bob.id}> <@{env.carol.id}>")
    prompt = await env.answer(inter)
    assert not prompt.ephemeral and not prompt.embeds  # public so bob and carol see it...
    assert "Waiting for: bob, carol" in prompt.content  # ...naming, never pinging, no picks
    assert prompt.allowed_mentions == {"parse": []} and prompt.mentions == []
    agree = _button(prompt, "Agree")

    stranger = await (await env.emu.click(env.dave, prompt, agree)).response()
    assert stranger.ephemeral and "Only the members named" in stranger.content
    bob = await (await env.emu.click(env.bob, prompt, agree)).response()
    assert "Waiting for: carol" in bob.content and not inter.followup_replies
    carol = await (await env.emu.click(env.carol, prompt, agree)).response()
    assert "Everyone agreed" in carol.content and "picks went to alice only" in carol.content
    assert all(b.get("disabled") for b in carol.buttons)

    picks = (await inter.followups(1, timeout=20))[0]
    assert picks.ephemeral  # only alice sees the picks
    assert picks.embed["title"] == "Movie night for 3"


async def test_a_decline_or_the_timeout_ends_the_request_without_picks(env: Env,
                                                                      monkeypatch) -> None:
    await _hide(env)
    await env.seed_taste_clusters(env.guild)
    inter = await env.slash(env.alice, "recommend", group=f"<@{env.bob.id}>")
    prompt = await env.answer(inter)
    declined = await (await env.emu.click(env.bob, prompt, _button(prompt, "Decline"))
                      ).response()
    assert "bob declined, so no movie night picks were made" in declined.content
    assert not inter.followup_replies

    import cogs.ui.consent
    monkeypatch.setattr(cogs.ui.consent, "CONSENT_TIMEOUT", 0.2)
    late = await env.slash(env.alice, "recommend", group=f"<@{env.carol.id}>")
    await env.answer(late)
    expired = await env.emu.wait_until(
        lambda: late.final() if "expired" in (late.final() or prompt).content else None, 10,
        "the expired request")
    assert "expired before everyone agreed" in expired.content
    assert all(b.get("disabled") for b in expired.buttons)
    assert not late.followup_replies


async def test_members_in_the_requesters_voice_channel_need_no_consent(env: Env) -> None:
    await _hide(env)
    await env.seed_taste_clusters(env.guild)
    await env.emu.join_voice(env.alice, env.voice)
    await env.emu.join_voice(env.bob, env.voice)
    together = await env.run(env.alice, "recommend", group=f"<@{env.bob.id}>")
    assert together.ephemeral and together.embed["title"] == "Movie night for 2"
    by_voice = await env.run(env.alice, "recommend", voice=env.voice)
    assert by_voice.ephemeral and by_voice.embed["title"] == "Movie night for 2"
    # Carol is not in the channel: she is asked.
    asked = await env.run(env.alice, "recommend", group=f"<@{env.bob.id}> <@{env.carol.id}>")
    assert "Waiting for: carol" in asked.content and not asked.embeds
    # Dave, outside the channel, cannot probe who sits in it without their consent.
    probe = await env.run(env.dave, "recommend", voice=env.voice)
    assert "Waiting for: alice, bob" in probe.content and not probe.embeds


async def test_visible_ratings_need_no_consent(env: Env) -> None:
    await env.seed_taste_clusters(env.guild)
    reply = await env.run(env.alice, "recommend", group=f"<@{env.bob.id}>")
    assert reply.ephemeral and reply.embed["title"] == "Movie night for 2"


async def test_cold_start_server_scores_only_of_movies_enough_others_rated(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, train=False)
    heat = await env.movie("Heat")
    await env.seed(env.guild, {env.alice.id: {heat: 10}})
    visible = await env.run(env.bob, "recommend", count=25)  # bob rated nothing: cold start
    assert "unlock personal picks" in visible.embed["description"]
    assert "Heat (1995)" in visible.embed["description"]  # shown with alice's lone 10 in it
    await _hide(env)
    hidden = await env.run(env.bob, "recommend", count=25)
    assert "unlock personal picks" in hidden.embed["description"]
    assert "1. **" in hidden.embed["description"]  # still a list...
    assert "Heat (1995)" not in hidden.embed["description"]  # ...without alice's movie


async def test_similar_only_between_movies_enough_others_rated(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, train=False)
    heat = await env.movie("Heat")
    await env.seed(env.guild, {member.id: {heat: 10, "Star Wars": 10, "Alien": 9}
                               for member in (env.alice, env.carol)})  # two raters of Heat
    visible = await env.run(env.bob, "similar", movie=f"#{heat.id}")
    assert visible.embeds  # the model can place it from two co-raters...
    await _hide(env)  # ...but two members' ratings are theirs to keep
    lonely = await env.run(env.bob, "similar", movie=f"#{heat.id}")
    assert lonely.content.startswith("I can't place **Heat (1995)** yet")
    shared = await env.run(env.bob, "similar", movie="Star Wars")
    assert shared.embeds and "Heat (1995)" not in shared.embed["description"]
