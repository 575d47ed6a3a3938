"""End to end on a cluster: two cluster processes (2 shards each) and two refit workers against
one emulator, one database and one Redis.

Deploy as documented: `python -m bot sync` once (it also runs the start-up jobs), then the
workers, then both clusters started together (the emulator enforces Discord's identify rate).
Members of guilds on different shards (so in different processes) rate and get personal
picks; each guild's fits are logged by the process that owns its shard. Then a big guild's
refit is killed mid-fit (SIGKILL of the worker running it): the job runs again on the other
worker and the guild's saved model catches up with its ratings: nothing is lost.

Runs on SQLite (one file shared by the processes) and, when `MOVIEBOT_TEST_POSTGRES_URL` is
set, on PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cluster_support import JOB_KEY, Proc, Procs, child_env

from emulator import DiscordEmulator, Guild, Interaction, Member, Reply

pytestmark = pytest.mark.slow

HELPER = str(Path(__file__).with_name("cluster_helper.py"))
TOKEN = "cluster-test-token"
SHARDS, CLUSTERS = 4, 2
WINDOW = 0.3  # the emulator's identify window (Discord: 5 s)
# The clusters' identify_seconds: the emulator's window plus an absolute margin like
# production's (5 s held 5.5 s: 0.5 s). The Redis slot is taken when discord.py calls the
# identify hook, and the IDENTIFY leaves a moment later; two cluster processes on a loaded CI
# machine saw that moment differ by more than the 30 ms a bare 0.3 s x 1.1 leaves (one refusal
# in a fresh-clone run at load 6), which the real 0.5 s absorbs.
CLUSTER_WINDOW = WINDOW + 0.5
JOB_TIMEOUT = 15  # a killed worker's job runs again after this + 10 s (arq)
BIG_MEMBERS, BIG_PER_MEMBER = 1000, 40  # a fit of a couple of seconds: long enough to kill
TITLES = ("Alien", "Jaws", "Casablanca", "Vertigo", "Heat", "Goldfinger")
FAN_BASE = 10**15


def backends() -> list[Any]:
    found = [pytest.param("sqlite", id="sqlite")]
    url = os.environ.get("MOVIEBOT_TEST_POSTGRES_URL", "").strip()
    found.append(pytest.param("postgres", id="postgres", marks=pytest.mark.skipif(
        not url, reason="PostgreSQL not available: set MOVIEBOT_TEST_POSTGRES_URL")))
    return found


@pytest.fixture(params=backends())
def database(request: Any, tmp_path: Path) -> tuple[str, str]:
    """(config lines, seeding target): an SQLite file, or a fresh PostgreSQL database
    (tests/conftest.py's `postgres_database`, dropped after the test)."""
    if request.param == "sqlite":
        path = tmp_path / "bot.sqlite3"
        return f'[storage]\ndatabase = "{path}"\n', str(path)
    url = request.getfixturevalue("postgres_database")
    return f'[storage]\nurl = "{url}"\n', url


async def seed(target: str, rows: list[tuple[int, int, int, int, float]]) -> None:
    """Insert ratings straight into the database (bulk data; commands are what is tested)."""
    if target.startswith("postgres"):
        import asyncpg

        conn = await asyncpg.connect(target)
        try:
            await conn.copy_records_to_table(
                "ratings", records=rows,
                columns=["guild_id", "user_id", "movie_id", "score", "updated_at"])
        finally:
            await conn.close()
        return

    def write() -> None:
        import sqlite3

        conn = sqlite3.connect(target, timeout=30)
        try:
            conn.executemany("INSERT INTO ratings (guild_id, user_id, movie_id, score, "
                             "updated_at) VALUES (?, ?, ?, ?, ?)", rows)
            conn.commit()
        finally:
            conn.close()

    await asyncio.to_thread(write)


async def movie_ids(target: str) -> list[int]:
    if target.startswith("postgres"):
        import asyncpg

        conn = await asyncpg.connect(target)
        try:
            return [r[0] for r in await conn.fetch(
                "SELECT id FROM movies WHERE guild_id IS NULL ORDER BY id")]
        finally:
            await conn.close()
    import sqlite3

    conn = sqlite3.connect(target)
    try:
        return [r[0] for r in conn.execute(
            "SELECT id FROM movies WHERE guild_id IS NULL ORDER BY id")]
    finally:
        conn.close()


async def fetch(target: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    if target.startswith("postgres"):
        import asyncpg

        conn = await asyncpg.connect(target)
        try:
            return [tuple(r) for r in await conn.fetch(sql.replace("?", "$1"), *args)]
        finally:
            await conn.close()
    import sqlite3

    conn = sqlite3.connect(target)
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


async def wait_text(proc: Proc, needle: str, timeout: float = 30.0, count: int = 1) -> str:  # noqa: ASYNC109
    """`Proc.wait_for` without blocking the event loop (the emulator runs on it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = proc.text()
        if text.count(needle) >= count:
            return text
        if proc.popen.poll() is not None:
            break
        await asyncio.sleep(0.05)
    raise AssertionError(f"{proc.name}: no {needle!r} within {timeout}s, exit "
                         f"{proc.popen.poll()}\n{proc.text()[-4000:]}")


async def finished(proc: Proc, timeout: float = 60.0) -> int:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while proc.popen.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"{proc.name} still running\n{proc.text()[-4000:]}")
        await asyncio.sleep(0.05)
    return proc.popen.returncode


async def answer(inter: Interaction, wait: float = 30.0) -> Reply:
    first = await inter.response(wait)
    if first.deferred and first.type != 6:
        return await inter.wait_final(wait)
    return inter.final() or first


@contextlib.asynccontextmanager
async def emulator() -> AsyncIterator[DiscordEmulator]:
    emu = DiscordEmulator(token=TOKEN)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


def members(guild: Guild, names: tuple[str, ...]) -> list[Member]:
    return [guild.add_member(f"{guild.name.lower().replace(' ', '-')}-{n}") for n in names]


async def test_two_clusters_two_workers(database, tmp_path, redis_db, procs: Procs):
    async with emulator() as emu:
        emu.configure_sharding(SHARDS, max_concurrency=1, identify_window=WINDOW)
        guilds = emu.create_sharded_guilds(8, SHARDS, name="Club")  # two per shard
        small_a, small_b, big = guilds[0], guilds[3], guilds[5]  # shards 0, 3 and 1
        assert [(g.id >> 22) % SHARDS for g in (small_a, small_b, big)] == [0, 3, 1]
        people = {g.id: members(g, ("ann", "bo", "cy")) for g in (small_a, small_b, big)}
        storage_lines, target = database
        config = tmp_path / "config.toml"
        config.write_text(
            storage_lines
            + f"[sharding]\nshard_count = {SHARDS}\nclusters = {CLUSTERS}\n"
            f"identify_seconds = {CLUSTER_WINDOW}\n"
            f'[redis]\nurl = "{redis_db}"\njob_key = "{JOB_KEY}"\n'
            '[training]\nmode = "queue"\ndebounce_seconds = 0.5\n'
            # No /recommend cooldown: `recommend_until_personal` asks again without waiting 5 s.
            "[limits]\nrecommend_cooldown_seconds = 0\n"
            "[logging]\nlevel = \"INFO\"\n", encoding="utf-8")
        config.chmod(0o600)
        env = child_env(DISCORD_TOKEN=TOKEN)

        def bot_cmd(name: str, *args: str, **extra: str) -> Proc:
            return procs.start(name, [HELPER, emu.base_url, "--config", str(config),
                                      *args], {**env, **extra})

        # Deploy: sync the commands once (this also migrates and loads the catalog).
        sync = bot_cmd("sync", "sync", MOVIEBOT_CLUSTER_ID="0")
        assert await finished(sync) == 0, sync.text()
        assert emu.registered_commands(), "the commands were not synced"

        # Bulk data straight into the shared database: taste for the small guilds, and
        # a big guild whose fit takes a few seconds.
        catalog = await movie_ids(target)
        rng = np.random.default_rng(7)
        rows = [(g.id, FAN_BASE + g.id % 1000 * 100 + u, int(m), int(rng.integers(1, 11)),
                 0.0) for g in (small_a, small_b) for u in range(30)
                for m in rng.choice(catalog, 15, replace=False)]
        rows += [(big.id, FAN_BASE + u, int(m), int(rng.integers(1, 11)), 0.0)
                 for u in range(BIG_MEMBERS)
                 for m in rng.choice(catalog, BIG_PER_MEMBER, replace=False)]
        await seed(target, rows)

        worker_env = {**env, "MOVIEBOT_REDIS_URL": redis_db}
        workers = [procs.start(name, ["-m", "bot", "--config", str(config), "worker",
                                      "--name", name, "--job-timeout", str(JOB_TIMEOUT)],
                               worker_env) for name in ("w1", "w2")]
        for worker in workers:
            await wait_text(worker, "Starting worker")
        clusters = [bot_cmd(f"c{k}", "run", MOVIEBOT_CLUSTER_ID=str(k))
                    for k in range(CLUSTERS)]
        for cluster in clusters:
            await wait_text(cluster, "connected to Discord")
        assert sorted(emu.sessions_by_shard()) == list(range(SHARDS))
        assert emu.gateway.identify_refusals == []
        assert sorted(s for _t, s, _n in emu.gateway.identify_log) == list(range(SHARDS))
        starts = [c.text().count("loaded the starter catalog") for c in (sync, *clusters)]
        assert starts == [1, 0, 0]  # a one-time job, done by the first process only

        # Members of guilds on shards 0 and 3 (clusters 0 and 1) rate, then get picks.
        for guild in (small_a, small_b):
            for member in people[guild.id][:2]:
                channel = guild.channel("general")
                for title, score in zip(TITLES[:3], (9, 4, 7), strict=True):
                    reply = await answer(await emu.slash(member, channel, "rate",
                                                         movie=title, score=score))
                    assert "Rated **" in reply.content, reply.content
        for guild in (small_a, small_b):
            member = people[guild.id][0]
            picks = await recommend_until_personal(emu, member, guild)
            assert picks.embed["title"] == "Your picks"
        # Each guild's fits ran for the process that owns its shard.
        c0, c1 = (c.text() for c in clusters)
        assert f"fit guild={small_a.id}" in c0 and f"fit guild={small_a.id}" not in c1
        assert f"fit guild={small_b.id}" in c1 and f"fit guild={small_b.id}" not in c0
        fits = sum(w.text().count("fit done guild=") for w in workers)
        assert fits >= 2

        # Kill the worker running the big guild's refit, mid-fit.
        member = people[big.id][0]
        rate = await emu.slash(member, big.channel("general"), "rate", movie=TITLES[0],
                               score=10)
        needle = f"fit start guild={big.id}"
        running = await first_to_log(workers, needle)
        running.popen.send_signal(signal.SIGKILL)
        running.popen.wait(5)
        other = next(w for w in workers if w is not running)
        assert "Rated **" in (await answer(rate)).content
        await wait_text(other, f"fit done guild={big.id}", timeout=JOB_TIMEOUT + 40)
        assert f"fit done guild={big.id}" not in running.text()  # it died mid-fit
        for title in TITLES[1:3]:
            await answer(await emu.slash(member, big.channel("general"), "rate",
                                         movie=title, score=8))
        picks = await recommend_until_personal(emu, member, big)
        assert picks.embed["title"] == "Your picks"
        await saved_model_catches_up(target, big.id)

        # No cluster marked another cluster's guilds as departed.
        assert await fetch(target, "SELECT guild_id FROM guild_settings "
                           "WHERE left_at IS NOT NULL") == []
        emu.assert_no_unknown_routes()
        for cluster in clusters:
            cluster.stop()
            assert cluster.popen.returncode == 0, cluster.text()[-3000:]


async def first_to_log(workers: list[Proc], needle: str, timeout: float = 30.0) -> Proc:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in workers:
            if needle in worker.text():
                return worker
        await asyncio.sleep(0.01)
    raise AssertionError(f"no worker logged {needle!r}:\n"
                         + "\n".join(w.text()[-2000:] for w in workers))


async def recommend_until_personal(emu: DiscordEmulator, member: Member, guild: Guild,
                                   timeout: float = 60.0) -> Reply:  # noqa: ASYNC109
    """/recommend until the picks are personal (the first fit may still be running)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = await answer(await emu.slash(member, guild.channel("general"), "recommend",
                                             count=3))
        embed = reply.embed or {}
        if embed.get("title") == "Your picks" or time.monotonic() > deadline:
            return reply
        await asyncio.sleep(0.5)  # the config sets no /recommend cooldown


async def saved_model_catches_up(target: str, guild_id: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """The saved model ends up trained on the guild's latest ratings version."""
    deadline = time.monotonic() + timeout
    while True:
        version = await fetch(target, "SELECT max(ratings_version) FROM guild_versions "
                              "WHERE guild_id = ?", guild_id)
        saved = await fetch(target, "SELECT ratings_version FROM model_state "
                            "WHERE guild_id = ?", guild_id)
        if saved and version and saved[0][0] == version[0][0]:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"saved model at {saved}, ratings at {version}")
        await asyncio.sleep(0.2)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
