"""End-to-end (issue 14): /help and /about, "Which Dune?", lists in the order of the number they
show (or saying why not), one server score for /movies top and /movies info, and the optional
Prometheus endpoint, scraped over loopback while the bot answers commands."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from bot import create_bot
from bot.config import LimitSettings, MetricsSettings, Settings, TrainingSettings
from emulator import DiscordEmulator, running_bot

if TYPE_CHECKING:
    from conftest import Env

REPO = str(Path(__file__).resolve().parents[2])
SCORE = re.compile(r"(?:group score|predicted) (?P<score>[\d.]+)/10")


def _fields(reply) -> dict[str, str]:
    return {f["name"]: f["value"] for f in reply.embed["fields"]}


async def test_help_lists_every_command_one_line_each_generated_from_the_tree(env: Env) -> None:
    reply = await env.run(env.alice, "help")
    assert reply.ephemeral and reply.allowed_mentions["parse"] == []
    lines = reply.embed["description"].splitlines()
    registered = env.emu.registered_commands(env.guild)
    expected = set()
    for command in registered:
        subs = [o for o in command.get("options", []) if o["type"] == 1]
        expected |= ({f"/{command['name']} {s['name']}" for s in subs} if subs
                     else {f"/{command['name']}"})
    for entry in expected:  # each command exactly once, as "`/name options` — ..."
        assert len([li for li in lines if re.match(rf"`{re.escape(entry)}[ `]", li)]) == 1, entry
    assert len(lines) == len(expected)
    for name in ("/rate", "/recommend", "/movies search", "/movies top", "/settings", "/help",
                 "/about", "/forgetme"):
        line = next(li for li in lines if li.startswith(f"`{name}"))
        assert " — " in line and line.split(" — ", 1)[1], line  # with its one-line description
    assert "`/rate movie score` — " in reply.embed["description"]


async def test_about_says_what_runs(env: Env) -> None:
    from bot.about import version

    reply = await env.run(env.bob, "about")
    assert reply.ephemeral
    assert _fields(reply)["Version"] == version()
    assert "/rate" in reply.embed["description"]


async def test_a_title_several_movies_share_asks_which_one(env: Env) -> None:
    reply = await env.run(env.alice, "rate", movie="Dune", score=8)
    assert reply.ephemeral
    assert reply.content.startswith("Which Dune? Several movies have that title:")
    assert "• Dune (1984)" in reply.content and "• Dune (2021)" in reply.content
    assert "Dune: Part Two" not in reply.content  # only the ones with exactly that title
    assert "I don't know a movie" not in reply.content
    assert await env.storage.count_member_ratings(env.guild.id, env.alice.id) == 0
    # With the year it is one movie; an unknown title still gets "did you mean".
    done = await env.run(env.alice, "rate", movie="Dune (2021)", score=8)
    assert done.content.startswith("Rated **Dune (2021)** 8/10")
    typo = await env.run(env.alice, "rate", movie="Dnue", score=8)
    assert "I don't know a movie called" in typo.content


async def test_top_ranks_by_the_server_score_that_info_shows(env: Env) -> None:
    ratings = {
        env.FAN_BASE + i: {"Alien": 9, "Jaws": 6 + i % 2, "Vertigo": 8} for i in range(6)}
    ratings[env.FAN_BASE + 9] = {"Heat": 2}  # one low rating
    ratings[env.FAN_BASE + 10] = {"Casablanca": 10}  # one top rating
    await env.seed(env.guild, ratings)
    reply = await env.run(env.alice, "movies top")
    lines = reply.embed["description"].splitlines()
    shown = [float(re.search(r" — ([\d.]+)/10", line)[1]) for line in lines]
    assert shown == sorted(shown, reverse=True) and len(shown) == 5
    assert lines[0].startswith("1. Alien (1979) — ")
    assert "Ranked by server score" in reply.embed["footer"]["text"]
    heat = next(line for line in lines if "Heat" in line)
    assert "(average 2/10 from 1 rating)" in heat
    # /movies info shows the same server score next to the plain average.
    info = await env.run(env.alice, "movies info", movie="Heat")
    fields = _fields(info)
    assert fields["Server rating"] == "2/10 from 1 rating"
    top_score = re.search(r" — ([\d.]+/10)", heat)[1]
    assert fields["Server score"].startswith(f"{top_score} (the average rating, pulled")


async def test_group_picks_are_listed_best_group_score_first(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, fans=3)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 9, "Alien": 8, "Casablanca": 3},
                               env.bob.id: {"Jaws": 9, "Vertigo": 3, "Superman": 8}})
    for rule in ("average", "least_misery"):
        reply = await env.run(env.alice, "recommend", group=f"<@{env.bob.id}>", rule=rule,
                              count=8)
        scores = [float(m["score"]) for m in SCORE.finditer(reply.embed["description"])]
        assert len(scores) >= 3, reply.rendered_text()
        assert scores == sorted(scores, reverse=True), (rule, scores)


async def test_personal_picks_say_what_they_are_ranked_by(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, fans=3)
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 9, "Alien": 8, "Casablanca": 3}})
    reply = await env.run(env.alice, "recommend", count=5)
    assert reply.embed["title"] == "Your picks"
    assert ("Ranked by how likely you'll pick and enjoy it; the number is your predicted "
            "rating.") in reply.embed["footer"]["text"]


async def test_metrics_endpoint_on_loopback(tmp_path) -> None:
    async with DiscordEmulator() as emu:
        guild = emu.world.create_guild("Club", owner="owner", channels=("general",))
        alice = guild.add_member("alice")
        settings = Settings(database=tmp_path / "bot.sqlite3", dev_guild_id=guild.id,
                            training=TrainingSettings(debounce_seconds=0.0),
                            limits=LimitSettings(recommend_cooldown_seconds=0.0),
                            metrics=MetricsSettings(enabled=True, host="127.0.0.1", port=0))
        bot = create_bot(settings, guild_ready_timeout=0.1)
        async with running_bot(bot, emu):
            channel = guild.channel("general")
            for title, score in (("Alien", 9), ("Jaws", 7), ("Heat", 8)):
                reply = await (await emu.slash(alice, channel, "rate", movie=title,
                                               score=score)).response()
                assert reply.content.startswith("Rated"), reply.content
            await (await emu.slash(alice, channel, "rate", movie="Nope Nope",
                                   score=5)).response()
            await bot.recommendations.wait_idle(guild.id)
            port = bot.metrics.port
            async with aiohttp.ClientSession() as session, \
                    session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/plain")
                text = await response.text()
        # Closed with the bot: nothing listens there any more.
        async with aiohttp.ClientSession() as session:
            try:
                await session.get(f"http://127.0.0.1:{port}/metrics")
                raise AssertionError("the metrics endpoint outlived the bot")
            except aiohttp.ClientConnectionError:
                pass
    assert 'moviebot_commands_total{command="rate",outcome="ok"} 3.0' in text
    assert 'moviebot_commands_total{command="rate",outcome="error"} 1.0' in text
    assert 'moviebot_command_seconds_count{command="rate"} 4.0' in text
    assert re.search(r'moviebot_fits_total\{outcome="ok"\} [1-9]', text)
    assert re.search(r"moviebot_fit_seconds_count [1-9]", text)
    assert re.search(r"moviebot_fit_queue_length \d", text)
    assert re.search(r"moviebot_model_cache_hits_total [1-9]", text)
    assert "moviebot_gc_pause_seconds_bucket" in text or "moviebot_gc_pause_seconds" in text
    assert 'moviebot_info{version="' in text
    assert "process_resident_memory_bytes" in text


async def test_health_reports_a_running_bot_and_its_stop(tmp_path, monkeypatch) -> None:
    import os
    import sys

    from bot.health import check, status_path

    monkeypatch.setattr("bot.health.HEARTBEAT_EVERY", 0.05)
    database = tmp_path / "bot.sqlite3"
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DISCORD_TOKEN", "MOVIEBOT_CONFIG")}
    environ.update(MOVIEBOT_DATABASE=str(database),
                   PYTHONPATH=REPO)

    async def health() -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "health", cwd=tmp_path, env=environ,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        return proc.returncode, (out + err).decode()

    async with DiscordEmulator() as emu:
        emu.world.create_guild("Club", owner="owner", channels=("general",))
        bot = create_bot(Settings(database=database), guild_ready_timeout=0.1)
        async with running_bot(bot, emu):
            await emu.wait_until(lambda: check(database).ok or None, 10, "a fresh heartbeat")
            code, text = await health()
            assert code == 0 and text.startswith("healthy: gateway heartbeat"), text
        assert not status_path(database).exists()  # removed when the bot stopped
        code, text = await health()
        assert code == 1 and "no status file" in text


async def test_a_taken_metrics_port_turns_metrics_off_not_the_bot(tmp_path, caplog) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with DiscordEmulator() as emu:
            guild = emu.world.create_guild("Club", owner="owner", channels=("general",))
            alice = guild.add_member("alice")
            settings = Settings(database=tmp_path / "bot.sqlite3", dev_guild_id=guild.id,
                                metrics=MetricsSettings(enabled=True, port=port))
            bot = create_bot(settings, guild_ready_timeout=0.1)
            async with running_bot(bot, emu):
                assert bot.metrics is None
                reply = await (await emu.slash(alice, guild.channel("general"), "rate",
                                               movie="Alien", score=9)).response()
                assert reply.content.startswith("Rated")
    assert f"metrics off: cannot listen on 127.0.0.1:{port}" in caplog.text
