"""Bad input and abuse, table-driven: every text parameter of every command gets empty and
blank text, 10,000 characters, control characters, Unicode look-alikes, markdown, @everyone,
role and user mentions, SQL fragments and a title that exists only in another guild (sent raw,
bypassing the client-side limits, as a modified client could). Each gets a clear ephemeral
answer that pings nobody, and changes nothing."""

from __future__ import annotations

import asyncio
import hashlib

STRING, INTEGER, NUMBER, SUB = 3, 4, 10, 1
OTHER_GUILD_TITLE = "Zyxwv Only In Other Guild"

NASTY: dict[str, str] = {
    "empty": "",
    "whitespace": "   \t  ",
    "10k chars": "x" * 10_000,
    "control chars": "\x00\x07ab\x1b[2J",
    "only controls": "\x00\x07\u200b\u202e",
    "look-alike (Cyrillic)": "Тhe Маtrix",
    "markdown": "**bold** __u__ `code` ||spoiler|| [link](https://evil.example)",
    "@everyone": "@everyone @here",
    "role mention": "<@&123456789012345678>",
    "user mention": "<@456> <@!123456789012345678>",
    "SQL fragment": "'; DROP TABLE ratings;--",
    "SQL LIKE/FTS syntax": "%\" OR 1=1 -- NEAR(a b) *",
    "other guild's title": OTHER_GUILD_TITLE,
    "other guild's id": "#{other_id}",
}


def _opt(name: str, value, kind: int = STRING) -> dict:
    return {"name": name, "type": kind, "value": value}


def _sub(name: str, *options: dict) -> list[dict]:
    return [{"name": name, "type": SUB, "options": list(options)}]


# (label, member attribute, command, options builder). Members with the needed permission
# run the commands, so the check under test is the input handling, not the permission.
TEXT_PARAMETERS = [
    ("/rate movie", "alice", "rate", lambda v: [_opt("movie", v), _opt("score", 5, INTEGER)]),
    ("/unrate movie", "alice", "unrate", lambda v: [_opt("movie", v)]),
    ("/similar movie", "alice", "similar", lambda v: [_opt("movie", v)]),
    ("/movies info movie", "alice", "movies", lambda v: _sub("info", _opt("movie", v))),
    ("/movies search query", "alice", "movies", lambda v: _sub("search", _opt("query", v))),
    ("/movies top genre", "alice", "movies", lambda v: _sub("top", _opt("genre", v))),
    ("/movies add genres", "admin", "movies",
     lambda v: _sub("add", _opt("title", "Brand New Film"), _opt("year", 2020, INTEGER),
                    _opt("genres", v))),
    ("/recommend genre", "alice", "recommend", lambda v: [_opt("genre", v)]),
    ("/recommend group", "alice", "recommend", lambda v: [_opt("group", v)]),
]

# Numbers out of range or of the wrong type, as a modified client could send them.
BAD_NUMBERS = [
    ("/rate score 0", "alice", "rate", [_opt("movie", "Alien"), _opt("score", 0, INTEGER)]),
    ("/rate score 11", "alice", "rate", [_opt("movie", "Alien"), _opt("score", 11, INTEGER)]),
    ("/rate score -3", "alice", "rate", [_opt("movie", "Alien"), _opt("score", -3, INTEGER)]),
    ("/rate score 2**53", "alice", "rate",
     [_opt("movie", "Alien"), _opt("score", 2**53, INTEGER)]),
    ("/rate score text", "alice", "rate",
     [_opt("movie", "Alien"), _opt("score", "9; DROP TABLE", INTEGER)]),
    ("/recommend count 0", "alice", "recommend", [_opt("count", 0, INTEGER)]),
    ("/recommend count 10**9", "alice", "recommend", [_opt("count", 10**9, INTEGER)]),
    ("/movies add year 1066", "admin", "movies",
     _sub("add", _opt("title", "Too Early"), _opt("year", 1066, INTEGER))),
    ("/movies add year 99999", "admin", "movies",
     _sub("add", _opt("title", "Too Late"), _opt("year", 99999, INTEGER))),
    ("/settings features 999", "admin", "settings", [_opt("features", 999, INTEGER)]),
    ("/settings min_ratings 0", "admin", "settings", [_opt("min_ratings", 0, INTEGER)]),
    ("/settings regularization -1", "admin", "settings",
     [_opt("regularization", -1.0, NUMBER)]),
    ("/settings add_movies bogus", "admin", "settings", [_opt("add_movies", "root")]),
]

# /movies add title: some of these are legitimate titles (a movie may be called "@everyone"),
# so adding is allowed, but never a ping, never raw markup, never more than that one movie.
TITLE_REFUSED = {"empty", "whitespace", "10k chars", "only controls"}


async def _snapshot(storage) -> tuple:
    conn = storage.connection
    digest = hashlib.sha256()
    for sql in ("SELECT * FROM movies ORDER BY id",
                "SELECT guild_id, user_id, movie_id, score, updated_at FROM ratings "
                "ORDER BY guild_id, user_id, movie_id",
                "SELECT * FROM guild_settings ORDER BY guild_id"):
        async with conn.execute(sql) as cursor:
            for row in await cursor.fetchall():
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest(), await storage.movie_count()


def _message_text(reply) -> str:
    """Where Discord renders markdown and mentions: content and embeds (component labels are
    plain text and never ping)."""
    parts = [reply.content or ""]
    for embed in reply.embeds:
        parts += [embed.get("title", ""), embed.get("description", ""),
                  (embed.get("footer") or {}).get("text", ""),
                  (embed.get("author") or {}).get("name", "")]
        for field in embed.get("fields", []):
            parts += [field.get("name", ""), field.get("value", "")]
    return "\n".join(parts)


def _problems(label: str, reply, *, must_be_ephemeral: bool = True) -> list[str]:
    text = _message_text(reply)
    out = []
    if must_be_ephemeral and not reply.ephemeral:
        out.append("not ephemeral")
    if reply.allowed_mentions != {"parse": []}:
        out.append(f"allowed_mentions={reply.allowed_mentions}")
    if reply.mentions:
        out.append(f"pings {reply.mentions}")
    for raw in ("@everyone", "@here", "<@&123456789012345678>", "<@!123456789012345678>"):
        if raw in text:
            at = text.index(raw)
            out.append(f"unescaped {raw!r} in {text[max(0, at - 80):at + 40]!r}")
    if f"{OTHER_GUILD_TITLE} (2001)" in text:  # echoing the typed text back is fine
        out.append("leaks the other guild's movie")
    if "went wrong" in text or "Traceback" in text:
        out.append("internal error shown")
    if not text.strip():
        out.append("empty answer")
    if len(text) > 6000:
        out.append(f"answer of {len(text)} characters")
    return [f"{label}: {p} -- {text[:160]!r}" for p in out]


async def _ask(env, member, command, options):
    inter = await env.raw_slash(member, command, options)
    return await env.answer(inter, wait=20)


async def test_every_text_parameter_with_every_nasty_value(env):
    other = await env.storage.add_movie(OTHER_GUILD_TITLE, 2001, ("Drama",),
                                        guild_id=env.guild2.id)
    await env.seed_taste_clusters(env.guild, fans=2)  # some data to change (or not)
    await env.answer(await env.slash(env.alice, "rate", movie="Alien", score=7))
    values = {k: v.replace("{other_id}", str(other.id)) for k, v in NASTY.items()}
    before = await _snapshot(env.storage)

    cases = [(f"{label} = {name}", member, command, build(value))
             for label, member, command, build in TEXT_PARAMETERS
             for name, value in values.items()]
    cases += BAD_NUMBERS
    replies = await asyncio.gather(*(_ask(env, getattr(env, member), command, options)
                                     for _label, member, command, options in cases))
    problems = []
    for (label, *_rest), reply in zip(cases, replies, strict=True):
        problems += _problems(label, reply)
    assert not problems, "\n".join(problems)
    assert await _snapshot(env.storage) == before, "a bad input changed stored data"
    assert len(cases) == len(TEXT_PARAMETERS) * len(NASTY) + len(BAD_NUMBERS)
    print(f"bad inputs tried (no change allowed): {len(cases)}")


async def test_movie_titles_are_escaped_and_never_ping(env):
    values = dict(NASTY)
    values["other guild's id"] = "#1"
    problems = []
    tried = 0
    for name, value in values.items():
        count = await env.storage.count_guild_movies(env.guild.id)
        reply = await _ask(env, env.admin, "movies",
                           _sub("add", _opt("title", value), _opt("year", 2020, INTEGER)))
        tried += 1
        added = await env.storage.count_guild_movies(env.guild.id) - count
        text = reply.rendered_text()
        if name in TITLE_REFUSED:
            problems += _problems(f"/movies add title = {name}", reply)
            if added:
                problems.append(f"{name}: added a movie")
        else:  # accepted as a title (public reply), or refused (duplicate...): never a ping
            problems += _problems(f"/movies add title = {name}", reply,
                                  must_be_ephemeral=not text.startswith("Added"))
            if added not in (0, 1):
                problems.append(f"{name}: added {added} movies")
    assert not problems, "\n".join(problems)
    # What was stored is the cleaned title: no control characters.
    for movie in await env.storage.search_movies(env.guild.id, "ab", limit=50):
        assert not any(ord(c) < 32 for c in movie.title)
    assert tried == len(NASTY)


async def test_replies_never_ping_even_with_mentions_in_stored_titles(env):
    """A title full of mentions, shown by every command that lists titles."""
    movie = await env.storage.add_movie("@everyone <@&123456789012345678> **Ping** Party",
                                        2022, ("Comedy",), guild_id=env.guild.id)
    await env.seed(env.guild, {env.FAN_BASE + i: {movie: 8, "Alien": 6, "Jaws": 7}
                               for i in range(4)})
    replies = [
        await env.run(env.alice, "rate", movie=f"#{movie.id}", score=9),
        await env.run(env.alice, "movies search", query="Ping Party"),
        await env.run(env.alice, "movies info", movie=f"#{movie.id}"),
        await env.run(env.alice, "movies top"),
        await env.run(env.alice, "ratings"),
        await env.run(env.bob, "recommend"),
        await env.run(env.alice, "similar", movie=f"#{movie.id}"),
    ]
    problems = []
    for reply in replies:
        problems += _problems("title with mentions", reply, must_be_ephemeral=False)
        assert reply.allowed_mentions == {"parse": []}
    assert not problems, "\n".join(problems)
