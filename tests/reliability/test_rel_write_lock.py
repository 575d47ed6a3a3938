"""A member's /rate and reads while another process holds SQLite's write lock (issue 24).

Round 3's collapse at 2,000 guilds (`/rate` acked after 33-59 s, "database is locked") came from
one connection shared by every read and write: a write waiting out `busy_timeout` in that
connection's thread held up every other member's reads behind it, and the queue grew. Now reads
go to a pool of reader connections (WAL: they never wait for a writer), and `/rate` defers its
acknowledgement when its write cannot finish within a second, so the member sees "thinking…"
instead of a failed interaction, then the real answer.
"""

from __future__ import annotations

import asyncio
import time

from tests.reliability.test_rel_concurrency import _Hog

HOLD = 2.5  # seconds the other process keeps the write lock (below busy_timeout: no retry)


async def test_rate_is_acknowledged_in_time_while_another_process_holds_the_lock(env):
    movie = await env.movie("Alien")
    hog = _Hog(env.storage.path, movie.id, hold=HOLD, pause=0, once=True)
    hog.start()
    try:
        await asyncio.to_thread(hog.holding.wait, 5)
        held_at = time.monotonic()
        inter = await env.slash(env.alice, "rate", movie="Alien", score=8)
        first = await inter.response(10)
        acked_at = time.monotonic()
        # Acknowledged (deferred, ephemeral "thinking") while the lock was still held.
        assert hog.is_alive(), "the write lock was released before /rate was acknowledged"
        assert first.deferred and first.ephemeral
        assert acked_at - held_at < HOLD
        reply = await env.answer(inter, wait=30)
    finally:
        await asyncio.to_thread(hog.join, 15)
    text = reply.rendered_text()
    assert "Rated" in text and "locked" not in text.lower(), text
    assert await env.rating(env.alice, "Alien") == 8
    assert not env.emu.errors


async def test_reads_do_not_queue_behind_a_write_waiting_for_the_lock(env):
    """While /rate's write waits for another process's lock, another member's read-only
    command is answered before the lock is released."""
    alien, jaws = await env.movie("Alien"), await env.movie("Jaws")
    await env.storage.upsert_rating(env.guild.id, env.bob.id, jaws.id, 6)
    hog = _Hog(env.storage.path, alien.id, hold=HOLD, pause=0, once=True)
    hog.start()
    try:
        await asyncio.to_thread(hog.holding.wait, 5)
        writer = await env.slash(env.alice, "rate", movie="Alien", score=9)
        await asyncio.sleep(0.1)  # the write is now waiting for the lock
        reader = await env.slash(env.bob, "ratings")
        read_reply = await env.answer(reader, wait=10)
        assert hog.is_alive(), "the read was answered only after the lock was released"
        assert "Jaws" in read_reply.rendered_text()
        await env.answer(writer, wait=30)
    finally:
        await asyncio.to_thread(hog.join, 15)
    assert await env.rating(env.alice, "Alien") == 9
