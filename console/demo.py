"""The console's demo server: "Demo Club" with twelve simulated members who already rated movies.

`create_demo_server` builds the guild in the emulator's world (a text channel, a "Cinema" voice
channel where ana and ben sit, one member per name in `DEMO_MEMBERS`); `prepare_demo_database`
loads the starter catalog and, on an empty database, `seed_demo_ratings` gives every simulated
member ratings that follow their taste (deterministic, from one shared pool of movies).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.storage import Storage
    from emulator import Channel, DiscordEmulator, Guild, Member

DEMO_GUILD = "Demo Club"
VOICE_CHANNEL = "Cinema"
# Two simulated members per taste (ana and gus, ben and hana, ...): name -> (genres they love,
# genres they dislike).
TASTES = {
    "family": (("Animation", "Children", "Fantasy"), ("Horror", "War")),
    "action": (("Action", "Sci-Fi", "Thriller"), ("Romance", "Musical")),
    "romance": (("Drama", "Romance", "Musical"), ("Horror", "Action")),
    "crime": (("Crime", "Thriller", "Film-Noir"), ("Children", "Musical")),
    "comedy": (("Comedy", "Adventure"), ("Drama", "War")),
    "horror": (("Horror", "Mystery", "Sci-Fi"), ("Children", "Romance")),
}
DEMO_MEMBERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = dict(zip(
    ("ana", "ben", "cleo", "dev", "eli", "fay", "gus", "hana", "ivo", "jo", "kai", "lea"),
    [taste for _ in range(2) for taste in TASTES.values()], strict=True))
# A real server rates overlapping movies: the members rate from one shared pool, every movie
# by DEMO_RATERS of them (so every two members share about 25 rated movies and each member rates
# about 100), and score each movie by their taste plus the movie's own quality plus a little
# noise: enough, and consistent enough, for the rating model to learn their tastes (members who
# share a taste score the movies they both rated alike). Who rates which movie is drawn at
# random, every movie by as many members: in a 12-member guild, "who rated what" that followed
# popularity or taste turns on the "will pick" part, which there favours movies many members
# rated, disliked genres included; and uneven support would rank a member with few ratings (the
# `pop_cold` popularity part: weight 11 at 4 ratings) by how many rated each movie, not taste.
DEMO_POOL_SIZE = 300
DEMO_RATERS = 4  # members who rated each movie of the pool
DEMO_NOISE = 0.4  # standard deviation of a member's whim, in stars
DEMO_QUALITY = 0.3  # standard deviation of a movie's own quality, in stars


@dataclass(frozen=True)
class DemoServer:
    """The demo guild, the channel commands are typed in, and the simulated members."""

    guild: Guild
    channel: Channel
    members: dict[str, Member]


def create_demo_server(emu: DiscordEmulator) -> DemoServer:
    """'Demo Club' owned by 'you', with the simulated members; ana and ben sit in Cinema."""
    guild = emu.world.create_guild(DEMO_GUILD, owner="you", voice_channels=(VOICE_CHANNEL,))
    channel = guild.channel("general")
    members = {name: guild.add_member(name) for name in DEMO_MEMBERS}
    guild.join_voice(members["ana"], guild.channel(VOICE_CHANNEL))
    guild.join_voice(members["ben"], guild.channel(VOICE_CHANNEL))
    return DemoServer(guild, channel, members)


async def prepare_demo_database(database: Path, server: DemoServer) -> None:
    """The starter catalog, and the members' ratings unless the guild already has some (a
    `--database` kept from an earlier session)."""
    from bot.catalog.starter import ensure_starter_catalog
    from bot.storage import Storage

    storage = await Storage.open(database)
    try:
        await ensure_starter_catalog(storage)
        if len((await storage.guild_ratings(server.guild.id)).scores) == 0:
            await seed_demo_ratings(storage, server.guild.id,
                                    {n: m.id for n, m in server.members.items()})
    finally:
        await storage.close()


async def seed_demo_ratings(storage: Storage, guild_id: int, member_ids: dict[str, int],
                            seed: int = 2) -> int:
    """Give each simulated member ratings that follow their taste (deterministic); returns how
    many ratings were written. With the default seed all 12 members' top tens follow their
    tastes (tests/test_console_demo_tastes.py) in every run tried; other seeds give 10-12 of
    12 (a 12-member guild is little data, and the fit is not bit-for-bit repeatable run to
    run: seed 7 gave 10, 11 or 12)."""
    rng = random.Random(seed)
    genres_of: dict[int, set[str]] = {}
    for genre in await storage.genres(guild_id):
        for movie_id in await storage.movie_ids_with_genre(guild_id, genre):
            genres_of.setdefault(movie_id, set()).add(genre)
    pool = rng.sample(sorted(genres_of), min(DEMO_POOL_SIZE, len(genres_of)))
    rated: dict[str, list[tuple[int, int]]] = {name: [] for name in DEMO_MEMBERS}
    for movie_id in pool:
        quality = rng.gauss(0.0, DEMO_QUALITY)
        for name in rng.sample(list(rated), min(DEMO_RATERS, len(rated))):
            loves, dislikes = DEMO_MEMBERS[name]
            score = round(5.5 + taste_shift(genres_of[movie_id], loves, dislikes) + quality
                          + rng.gauss(0.0, DEMO_NOISE))
            rated[name].append((movie_id, min(10, max(1, score))))
    for name, ratings in rated.items():  # one transaction a member: a quick start
        await storage.import_history(guild_id, member_ids[name], ratings)
    return sum(len(ratings) for ratings in rated.values())


def taste_shift(genres: set[str], loves: tuple[str, ...], dislikes: tuple[str, ...]) -> float:
    """How a member's taste moves their score of a movie with `genres`, in stars: +2.5 for a
    loved genre (+0.5 for each further one), -4 for any disliked genre (a disliked genre
    spoils a loved one)."""
    loved, disliked = len(genres & set(loves)), bool(genres & set(dislikes))
    return (2.0 + 0.5 * loved if loved else 0.0) - (4.0 if disliked else 0.0)
