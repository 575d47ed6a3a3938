"""Versioned schema migrations, tracked with `PRAGMA user_version`.

Each `Migration` is a list of SQL statements. A migration is applied in one transaction
(`BEGIN IMMEDIATE` ... `PRAGMA user_version = N` ... `COMMIT`), so a failure leaves both the
schema and the version number as they were. A database whose version is above the newest
migration here was written by a newer bot and is refused with `SchemaTooNewError`.

Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import aiosqlite

from ..errors import MigrationError, SchemaTooNewError
from ..migration import Migration
from ..sql.schema import SQLITE_TYPES, shared_migrations

_V1 = Migration(1, "base schema: movies, ratings, guild settings", (
    """
    CREATE TABLE movies (
        id           INTEGER PRIMARY KEY,
        title        TEXT NOT NULL,
        year         INTEGER,
        genres       TEXT NOT NULL DEFAULT '',
        guild_id     INTEGER,
        movielens_id INTEGER UNIQUE,
        imdb_id      TEXT,
        tmdb_id      INTEGER,
        norm_title   TEXT NOT NULL,
        created_at   REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
    )
    """,
    # One title+year per scope (catalog = guild 0); idempotent imports and duplicate checks.
    # It also serves the prefix (range) search on norm_title.
    """
    CREATE UNIQUE INDEX movies_identity
        ON movies (norm_title, IFNULL(year, 0), IFNULL(guild_id, 0))
    """,
    "CREATE INDEX movies_guild ON movies (guild_id) WHERE guild_id IS NOT NULL",
    """
    CREATE TABLE ratings (
        guild_id   INTEGER NOT NULL,
        user_id    INTEGER NOT NULL,
        movie_id   INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
        score      INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
        updated_at REAL NOT NULL,
        PRIMARY KEY (guild_id, user_id, movie_id)
    ) WITHOUT ROWID
    """,
    # movie_stats (covering: score included) and the FK cascade from movies.
    "CREATE INDEX ratings_movie ON ratings (guild_id, movie_id, score)",
    "CREATE INDEX ratings_movie_fk ON ratings (movie_id)",
    # member_ratings: newest first.
    "CREATE INDEX ratings_member_recent ON ratings (guild_id, user_id, updated_at)",
    """
    CREATE TABLE guild_settings (
        guild_id                 INTEGER PRIMARY KEY,
        add_movie_permission     TEXT NOT NULL DEFAULT 'manage_guild'
                                 CHECK (add_movie_permission IN ('manage_guild', 'everyone')),
        ratings_visible          INTEGER NOT NULL DEFAULT 1 CHECK (ratings_visible IN (0, 1)),
        min_ratings_for_personal INTEGER CHECK (min_ratings_for_personal > 0),
        features                 INTEGER CHECK (features > 0),
        regularization           REAL CHECK (regularization >= 0)
    )
    """,
))

_V2 = Migration(2, "title search (FTS5 trigram), model state, guild lifecycle", (
    # "norm|alt norm": what the trigram index holds (filled by the storage on insert).
    "ALTER TABLE movies ADD COLUMN search_text TEXT NOT NULL DEFAULT ''",
    "UPDATE movies SET search_text = norm_title",
    """
    CREATE VIRTUAL TABLE movies_fts USING fts5(
        search_text, content = 'movies', content_rowid = 'id', tokenize = 'trigram'
    )
    """,
    "INSERT INTO movies_fts (movies_fts) VALUES ('rebuild')",
    """
    CREATE TRIGGER movies_fts_insert AFTER INSERT ON movies BEGIN
        INSERT INTO movies_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    """
    CREATE TRIGGER movies_fts_delete AFTER DELETE ON movies BEGIN
        INSERT INTO movies_fts (movies_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END
    """,
    """
    CREATE TRIGGER movies_fts_update AFTER UPDATE OF search_text ON movies BEGIN
        INSERT INTO movies_fts (movies_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO movies_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    """
    CREATE TABLE model_state (
        guild_id INTEGER PRIMARY KEY,
        blob     BLOB NOT NULL,
        saved_at REAL NOT NULL
    )
    """,
    "ALTER TABLE guild_settings ADD COLUMN left_at REAL",
    "CREATE INDEX guild_settings_left ON guild_settings (left_at) WHERE left_at IS NOT NULL",
))

_V3 = Migration(3, "taste prior: blob, its dataset's movie list, links to catalog movies", (
    # At most one prior (id = 1). blob: TastePrior.to_bytes() (float32, by default only the
    # movies linked to the catalog when it was built).
    """
    CREATE TABLE prior_state (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        blob            BLOB NOT NULL,
        source          TEXT NOT NULL,
        id_kind         TEXT NOT NULL CHECK (id_kind IN ('movielens', 'ml-100k')),
        built_at        REAL NOT NULL,
        linked_at       REAL NOT NULL,
        dataset_movies  INTEGER NOT NULL,
        dataset_users   INTEGER NOT NULL,
        dataset_ratings INTEGER NOT NULL
    )
    """,
    # The dataset's movies (all of them, for linking and reporting); stored = in the blob.
    """
    CREATE TABLE prior_movies (
        key       INTEGER PRIMARY KEY,
        title     TEXT NOT NULL,
        year      INTEGER,
        imdb_id   TEXT,
        tmdb_id   INTEGER,
        n_ratings INTEGER NOT NULL DEFAULT 0,
        stored    INTEGER NOT NULL DEFAULT 0 CHECK (stored IN (0, 1))
    )
    """,
    # One-to-one: catalog movie <-> stored prior movie.
    """
    CREATE TABLE prior_links (
        movie_id INTEGER PRIMARY KEY REFERENCES movies (id) ON DELETE CASCADE,
        key      INTEGER NOT NULL UNIQUE REFERENCES prior_movies (key) ON DELETE CASCADE,
        method   TEXT NOT NULL
    )
    """,
))

_V4 = Migration(4, "ratings versions per guild (kept by triggers) and the model's version", (
    # ratings_version grows with every change of a guild's ratings (a new rating, a changed
    # score, a deletion); ratings_count is their number. Triggers keep both, so no write path
    # can forget them. A saved model records the version it was trained on: a cache miss
    # refits only when the ratings (or the model settings, settings_key) changed since.
    """
    CREATE TABLE guild_versions (
        guild_id        INTEGER PRIMARY KEY,
        ratings_version INTEGER NOT NULL DEFAULT 0,
        ratings_count   INTEGER NOT NULL DEFAULT 0
    )
    """,
    "INSERT INTO guild_versions (guild_id, ratings_version, ratings_count) "
    "SELECT guild_id, 1, count(*) FROM ratings GROUP BY guild_id",
    """
    CREATE TRIGGER ratings_version_insert AFTER INSERT ON ratings BEGIN
        INSERT INTO guild_versions (guild_id, ratings_version, ratings_count)
        VALUES (new.guild_id, 1, 1)
        ON CONFLICT (guild_id) DO UPDATE SET ratings_version = ratings_version + 1,
                                             ratings_count = ratings_count + 1;
    END
    """,
    """
    CREATE TRIGGER ratings_version_update AFTER UPDATE OF score ON ratings
    WHEN old.score IS NOT new.score BEGIN
        UPDATE guild_versions SET ratings_version = ratings_version + 1
        WHERE guild_id = new.guild_id;
    END
    """,
    """
    CREATE TRIGGER ratings_version_delete AFTER DELETE ON ratings BEGIN
        UPDATE guild_versions SET ratings_version = ratings_version + 1,
                                  ratings_count = ratings_count - 1
        WHERE guild_id = old.guild_id;
    END
    """,
    # -1: trained on an unknown version (saved before this migration): refit once.
    "ALTER TABLE model_state ADD COLUMN ratings_version INTEGER NOT NULL DEFAULT -1",
    "ALTER TABLE model_state ADD COLUMN settings_key TEXT NOT NULL DEFAULT ''",
))

_V5 = Migration(5, "title skeletons: look-alike titles in other scripts are duplicates", (
    # search.skeleton(title): the normalised title with letters of other scripts that look
    # like Latin ones mapped to those (UTS #39). NULL until Storage.open fills it in (Python
    # computes it); add_movie refuses a title whose skeleton and year an existing visible
    # movie has.
    "ALTER TABLE movies ADD COLUMN skeleton TEXT",
    "CREATE INDEX movies_skeleton ON movies (skeleton, IFNULL(year, 0))",
))

_V6 = Migration(6, "set-up steps: one-off steps (the starter catalog) done once, in any order", (
    # A step done on this database (e.g. 'starter_catalog'); absent = still to do. The
    # starter catalog is a step of its own, so a `catalog import` before the first start no
    # longer stops it from loading.
    """
    CREATE TABLE setup_steps (
        name    TEXT PRIMARY KEY,
        done_at REAL NOT NULL
    )
    """,
))

_V7 = Migration(7, "watchlists: the movies each member means to watch, per guild", (
    # One row per guild+member+movie; a movie leaving the catalog leaves every watchlist.
    """
    CREATE TABLE watchlist (
        guild_id INTEGER NOT NULL,
        user_id  INTEGER NOT NULL,
        movie_id INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
        added_at REAL NOT NULL,
        PRIMARY KEY (guild_id, user_id, movie_id)
    ) WITHOUT ROWID
    """,
    # Movie night: which attendees watchlisted a movie; and the FK cascade from movies.
    "CREATE INDEX watchlist_movie ON watchlist (movie_id)",
))

_V8 = Migration(8, "movie details: TMDB posters and details cached per movie", (
    """
    CREATE TABLE movie_details (
        movie_id       INTEGER PRIMARY KEY REFERENCES movies (id) ON DELETE CASCADE,
        tmdb_id        INTEGER,
        fetched_at     REAL NOT NULL,
        poster_url     TEXT,
        overview       TEXT,
        runtime        INTEGER,
        original_title TEXT
    )
    """,
))

_V9 = Migration(9, "server names: each server's name and member count, for `stats`", (
    # Written when the bot connects, joins a server or a server is renamed (the name already
    # cleaned of control characters); purged with the server's other data.
    """
    CREATE TABLE guild_names (
        guild_id     INTEGER PRIMARY KEY,
        name         TEXT NOT NULL,
        member_count INTEGER,
        updated_at   REAL NOT NULL
    )
    """,
))

_V10 = Migration(10, "not interested: movies a member hid from their picks, per guild", (
    # One row per guild+member+movie; undone from /ratings, deleted by /forgetme and purge.
    """
    CREATE TABLE not_interested (
        guild_id INTEGER NOT NULL,
        user_id  INTEGER NOT NULL,
        movie_id INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
        since    REAL NOT NULL,
        PRIMARY KEY (guild_id, user_id, movie_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX not_interested_movie ON not_interested (movie_id)",
))

_V11 = Migration(11, "linked media accounts, their synced history, and each rating's source", (
    # One link per guild+member+service (jellyfin, plex, trakt, letterboxd): the account
    # there, its tokens (Trakt; encrypted when [security] secret_key is set) and the sync.
    """
    CREATE TABLE media_links (
        guild_id         INTEGER NOT NULL,
        user_id          INTEGER NOT NULL,
        service          TEXT NOT NULL,
        account_id       TEXT NOT NULL,
        account_name     TEXT NOT NULL,
        access_token     TEXT,
        refresh_token    TEXT,
        token_expires_at REAL,
        linked_at        REAL NOT NULL,
        synced_at        REAL,
        next_sync_at     REAL,
        sync_summary     TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (guild_id, user_id, service)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX media_links_due ON media_links (next_sync_at)",
    # The movies a link's history says the member watched (rating: theirs there, 1-10, or
    # NULL): never recommended back to them. Deleted with the link, /forgetme and purge.
    """
    CREATE TABLE media_history (
        guild_id   INTEGER NOT NULL,
        user_id    INTEGER NOT NULL,
        movie_id   INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
        service    TEXT NOT NULL,
        watched_at REAL,
        rating     INTEGER CHECK (rating BETWEEN 1 AND 10),
        PRIMARY KEY (guild_id, user_id, movie_id, service)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX media_history_movie ON media_history (movie_id)",
    # Who gave a rating: 'member' (/rate, /import) or the service a sync read it from. A sync
    # never overwrites a member's own rating.
    "ALTER TABLE ratings ADD COLUMN source TEXT NOT NULL DEFAULT 'member'",
))

_V12 = Migration(12, "the media server's library, Seerr requests, 'now available' notices", (
    # Every movie in the configured Jellyfin/Plex server's libraries (server data, not a
    # member's): matched to each guild's catalog by TMDB/IMDb id, then title + year.
    """
    CREATE TABLE media_library (
        server     TEXT NOT NULL,
        item_id    TEXT NOT NULL,
        title      TEXT NOT NULL,
        norm_title TEXT NOT NULL,
        year       INTEGER,
        tmdb_id    INTEGER,
        imdb_id    TEXT,
        url        TEXT NOT NULL,
        seen_at    REAL NOT NULL,
        PRIMARY KEY (server, item_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX movies_tmdb ON movies (tmdb_id) WHERE tmdb_id IS NOT NULL",
    "CREATE INDEX movies_imdb ON movies (imdb_id) WHERE imdb_id IS NOT NULL",
    # One Seerr request per movie, whoever asked (the Seerr user it was made as is Seerr's):
    # the row is claimed before the request is sent, so two presses make one request.
    """
    CREATE TABLE seerr_requests (
        tmdb_id       INTEGER PRIMARY KEY,
        seerr_user_id INTEGER NOT NULL,
        request_id    INTEGER,
        status        TEXT NOT NULL,
        requested_at  REAL NOT NULL
    )
    """,
    # Members who asked for "now available" DMs (/notify on), and the DMs sent: one per
    # member and movie, ever. Member data: /forgetme, /export, purge.
    """
    CREATE TABLE media_notify (
        guild_id INTEGER NOT NULL,
        user_id  INTEGER NOT NULL,
        since    REAL NOT NULL,
        PRIMARY KEY (guild_id, user_id)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE media_notified (
        guild_id INTEGER NOT NULL,
        user_id  INTEGER NOT NULL,
        movie_id INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
        sent_at  REAL NOT NULL,
        PRIMARY KEY (guild_id, user_id, movie_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX media_notified_movie ON media_notified (movie_id)",
))

_V21 = Migration(21, "each guild's sum of scores beside its count (kept by the triggers)", (
    # guild_score_total (the server average `/movies info` pulls a movie's score toward)
    # read every rating of the guild: ~26 ms of a connection thread's CPU at 10^6 ratings,
    # 70% of the SQL CPU per command under many_guilds. The version triggers keep the sum
    # as they keep the count, so every write path (deletions by cascade too) keeps it exact.
    "ALTER TABLE guild_versions ADD COLUMN ratings_sum INTEGER NOT NULL DEFAULT 0",
    "UPDATE guild_versions SET ratings_sum = (SELECT IFNULL(sum(score), 0) FROM ratings r "
    "WHERE r.guild_id = guild_versions.guild_id)",
    "DROP TRIGGER ratings_version_insert",
    "DROP TRIGGER ratings_version_update",
    "DROP TRIGGER ratings_version_delete",
    """
    CREATE TRIGGER ratings_version_insert AFTER INSERT ON ratings BEGIN
        INSERT INTO guild_versions (guild_id, ratings_version, ratings_count, ratings_sum)
        VALUES (new.guild_id, 1, 1, new.score)
        ON CONFLICT (guild_id) DO UPDATE SET ratings_version = ratings_version + 1,
                                             ratings_count = ratings_count + 1,
                                             ratings_sum = ratings_sum + new.score;
    END
    """,
    """
    CREATE TRIGGER ratings_version_update AFTER UPDATE OF score ON ratings
    WHEN old.score IS NOT new.score BEGIN
        UPDATE guild_versions SET ratings_version = ratings_version + 1,
                                  ratings_sum = ratings_sum + new.score - old.score
        WHERE guild_id = new.guild_id;
    END
    """,
    """
    CREATE TRIGGER ratings_version_delete AFTER DELETE ON ratings BEGIN
        UPDATE guild_versions SET ratings_version = ratings_version + 1,
                                  ratings_count = ratings_count - 1,
                                  ratings_sum = ratings_sum - old.score
        WHERE guild_id = old.guild_id;
    END
    """,
))

MIGRATIONS: list[Migration] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11,
                              _V12, *shared_migrations(SQLITE_TYPES), _V21]
LATEST_VERSION = MIGRATIONS[-1].version


async def user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def check_version(
    conn: aiosqlite.Connection, migrations: list[Migration], *, label: str = "database"
) -> int:
    """The file's schema version; SchemaTooNewError if it is above the newest migration."""
    found = await user_version(conn)
    supported = migrations[-1].version if migrations else 0
    if found > supported:
        raise SchemaTooNewError(label, found, supported)
    return found


async def apply_migrations(
    conn: aiosqlite.Connection,
    migrations: list[Migration] | None = None,
    *,
    label: str = "database",
) -> list[int]:
    """Apply the pending migrations in order, each in its own transaction.

    Returns the versions applied. Requires a connection in autocommit mode
    (`isolation_level=None`).
    """
    migrations = MIGRATIONS if migrations is None else migrations
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)) or (versions and versions[0] < 1):
        raise MigrationError("migration versions must be unique, increasing and start above 0")
    current = await check_version(conn, migrations, label=label)
    applied: list[int] = []
    for migration in migrations:
        if migration.version <= current:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in migration.statements:
                await conn.execute(statement)
            # Inside the transaction: the version moves only if everything else succeeded.
            await conn.execute(f"PRAGMA user_version = {int(migration.version)}")
            await conn.execute("COMMIT")
        except Exception as error:
            await conn.execute("ROLLBACK")
            raise MigrationError(
                f"{label}: migration {migration.version} ({migration.description}) failed "
                f"and was rolled back: {error}"
            ) from error
        applied.append(migration.version)
        current = migration.version
    return applied
