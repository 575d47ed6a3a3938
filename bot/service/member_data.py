"""The member-data registry: every kind of per-member data a service stores, declared once.

Red-DiscordBot asks each cog to delete a user's data (`red_delete_data_for_user`); here each
service that stores rows about a member registers them, with one call in its constructor:

    member_data.register(MemberData(
        "watchlist", tables=(MemberTable("watchlist", ("guild_id", "user_id", "movie_id",
                                                       "added_at")),),
        count=self.count, export=self.export_file))

and everything that must cover a member's data iterates the registry instead of a hand list:

* **forget** (`/forgetme`): `forget_listeners` run first (open movie-night votes let go of the
  member), then each kind's `forgetting` hook (linked media accounts stop syncing and their
  tokens are revoked, so a sync cannot bring ratings back); then `forget` deletes the member's
  rows of every registered table in one transaction (`Storage.forget_member_rows`) and calls
  each kind's `forgotten` hook (the ratings' hook makes the recommender drop the member).
* **export** (`/export`): `export` collects each kind's file (`export` hook).
* **purge** (a departed server, `python -m bot purge`): `before_purge(guild)` runs each kind's
  `purging` hook (linked accounts' tokens are revoked), then `table_names()` go to
  `Storage.purge_guild` with the server's own tables.
* **copy** (`python -m bot db copy`): `tables()` give the member tables and their columns.

A table is keyed by `guild_id` and `user_id`. `tests/service/test_member_data.py` fails, naming
the call to add, when a table with a `user_id` column in either backend's migrations is not
registered.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.service.gate import Gate
from bot.storage import Storage

_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class MemberTable:
    """A storage table holding members' rows, keyed by `guild_id` and `user_id`: its name and
    every column, in order (what `db copy` copies)."""

    name: str
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        for word in (self.name, *self.columns):  # they are put into SQL as identifiers
            if not _NAME.fullmatch(word):
                raise ValueError(f"not a table or column name: {word!r}")
        if not {"guild_id", "user_id"} <= set(self.columns):
            raise ValueError(f"member table {self.name} needs guild_id and user_id columns")


@dataclass(frozen=True, slots=True)
class MemberExport:
    """One file of a member's `/export`: `name` names it (`<name>-<guild id>.csv`), `rows` is
    how many rows `content` (UTF-8 CSV with a header line) holds."""

    name: str
    content: bytes
    rows: int


Count = Callable[[int, int], Awaitable[int]]  # (guild id, member id) -> rows stored
Export = Callable[[int, int], Awaitable[MemberExport | None]]  # None: nothing stored
Forgetting = Callable[[int, int], Awaitable[object]]  # (guild, member), before the delete
Forgotten = Callable[[int, int, int], Awaitable[None]]  # (guild, member, rows deleted)
Purging = Callable[[int], Awaitable[object]]  # (guild id), before a departed guild's purge


@dataclass(frozen=True, slots=True)
class MemberData:
    """One kind of per-member data: its name (what `/forgetme` and `/export` call it), its
    tables, how many rows a member has (None: not counted in /forgetme's prompt), their export
    file (None: not exported), what must happen before the rows are deleted and what else must
    forget the member once they are, and what must happen before a departed guild's rows are
    purged (None: nothing)."""

    name: str
    tables: tuple[MemberTable, ...]
    count: Count | None
    export: Export | None = None
    forgetting: Forgetting | None = None
    forgotten: Forgotten | None = None
    purging: Purging | None = None


class MemberDataRegistry:
    """The registered kinds, in registration order; `forget`, `export` and `counts` go through
    the services' shutdown gate."""

    def __init__(self, storage: Storage, gate: Gate) -> None:
        self.storage = storage
        self.gate = gate
        self._kinds: dict[str, MemberData] = {}
        # Called with (guild id, member id) before /forgetme deletes anything: what holds the
        # member's part in something still open (movie nights) lets go of it.
        self.forget_listeners: list[Callable[[int, int], None]] = []

    def on_forget(self, listener: Callable[[int, int], None]) -> None:
        """Call `listener(guild_id, member_id)` before /forgetme deletes anything."""
        self.forget_listeners.append(listener)

    def register(self, data: MemberData) -> None:
        """Add a kind; a second kind of the same name or over an already registered table is
        refused (ValueError): one owner per table."""
        if data.name in self._kinds:
            raise ValueError(f"member data {data.name!r} is registered already")
        owned = {table.name: kind.name for kind in self._kinds.values() for table in kind.tables}
        for table in data.tables:
            if table.name in owned:
                raise ValueError(f"table {table.name} is registered already by "
                                 f"{owned[table.name]!r}")
        self._kinds[data.name] = data

    @property
    def kinds(self) -> tuple[MemberData, ...]:
        return tuple(self._kinds.values())

    def tables(self) -> tuple[MemberTable, ...]:
        """Every registered table (each kind's, in registration order)."""
        return tuple(table for kind in self._kinds.values() for table in kind.tables)

    def table_names(self) -> tuple[str, ...]:
        return tuple(table.name for table in self.tables())

    async def counts(self, guild_id: int, user_id: int) -> dict[str, int]:
        """{kind: how many rows the member has in the guild}, for the kinds that count."""
        async with self.gate.enter():
            return {kind.name: await kind.count(guild_id, user_id)
                    for kind in self._kinds.values() if kind.count is not None}

    async def forget(self, guild_id: int, user_id: int) -> dict[str, int]:
        """Delete all the member's data in the guild, every table in one transaction; returns
        {kind: rows deleted}."""
        async with self.gate.enter():
            for listener in self.forget_listeners:  # first: a vote closing now skips them
                listener(guild_id, user_id)
            for kind in self._kinds.values():
                if kind.forgetting is not None:
                    await kind.forgetting(guild_id, user_id)
            deleted = await self.storage.forget_member_rows(guild_id, user_id,
                                                            self.table_names())
            counts = {kind.name: sum(deleted.get(table.name, 0) for table in kind.tables)
                      for kind in self._kinds.values()}
            for kind in self._kinds.values():
                if kind.forgotten is not None:
                    await kind.forgotten(guild_id, user_id, counts[kind.name])
            return counts

    async def before_purge(self, guild_id: int) -> None:
        """Each kind's `purging` hook, just before the guild's rows are purged."""
        for kind in self._kinds.values():
            if kind.purging is not None:
                await kind.purging(guild_id)

    async def export(self, guild_id: int, user_id: int) -> list[MemberExport]:
        """The member's files, one per kind that has rows (registration order)."""
        async with self.gate.enter():
            files = []
            for kind in self._kinds.values():
                if kind.export is not None and (found := await kind.export(guild_id,
                                                                           user_id)):
                    files.append(found)
            return files
