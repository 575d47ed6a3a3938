"""Graceful shutdown: SIGTERM (docker stop) stops the bot cleanly with the database closed and
every acknowledged rating saved; a closing bot takes no new commands."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import timeouts
from processes import Lines, running
from rel_support import integrity, subprocess_env

from bot import create_bot
from bot.client import SHUTTING_DOWN
from bot.config import Settings
from emulator import DiscordEmulator, running_bot

HELPER = Path(__file__).resolve().parent / "serve_helper.py"
TOKEN = "sigterm.test.token-0123456789"


def _readline(out: Lines, deadline: float) -> str:
    """The next stdout line, waiting at most until `deadline` (a silent bot cannot block)."""
    taken = len(out.lines)
    lines = out.wait_until(lambda ls: len(ls) > taken, max(0.0, deadline - time.monotonic()))
    assert len(lines) > taken, "bot exited early"
    return lines[taken].strip()


@pytest.mark.slow
def test_sigterm_stops_cleanly_with_every_rating_saved(tmp_path):
    db = tmp_path / "bot.sqlite3"
    with running([sys.executable, str(HELPER), str(db), TOKEN], env=subprocess_env(),
                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True) as proc:
        stdout, stderr = Lines(proc.stdout), Lines(proc.stderr)
        deadline = time.monotonic() + timeouts.scaled(30)
        while _readline(stdout, deadline) != "ready":
            pass
        replies = []
        for title, score in (("Alien", 9), ("Jaws", 4), ("Vertigo", 7)):
            proc.stdin.write(f"rate {title} {score}\n")
            proc.stdin.flush()
            while not (line := _readline(stdout, deadline)).startswith("reply:"):
                pass
            replies.append(line)
        assert all("Rated" in r for r in replies), replies
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)  # stdin stays open: the bot must stop by itself
        proc.wait(timeout=timeouts.scaled(15))
        stopped_in = time.monotonic() - started
        out, err = stdout.rest(timeouts.scaled(10)), stderr.rest(timeouts.scaled(10))
    assert proc.returncode == 0, err
    assert "exit 0" in out
    assert stopped_in < timeouts.scaled(10)
    assert "received SIGTERM: shutting down" in err
    assert "stopped cleanly" in err
    assert TOKEN not in out + err
    assert "Traceback" not in err, err

    # The database was closed cleanly: intact, and every acknowledged rating is there.
    assert integrity(db) == "ok"
    conn = sqlite3.connect(db)
    try:
        scores = sorted(r[0] for r in conn.execute("SELECT score FROM ratings"))
    finally:
        conn.close()
    assert scores == [4, 7, 9]


async def test_close_stops_commands_and_closes_the_database(tmp_path):
    async with DiscordEmulator() as emu:
        guild = emu.world.create_guild("Club", owner="owner", channels=("general",))
        alice = guild.add_member("alice")
        settings = Settings(database=tmp_path / "bot.sqlite3", dev_guild_id=guild.id)
        bot = create_bot(settings, guild_ready_timeout=0.1)
        async with running_bot(bot, emu):
            storage = bot.storage
            assert bot.accepting_commands
            inter = await emu.slash(alice, guild.channel("general"), "rate", movie="Alien",
                                    score=8)
            assert "Rated" in (await inter.response()).rendered_text()
            await asyncio.gather(bot.close(), bot.close())  # a signal and `async with bot`
            assert bot.accepting_commands is False
            assert bot.is_closed()
            assert bot.storage is None
            with pytest.raises(ValueError):  # aiosqlite: no active connection
                await storage.movie_count()
            await bot.close()  # and once more: harmless


async def test_command_during_shutdown_gets_a_polite_answer_and_changes_nothing(env):
    alien = await env.movie("Alien")
    before = len(await env.storage.guild_ratings(env.guild.id))
    env.bot.accepting_commands = False  # what close() does first
    try:
        reply = await env.answer(await env.slash(env.alice, "rate", movie=f"#{alien.id}",
                                                 score=9))
        choices = await env.emu.autocomplete(env.alice, env.channel, "rate", "movie",
                                             movie="Ali")
        auto = await choices.response()
    finally:
        env.bot.accepting_commands = True
    assert reply.ephemeral and reply.content == SHUTTING_DOWN
    assert reply.allowed_mentions == {"parse": []}
    assert auto.choices == []
    assert len(await env.storage.guild_ratings(env.guild.id)) == before
    assert await env.rating(env.alice, "Alien") is None
