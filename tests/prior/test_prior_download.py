"""`prior download` against a local HTTP server serving a generated MovieLens zip."""

from __future__ import annotations

import pytest
from aiohttp import web
from prior_dataset import README, catalog_rows, expected_links, zip_bytes

from bot.__main__ import build_parser
from bot.config import Settings
from bot.prior.download import DATASETS
from bot.storage import Storage


@pytest.fixture
async def server():
    """A local web server; yields (base URL, paths requested)."""
    app = web.Application()
    requests: list[str] = []

    def serve(body: bytes):
        async def handler(request: web.Request) -> web.Response:
            requests.append(request.path)
            return web.Response(body=body, content_type="application/zip")
        return handler

    app.router.add_get("/ml-test.zip", serve(zip_bytes("ml-test")))
    app.router.add_get("/bad.zip", serve(b"not a zip"))
    app.router.add_get("/movies-only.zip",
                       serve(zip_bytes("ml-x", {"movies.csv": "movieId,title,genres\n",
                                                "README.txt": README})))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", requests
    finally:
        await runner.cleanup()


async def run(settings: Settings, *argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    return await args.func(args, settings)


async def test_download_prints_the_licence_then_builds(server, tmp_path, capsys):
    base, requests = server
    settings = Settings(database=tmp_path / "db.sqlite3")
    async with await Storage.open(settings.database) as storage:
        await storage.add_movies_bulk(catalog_rows())
    url = f"{base}/ml-test.zip"
    assert await run(settings, "prior", "download", "small", "--url", url) == 0
    out, err = capsys.readouterr()
    assert requests == ["/ml-test.zip"]
    assert out.index("research only") < out.index("Built the taste prior")
    assert "Harper" in out
    assert "Research use only; do not redistribute." in out  # the archive's own licence
    assert "Cite the paper" not in out
    assert "Downloading" in err and "Learning the prior" in err
    async with await Storage.open(settings.database) as storage:
        status = await storage.prior_status()
        assert status.source == f"ml-test ({url})"
        assert status.linked_movies == len(expected_links())
    assert not list(tmp_path.glob("**/*.zip"))  # the data itself is not kept


@pytest.mark.parametrize(("path", "message"), [
    ("/missing.zip", "Download failed: "),
    ("/bad.zip", "Cannot build the taste prior: "),
    ("/movies-only.zip", "Cannot build the taste prior: "),
])
async def test_download_failures_end_in_one_line(server, tmp_path, capsys, path, message):
    base, _ = server
    settings = Settings(database=tmp_path / "db.sqlite3")
    assert await run(settings, "prior", "download", "full", "--url", base + path) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("Downloading")]
    assert len(lines) == 1 and lines[0].startswith(message)


def test_default_urls_are_grouplens():
    assert DATASETS["small"].endswith("/ml-latest-small.zip")
    assert DATASETS["full"].endswith("/ml-latest.zip")
    assert all(url.startswith("https://files.grouplens.org/") for url in DATASETS.values())
