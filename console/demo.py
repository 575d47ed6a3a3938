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
# A real server rates overlapping movies: the members rate from one shared pool, which is what
# lets collaborative filtering learn their tastes.
DEMO_POOL_SIZE = 120
DEMO_RATINGS_PER_MEMBER = 45


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
                            seed: int = 7) -> int:
    """Give each simulated member ratings that follow their taste (deterministic)."""
    rng = random.Random(seed)
    genres_of: dict[int, set[str]] = {}
    for genre in await storage.genres(guild_id):
        for movie_id in await storage.movie_ids_with_genre(guild_id, genre):
            genres_of.setdefault(movie_id, set()).add(genre)
    pool = rng.sample(sorted(genres_of), min(DEMO_POOL_SIZE, len(genres_of)))
    count = 0
    for name, (loves, dislikes) in DEMO_MEMBERS.items():
        for movie_id in rng.sample(pool, min(DEMO_RATINGS_PER_MEMBER, len(pool))):
            genres = genres_of[movie_id]
            taste = 2.5 * len(genres & set(loves)) - 2.5 * len(genres & set(dislikes))
            score = round(5.5 + taste + rng.gauss(0, 1.0))
            await storage.upsert_rating(guild_id, member_ids[name], movie_id,
                                        min(10, max(1, score)))
            count += 1
    return count
