"""Linked media accounts (issue 25), what both backends share: the columns of a link, a link
from a row and back, and which synced ratings a sync writes (`plan_ratings`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.media import MediaLink

LINK_COLUMNS = ("guild_id, user_id, service, account_id, account_name, linked_at, "
                "access_token, refresh_token, token_expires_at, synced_at, next_sync_at, "
                "sync_summary")


def link_from_row(row: Sequence[Any]) -> MediaLink:
    return MediaLink(int(row[0]), int(row[1]), str(row[2]), str(row[3]), str(row[4]),
                     float(row[5]), row[6], row[7],
                     None if row[8] is None else float(row[8]),
                     None if row[9] is None else float(row[9]),
                     None if row[10] is None else float(row[10]), str(row[11] or ""))


def link_values(link: MediaLink) -> tuple[Any, ...]:
    return (link.guild_id, link.user_id, link.service, link.account_id, link.account_name,
            link.linked_at, link.access_token, link.refresh_token, link.token_expires_at,
            link.synced_at, link.next_sync_at, link.sync_summary)


def plan_ratings(existing: dict[int, tuple[int, str]],
                 seen: Sequence[tuple[int, float | None, int | None]]
                 ) -> tuple[list[tuple[int, int]], int]:
    """The (movie, score) ratings a sync writes, given the member's ratings ({movie: (score,
    source)}): a new one, or one a service gave that changed; never over the member's own.
    Also how many were kept because the member rated the movie themselves."""
    writes: list[tuple[int, int]] = []
    kept = 0
    for movie_id, _when, rating in seen:
        if rating is None:
            continue
        had = existing.get(movie_id)
        if had is None:
            writes.append((movie_id, rating))
        elif had[1] == "member":
            kept += 1
        elif had[0] != rating:
            writes.append((movie_id, rating))
    return writes, kept
