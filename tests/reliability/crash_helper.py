"""Subprocess side of the crash tests (run as a script; the test kills it with SIGKILL).

    python crash_helper.py ratings DB     open DB with the real Storage and upsert ratings in a
                                          tight loop, printing "committed N" after each commit
    python crash_helper.py migrate DB     apply migrations to a version-1 DB with a migration 2
                                          that stalls (an endless recursive query) inside its
                                          transaction, after some of its schema changes
"""

from __future__ import annotations

import asyncio
import sys

from bot.storage import Storage
from bot.storage.sqlite.migrations import MIGRATIONS, Migration

GUILD = 42
STALL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000000) "
         "SELECT count(*) FROM c")


async def ratings(path: str) -> None:
    storage = await Storage.open(path)
    movie = await storage.add_movie("Crash Test Movie", 1999, ("Drama",), guild_id=GUILD)
    print(f"movie {movie.id}", flush=True)
    n = 0
    while True:
        n += 1
        # Each rating is its own committed transaction; a re-rate every 7th (the upsert path).
        await storage.upsert_rating(GUILD, n, movie.id, 1 + n % 10)
        if n % 7 == 0:
            await storage.upsert_rating(GUILD, n - 3, movie.id, 10)
        print(f"committed {n}", flush=True)


async def migrate(path: str) -> None:
    v2 = MIGRATIONS[1]
    stalled = Migration(2, v2.description + " (stalls)",
                        (*v2.statements[:2], STALL, *v2.statements[2:]))
    print("migrating", flush=True)
    await Storage.open(path, migrations=[MIGRATIONS[0], stalled])
    print("finished (unexpected)", flush=True)


if __name__ == "__main__":
    mode, db = sys.argv[1], sys.argv[2]
    asyncio.run({"ratings": ratings, "migrate": migrate}[mode](db))
