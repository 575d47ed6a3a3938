"""Letterboxd: a member's public RSS feed (no login, no API key).

`https://letterboxd.com/<username>/rss/` holds the member's ~50 most recent diary entries:
`tmdb:movieId`, `letterboxd:filmTitle`, `letterboxd:filmYear`, `letterboxd:watchedDate` and
`letterboxd:memberRating` (0.5-5 stars, absent when unrated; x2 -> the bot's 1-10). List items
appear in the feed too: their guids are `letterboxd-list-*`, and only `letterboxd-watch-*` and
`letterboxd-review-*` entries are read. The XML is parsed in a thread (a feed is small, but
never on the event loop), from a body capped at 2 MB; the full history is the export ZIP,
which `/import` reads.
"""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from bot.i18n import _
from bot.media.http import HttpClient, check
from bot.media.models import AccountNotFound, MediaUnavailable, WatchedMovie, tmdb_id, to_scale

USERNAME = re.compile(r"[A-Za-z0-9_]{2,15}")
NS = {"letterboxd": "https://letterboxd.com", "tmdb": "https://themoviedb.org"}
MAX_FEED = 2 * 1024 * 1024
ENTRY_GUIDS = ("letterboxd-watch-", "letterboxd-review-")


def valid_username(text: str) -> str | None:
    """The username as Letterboxd spells them (2-15 letters, digits, underscores), or None."""
    text = text.strip().lstrip("@")
    return text if USERNAME.fullmatch(text) else None


def parse_feed(body: bytes) -> list[WatchedMovie]:
    """The watched movies in an RSS body (list items and unreadable entries skipped)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise MediaUnavailable(_("Letterboxd answered with a feed that is not valid "
                                 "XML")) from None
    movies = []
    for item in root.iter("item"):
        guid = (item.findtext("guid") or "").strip()
        if not guid.startswith(ENTRY_GUIDS):
            continue
        title = (item.findtext("letterboxd:filmTitle", namespaces=NS) or "").strip()
        if not title:
            continue
        year_text = (item.findtext("letterboxd:filmYear", namespaces=NS) or "").strip()
        watched_text = (item.findtext("letterboxd:watchedDate", namespaces=NS) or "").strip()
        try:
            watched = (datetime.strptime(watched_text, "%Y-%m-%d").replace(tzinfo=UTC)
                       if watched_text else None)
        except ValueError:
            watched = None
        movies.append(WatchedMovie(
            tmdb_id=tmdb_id(item.findtext("tmdb:movieId", namespaces=NS)), imdb_id=None,
            title=title, year=int(year_text) if year_text.isdigit() else None,
            rating_1_10=to_scale(item.findtext("letterboxd:memberRating", namespaces=NS), 5),
            watched_at=watched))
    return movies


class LetterboxdClient:
    def __init__(self, base_url: str = "https://letterboxd.com", *,
                 timeout: float = 10.0) -> None:
        self.http = HttpClient("Letterboxd", base_url, timeout=timeout, max_body=MAX_FEED,
                               headers={"Accept": "application/rss+xml, application/xml"})

    async def close(self) -> None:
        await self.http.close()

    async def watched(self, username: str) -> list[WatchedMovie]:
        """The movies in the member's public feed; AccountNotFound for no such member."""
        name = valid_username(username)
        if name is None:
            raise AccountNotFound(_("that is not a Letterboxd username"))
        response = await self.http.request("GET", f"/{name}/rss/")
        if response.status == 404:
            raise AccountNotFound(_("Letterboxd has no member named {name}").format(name=name))
        check("Letterboxd", response)
        return await asyncio.to_thread(parse_feed, response.body)
