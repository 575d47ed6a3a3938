"""`catalog download movielens` against a local HTTP server serving a zip built here."""

from __future__ import annotations

import argparse
import io
import zipfile

import pytest
from aiohttp import web

from bot.catalog.cli import register
from bot.catalog.download import license_text
from bot.config import Settings
from bot.storage import Storage

MOVIES = """\
movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
2571,"Matrix, The (1999)",Action|Sci-Fi|Thriller
x,Broken (2001),Drama
"""
LINKS = "movieId,imdbId,tmdbId\n1,0114709,862\n2571,0133093,603\n"
README = """\
Summary
=======

A small test dataset.

Usage License
=============

The data set may be used for any research purposes under the following conditions:

* The user may not state or imply any endorsement from the University of Minnesota.
* The user may not use this information for any commercial purposes.

Citation
========

Please cite the paper.
"""


def build_zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


GOOD_ZIP = build_zip({
    "ml-latest-small/movies.csv": MOVIES,
    "ml-latest-small/links.csv": LINKS,
    "ml-latest-small/README.txt": README,
    "ml-latest-small/ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n",
})


@pytest.fixture
async def server():
    """A local web server; returns base URL. Routes: /good.zip, /bad.zip, /empty.zip."""
    app = web.Application()
    requests: list[str] = []

    def serve(body: bytes):
        async def handler(request: web.Request) -> web.Response:
            requests.append(request.path)
            return web.Response(body=body, content_type="application/zip")
        return handler

    app.router.add_get("/good.zip", serve(GOOD_ZIP))
    app.router.add_get("/bad.zip", serve(b"this is not a zip file"))
    app.router.add_get("/empty.zip", serve(build_zip({"ml-latest-small/README.txt": README})))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", requests
    finally:
        await runner.cleanup()


def parse_cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


async def test_download_imports_movies_and_prints_licence(server, tmp_path, capsys):
    base, requests = server
    settings = Settings(database=tmp_path / "db.sqlite3", movielens_url=f"{base}/good.zip")
    args = parse_cli(["catalog", "download", "movielens"])
    assert await args.func(args, settings) == 0
    out, err = capsys.readouterr()
    assert requests == ["/good.zip"]
    assert "Usage License" in out
    assert "may not use this information for any commercial purposes" in out
    assert "Please cite" not in out  # only the licence section
    assert f"Imported 2 movies (0 already present, 1 bad row) from {base}/good.zip" in out
    assert "line 4: movieId 'x' is not a whole number" in err

    async with await Storage.open(settings.database) as storage:
        assert await storage.catalog_count() == 2
        matrix = await storage.resolve_movie(1, "The Matrix (1999)")
        assert (matrix.movielens_id, matrix.imdb_id, matrix.tmdb_id) == (2571, "tt0133093", 603)
        # Movies only: the ratings in the archive are not imported.
        assert len(await storage.guild_ratings(1)) == 0

    assert await args.func(args, settings) == 0  # again: nothing added twice
    out, _ = capsys.readouterr()
    assert "Imported 0 movies (2 already present, 1 bad row)" in out

    # Downloading before the first start does not keep the starter catalog from loading then.
    from bot.service.app import Services

    services = await Services.open(settings)
    try:
        assert await services.storage.catalog_count() > 400
        assert await services.storage.resolve_movie(1, "The Matrix (1999)") is not None
    finally:
        await services.close(1)


@pytest.mark.parametrize(("path", "message"), [
    ("/missing.zip", "HTTP 404"),
    ("/bad.zip", "not a valid zip archive"),
    ("/empty.zip", "no movies.csv"),
])
async def test_download_failures_are_one_line(server, tmp_path, capsys, path, message):
    base, _ = server
    settings = Settings(database=tmp_path / "db.sqlite3", movielens_url=f"{base}{path}")
    args = parse_cli(["catalog", "download", "movielens"])
    assert await args.func(args, settings) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 + err.count("Downloading")


async def test_unreachable_server_is_a_clean_error(tmp_path, capsys):
    import socket

    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(database=tmp_path / "db.sqlite3",
                        movielens_url=f"http://127.0.0.1:{port}/ml.zip")
    args = parse_cli(["catalog", "download", "movielens"])
    assert await args.func(args, settings) == 1
    assert "Download failed" in capsys.readouterr().err


def test_license_text_extracts_only_its_section():
    text = license_text(README)
    assert text.startswith("Usage License\n\nThe data set may be used")
    assert text.endswith("commercial purposes.")
    assert license_text("no licence here") is None
