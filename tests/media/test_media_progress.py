"""A big history's sync reports its progress (issue 25 item 2): `MediaService` tells a
`Progress` callback how far reading (Jellyfin's pages) and matching (chunks) got, and
`cogs.ui.progress.ProgressLine` turns that into reply edits: only for more than 200 movies,
the first at once, then at most one per `EVERY` seconds, never after the last chunk (the
summary comes next)."""

from __future__ import annotations

import json

import media_imitations as im  # tests/media/conftest.py registers it
import pytest
from aiohttp import web

from bot.media.http import HttpClient
from bot.media.models import MediaUnavailable
from cogs.ui.progress import BIG_HISTORY, EVERY, ProgressLine, progress_text
from tests.media.test_media_service import ALICE, G, _catalog, app, fakes  # noqa: F401


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_progress_lines_are_throttled_and_only_for_big_histories() -> None:
    shown: list[str] = []

    async def edit(text: str) -> None:
        shown.append(text)

    clock = Clock()
    line = ProgressLine("jellyfin", edit, clock=clock)
    await line("match", 100, BIG_HISTORY)  # small: no line
    assert shown == []
    await line("read", 500, 1250)
    assert shown == ["Syncing Jellyfin: 500/1,250 movies read…"]
    for done in (1000, 1250):  # within EVERY seconds: not shown
        clock.now += EVERY / 3
        await line("read", done, 1250)
    await line("match", 200, 1250)
    assert len(shown) == 1
    clock.now += EVERY
    await line("match", 400, 1250)
    assert shown[-1] == "Syncing Jellyfin: 400/1,250 movies matched…"
    clock.now += 10 * EVERY
    await line("match", 1250, 1250)  # done: the summary replaces the line
    assert len(shown) == 2 == len(line.shown)
    assert progress_text("plex", "match", 3, 4000) == "Syncing Plex: 3/4,000 movies matched…"


async def test_a_sync_reports_reading_and_matching(app, fakes):  # noqa: F811
    movies = await _catalog(app, 30)
    fakes.jellyfin.played["u-alice"] = [
        im.movie_item(i, tmdb=m.tmdb_id) for i, m in enumerate(movies)] + [
        im.movie_item(100 + i, title=f"Unknown Film {i}", year=1990) for i in range(1220)]
    reports: list[tuple[str, int, int]] = []

    async def progress(phase: str, done: int, total: int) -> None:
        reports.append((phase, done, total))

    _link, summary, problem = await app.media.link_listed(G, ALICE, "jellyfin", "Alice",
                                                          progress)
    assert problem == "" and summary is not None
    assert (summary.watched, len(summary.unmatched)) == (30, 1220)
    assert [r for r in reports if r[0] == "read"] == [
        ("read", 500, 1250), ("read", 1000, 1250), ("read", 1250, 1250)]
    assert [r[1] for r in reports if r[0] == "match"] == [200, 400, 600, 800, 1000, 1200,
                                                          1250]

    async def broken(*_args) -> None:
        raise RuntimeError("the reply is gone")

    again = await app.media.sync_now(G, ALICE, "jellyfin", broken)  # never stops a sync
    assert again.watched == 30


async def test_a_big_page_is_read_whole_and_an_oversized_one_refused():
    """A history page of a few hundred KB arrives in several chunks: all of it is read (the
    client once read only the first chunk, and a big history failed as "not JSON")."""
    page = {"Items": [{"Name": f"Film {i}", "Overview": "x" * 200} for i in range(1500)]}
    body = json.dumps(page).encode()
    assert len(body) > 300_000

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    server = web.Application()
    server.router.add_get("/Items", handler)
    async with im.serve(server) as url:
        client = HttpClient("Jellyfin", url)
        small = HttpClient("Jellyfin", url, max_body=100_000)
        try:
            assert await client.get_json("/Items") == page
            with pytest.raises(MediaUnavailable, match="answered more than"):
                await small.get_json("/Items")
        finally:
            await client.close()
            await small.close()


async def test_trakt_and_plex_report_reading_too(app, fakes):  # noqa: F811
    """Trakt says how many history entries there are (X-Pagination-Item-Count), Plex how many
    history rows (totalSize): both report each page read."""
    reports: list[tuple[str, int, int]] = []

    async def progress(phase: str, done: int, total: int) -> None:
        reports.append((phase, done, total))

    fakes.trakt.history = [{"title": f"Trakt Film {i}", "year": 1990} for i in range(250)]
    finished: list[tuple] = []

    async def report(*args) -> None:
        finished.append(args)

    code = await app.media.begin_trakt(G, ALICE, report, progress)
    fakes.trakt.approve(code.user_code)
    await app.media._pending[(G, ALICE)].task
    assert finished and finished[0][1] is not None
    assert [r for r in reports if r[0] == "read"] == [
        ("read", 100, 250), ("read", 200, 250), ("read", 250, 250)]

    reports.clear()
    fakes.plex.metadata = {n: {"title": f"Plex Film {n}", "year": 1990} for n in range(1, 451)}
    fakes.plex.history = {2: [(n, 1_700_000_000 + n) for n in range(1, 451)]}
    _link, summary, problem = await app.media.link_listed(G, ALICE, "plex", "alice", progress)
    assert problem == "" and summary is not None and len(summary.unmatched) == 450
    assert [r for r in reports if r[0] == "read"] == [
        ("read", 200, 450), ("read", 400, 450), ("read", 450, 450)]
