"""Migrations written once for both backends: statements whose only difference between
SQLite and PostgreSQL is the column types, with the types as `{id}` (a Discord snowflake or a
row id: INTEGER / bigint), `{small}` (a flag or a score: INTEGER / smallint), `{real}` (a time:
REAL / double precision) and `{text}` (TEXT / text), rendered for each backend's list
(`sqlite.migrations.MIGRATIONS`, `postgres.migrations.PG_MIGRATIONS`).

Migrations 13-20 are written here; earlier ones and 21 (the ratings triggers) differ by more
than types (FTS5 vs pg_trgm, triggers) and stay in each list. A rendered statement is exactly
what each list held before.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..migration import Migration

SQLITE_TYPES = {"id": "INTEGER", "small": "INTEGER", "real": "REAL", "text": "TEXT"}
POSTGRES_TYPES = {"id": "bigint", "small": "smallint", "real": "double precision",
                  "text": "text"}

_SHARED: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (13, "open movie-night votes and members' parts in them (restart-safe)", (
        # An open vote: its messages, candidates ([[movie id, group score, new here], ...]
        # as JSON) and when it closes. Deleted when it closes, with the guild's purge.
        """
    CREATE TABLE movie_nights (
        guild_id        {id} NOT NULL,
        id              {id} NOT NULL,
        channel_id      {id} NOT NULL,
        message_id      {id},
        poll_message_id {id},
        candidates      {text} NOT NULL,
        personal        {small} NOT NULL,
        closes_at       {real} NOT NULL,
        PRIMARY KEY (guild_id, id)
    )
    """,
        # Each attendee's part (member data: /forgetme deletes it): the starter, whether
        # they took part by their own action, their button vote.
        """
    CREATE TABLE movie_night_members (
        guild_id  {id} NOT NULL,
        night_id  {id} NOT NULL,
        user_id   {id} NOT NULL,
        name      {text} NOT NULL,
        starter   {small} NOT NULL DEFAULT 0,
        took_part {small} NOT NULL DEFAULT 0,
        vote      {small},
        PRIMARY KEY (guild_id, night_id, user_id)
    )
    """,
    )),
    (14, "the server's timezone, region, streaming services, reminder minutes", (
        "ALTER TABLE guild_settings ADD COLUMN timezone TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE guild_settings ADD COLUMN region TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE guild_settings ADD COLUMN services TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE guild_settings ADD COLUMN reminder_minutes INTEGER NOT NULL DEFAULT 30",
    )),
    (15, "server language: replies in it when a member's own is not spoken", (
        "ALTER TABLE guild_settings ADD COLUMN language {text} NOT NULL DEFAULT 'en'",
    )),
    (16, "movie nights as scheduled events: the plan, and events until reminded", (
        "ALTER TABLE movie_nights ADD COLUMN event_at {real}",
        "ALTER TABLE movie_nights ADD COLUMN event_channel_id {id}",
        "ALTER TABLE movie_nights ADD COLUMN event_location {text}",
        # A winner's Discord scheduled event until its reminder (who is interested is
        # Discord's, read then, never stored).
        """
    CREATE TABLE movie_night_events (
        guild_id   {id} NOT NULL,
        event_id   {id} NOT NULL,
        movie_id   {id} NOT NULL,
        channel_id {id} NOT NULL,
        starts_at  {real} NOT NULL,
        remind_at  {real} NOT NULL,
        PRIMARY KEY (guild_id, event_id)
    )
    """,
    )),
    (17, "TMDB collections: a movie's franchise, one per /recommend page", (
        "ALTER TABLE movie_details ADD COLUMN collection_id {id}",
    )),
    (18, "TMDB details: original language, age ratings and where to watch", (
        "ALTER TABLE movie_details ADD COLUMN original_language {text}",
        "ALTER TABLE movie_details ADD COLUMN certifications {text}",
        "ALTER TABLE movie_details ADD COLUMN providers {text}",
    )),
    (19, "movie nights: the Join message (hidden ratings) and who forgot before a reminder", (
        # The Join message while ratings are hidden, until its vote starts or it expires
        # (restart-safe); its members (invited, joined: took_part) are rows of
        # movie_night_members with night_id = id. `allowed`: the movie ids tonight's filters
        # left, as JSON (NULL: any movie).
        """
    CREATE TABLE movie_night_joins (
        guild_id         {id} NOT NULL,
        id               {id} NOT NULL,
        channel_id       {id} NOT NULL,
        message_id       {id},
        candidates       {small} NOT NULL,
        hours            {small},
        expires_at       {real} NOT NULL,
        event_at         {real},
        event_channel_id {id},
        event_location   {text},
        allowed          {text},
        language         {text} NOT NULL DEFAULT 'en',
        PRIMARY KEY (guild_id, id)
    )
    """,
        # Members who ran /forgetme after a winner's event was made: the reminder never puts
        # the movie on their watchlists, even if Discord still lists them as interested.
        # Deleted with the event (at its reminder).
        """
    CREATE TABLE movie_night_skips (
        guild_id {id} NOT NULL,
        event_id {id} NOT NULL,
        user_id  {id} NOT NULL,
        PRIMARY KEY (guild_id, event_id, user_id)
    )
    """,
    )),
    (20, "movie nights: the vote's language (its public message is redrawn in it after a "
         "restart)", (
        # NULL for votes stored before: redrawn in the server's /settings language.
        "ALTER TABLE movie_nights ADD COLUMN language {text}",
    )),
)


def shared_migrations(types: Mapping[str, str]) -> list[Migration]:
    """Migrations 13 on, rendered with one backend's column types."""
    return [Migration(version, description,
                      tuple(statement.format_map(types) for statement in statements))
            for version, description, statements in _SHARED]
