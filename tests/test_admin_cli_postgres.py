"""The admin commands on PostgreSQL: with `MOVIEBOT_DATABASE_URL` set, `catalog import`,
`stats`, `purge` and `prior status` work on that database, and `backup` points at pg_dump
in one line."""

from __future__ import annotations

import asyncio

from bot.__main__ import main
from bot.storage import PostgresStorage
from bot.storage.postgres.migrations import PG_MIGRATIONS

CSV = "title,year,genres\nZanzibar Nights,2003,Drama\nQuokka Summer,2011,Comedy|Drama\n"


def test_admin_commands_use_the_postgres_database(tmp_path, monkeypatch, capsys,
                                                  postgres_database):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MOVIEBOT_CONFIG", raising=False)
    monkeypatch.delenv("MOVIEBOT_DATABASE", raising=False)
    monkeypatch.setenv("MOVIEBOT_DATABASE_URL", postgres_database)
    (tmp_path / "my.csv").write_text(CSV, encoding="utf-8")

    assert main(["catalog", "import", "my.csv"]) == 0
    assert "Imported 2 movies" in capsys.readouterr().out

    async def seed() -> None:
        async with await PostgresStorage.open(postgres_database) as pg:
            movie = await pg.resolve_movie(7, "Zanzibar Nights (2003)")
            assert movie is not None
            await pg.upsert_rating(7, 70, movie.id, 8)

    asyncio.run(seed())
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert f"schema {PG_MIGRATIONS[-1].version}" in out and "1 who rated something" in out
    assert "postgresql://127.0.0.1" in out and "postgres@" not in out

    assert main(["prior", "status"]) == 0
    capsys.readouterr()
    assert main(["purge", "--guild", "7"]) == 0
    assert "Purged guild 7: 2 rows removed" in capsys.readouterr().out  # rating + version

    assert main(["backup", str(tmp_path / "copy.sqlite3")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pg_dump -Fc" in err[0]
    assert not (tmp_path / "data").exists()  # no stray SQLite database was created
