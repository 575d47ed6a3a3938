"""End-to-end (issue 23 items 4-5): "Not interested" on a /recommend pick hides it from the
member's picks, is undone from /ratings, is in /export and gone after /forgetme; every pick
line carries a reason that is a movie the member liked or what else carried it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from test_e2e_recommend import component, fan_of_scifi, labels, pick_lines, unescape

if TYPE_CHECKING:
    from conftest import Env


def _select(reply, placeholder: str) -> dict:
    return next(c for c in reply.walk_components()
                if c.get("type") == 3 and c.get("placeholder", "").startswith(placeholder))


def _button(reply, label: str) -> str:
    return next(b["custom_id"] for b in reply.buttons if b.get("label") == label)


async def test_not_interested_hides_a_pick_until_undone_from_ratings(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", count=5)
    select = _select(reply, "Not interested")
    target = select["options"][0]
    answer = await (await env.emu.select(env.alice, reply.id, select["custom_id"],
                                         [target["value"]])).response()
    assert answer.ephemeral and "Hidden" in answer.content and "/ratings" in answer.content
    assert answer.allowed_mentions["parse"] == []
    movie_id = int(target["value"])
    assert await env.storage.not_interested_ids(env.guild.id, env.alice.id) == [movie_id]
    # it leaves the page's selects, and every later list
    await env.emu.wait_until(
        lambda: target["value"] not in [o["value"] for o in _select(
            env.emu.message(reply.id), "Not interested")["options"]],
        what="the hidden pick to leave the select")
    again = await env.run(env.alice, "recommend", count=25)
    assert target["label"] not in labels(again)
    # Bob's picks are his own
    assert await env.storage.not_interested_ids(env.guild.id, env.bob.id) == []
    # /ratings lists it and undoes it
    ratings = await env.run(env.alice, "ratings")
    field = next(f for f in ratings.embed["fields"] if f["name"].startswith("Not interested"))
    assert field["name"] == "Not interested (1)"
    assert target["label"] in unescape(field["value"])
    undo = _select(ratings, "Not interested")
    done = await (await env.emu.select(env.alice, ratings.id, undo["custom_id"],
                                       [target["value"]])).response()
    assert "can show up in your picks again" in done.content
    assert await env.storage.not_interested_ids(env.guild.id, env.alice.id) == []
    back = await env.run(env.alice, "recommend", count=25)
    assert target["label"] in labels(back)


async def test_export_and_forgetme_include_not_interested(env: Env) -> None:
    await fan_of_scifi(env)
    reply = await env.run(env.alice, "recommend", count=5)
    select = _select(reply, "Not interested")
    target = select["options"][0]
    await (await env.emu.select(env.alice, reply.id, select["custom_id"],
                                [target["value"]])).response()
    exported = await env.run(env.alice, "export")
    assert "Not interested: 1 movie" in exported.content
    data = exported.attachment(f"not-interested-{env.guild.id}.csv").text
    assert data.splitlines()[0] == "title,year,genres,hidden_at"
    assert len(data.splitlines()) == 2
    ask = await env.run(env.alice, "forgetme")
    assert "you marked “Not interested”" in ask.content
    await (await env.emu.click(env.alice, ask, _button(ask, "Delete my ratings"))).response()
    assert await env.storage.count_not_interested(env.guild.id, env.alice.id) == 0


async def test_every_pick_gives_a_true_reason_and_show_more_never_repeats(env: Env) -> None:
    await fan_of_scifi(env)
    liked = {"Star Wars", "Alien"}  # alice's ratings at or above her average
    reply = await env.run(env.alice, "recommend", count=4)
    seen: list[str] = []
    message_id = reply.id
    for _ in range(6):
        now = env.emu.message(message_id)
        for line in pick_lines(now):
            rest = unescape(line["rest"])
            assert "didn't like" not in rest
            if "because you rated" in rest:
                assert any(f"*{title} (" in rest for title in liked), rest
            else:  # no strong own-rating support: says what carried it
                assert any(text in rest for text in (
                    "popular with members who share your taste",
                    "close to your taste in the prior",
                    "members with your taste rate it highly",
                    "popular in this server",
                    "highly rated")), rest
        page = labels(now)
        assert not set(page) & set(seen)
        seen += page
        button = component(now, 2)
        if button.get("disabled"):
            break
        await env.answer(await env.emu.click(env.alice, message_id, button["custom_id"]))
    assert len(seen) == len(set(seen)) and len(seen) > 4
