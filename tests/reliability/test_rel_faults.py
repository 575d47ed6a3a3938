"""Faults from Discord: 429s with rate-limit headers, 5xx replies, slow replies, dropped gateway
connections (RESUME and re-IDENTIFY). The bot survives every one, and every rating lands
exactly once."""

from __future__ import annotations

import asyncio

from emulator import fast_retries

SURVIVED: list[str] = []


async def test_discord_faults_lose_no_rating_and_crash_nothing(env):
    movies = [await env.movie(t) for t in ("Alien", "Jaws", "Vertigo", "Casablanca")]
    members = [env.guild.add_member(f"fault{i:02d}") for i in range(12)]
    member_ids = {m.id for m in members}
    expected: dict[tuple[int, int], int] = {}
    faults = env.emu.faults
    step = 0

    async def rate_all(label: str, *, wait: float = 20, check_reply: bool = True) -> None:
        """Every member rates the next movie (a new score), concurrently."""
        nonlocal step
        movie = movies[step % len(movies)]
        score = 1 + step % 10
        step += 1
        inters = await asyncio.gather(*(env.slash(m, "rate", movie=f"#{movie.id}", score=score)
                                        for m in members))
        for member in members:
            key = (member.id, movie.id)
            expected[key] = score
        if check_reply:
            for inter in inters:
                text = (await env.answer(inter, wait)).rendered_text()
                # "Rated ... " exactly once: a command run twice would answer "stays at".
                assert text.startswith("Rated"), f"{label}: {text}"
                assert "went wrong" not in text
        deadline = asyncio.get_running_loop().time() + wait
        while True:  # without a reply to wait for, poll storage until the ratings are in
            rows = await env.storage._fetchall(
                "SELECT user_id, movie_id, score FROM ratings WHERE guild_id = ?",
                (env.guild.id,))
            found = {(r[0], r[1]): r[2] for r in rows if r[0] in member_ids}
            if found == expected or check_reply:
                break
            assert asyncio.get_running_loop().time() < deadline, label
            await asyncio.sleep(0.05)
        assert found == expected, label
        assert not env.bot.is_closed(), label
        SURVIVED.append(label)

    await rate_all("baseline")

    limited = faults.rate_limit("POST /interactions/*/callback", count=5, retry_after=0.05,
                                bucket="cb")
    await rate_all("429 on interaction callbacks (bucket headers)")
    assert limited.hits == 5

    global_limit = faults.rate_limit("POST /interactions/*/callback", count=2,
                                     retry_after=0.05, is_global=True)
    await rate_all("429 global rate limit")
    assert global_limit.hits == 2

    with fast_retries():
        e500 = faults.error("POST /interactions/*/callback", 500, count=3)
        await rate_all("500 Internal Server Error on callbacks")
        e502 = faults.error("POST /interactions/*/callback", 502, count=3)
        await rate_all("502 Bad Gateway on callbacks")
        e503 = faults.error("POST /interactions/*/callback", 503, count=2)
        await rate_all("503 Service Unavailable on callbacks")
    assert (e500.hits, e502.hits, e503.hits) == (3, 3, 2)

    slow = faults.delay("POST /interactions/*/callback", 0.4, count=len(members))
    await rate_all("slow callbacks (0.4 s each)")
    assert slow.hits == len(members)

    # A reply that never gets through (persistent 500): the rating is saved all the same.
    with fast_retries():
        dead = faults.error("POST /interactions/*/callback", 500, count=None)
        await rate_all("persistent 500 on callbacks", check_reply=False)
        await asyncio.sleep(0.3)  # let discord.py give up on its retries
        faults.clear()
    assert dead.hits >= len(members)

    await env.emu.drop_websocket()
    await rate_all("gateway dropped (close 4000, RESUME)")
    await env.emu.drop_websocket(abrupt=True)
    await rate_all("gateway dropped abruptly (TCP reset, RESUME)")
    faults.refuse_next_resume = True
    await env.emu.drop_websocket()
    await rate_all("RESUME refused (new IDENTIFY)")

    # Deferred commands reply through the webhook routes: 429 and 5xx there too.
    await env.seed_taste_clusters(env.guild, fans=3)
    with fast_retries():
        faults.rate_limit("PATCH /webhooks/*/*/messages/@original", count=1, retry_after=0.05)
        faults.error("PATCH /webhooks/*/*/messages/@original", 502, count=1)
        reply = await env.answer(await env.slash(env.alice, "recommend"), 20)
    assert reply.embeds, reply.rendered_text()
    SURVIVED.append("429 + 502 on the deferred reply edit (webhook)")

    await rate_all("after everything")
    assert len(expected) == len(members) * len(movies)
    assert not env.bot.is_closed() and env.bot.is_ready()
    assert len(SURVIVED) == 13
