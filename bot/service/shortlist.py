"""What one page of /recommend shows: variety rules on top of the model's ranking.

The ranking (`recommender.CFModel.recommend`) orders movies by the blend; a page takes them in
that order, under rules about what a member reads:

* **one movie per franchise per page**: "Toy Story", "Toy Story 2" and "Toy Story 3" are one
  franchise (`franchise_key`: the title before a subtitle, without sequel numbers); the others
  wait for a later page;
* **at most one stretch per ten picks**: a pick the rating model expects the member to rate
  below their own average is shown only marked, and rarely (`max_stretches`);
* **varied reasons**: no reason (a rated movie, or the blend part that carried a pick) is
  given for more than `REASON_CAP` picks of a page, and while the page could still reach
  `MIN_DISTINCT_REASONS` different reasons (in ten; in proportion on a shorter page:
  `distinct_reasons`) only picks with a new one are taken (a pick keeps
  its own, true reason: the rule chooses picks, never reasons), once the member has
  `MIN_DISTINCT_REASONS` ratings (before, one loved movie may truly carry the whole page);
  the reason rules look for picks among the ranking's first `REASON_WINDOW` movies only, and
  the rest of the page comes in rank order, unless that page would show fewer than
  `MIN_DISTINCT_REASONS` reasons (then they reach further down; `benchmarks/README.md`,
  "Round 3: what the page rules cost": reaching past 30 for a new reason cost precision);
  when the rules are relaxed and a rated movie truly is the reason for more picks than
  `REASON_CAP`, those beyond the cap say what else carried them (`page_reasons`: the blend
  part behind the pick as a whole, also true) rather than repeat it (from
  `MIN_DISTINCT_REASONS` ratings too);
* **never twice**: movies already shown (earlier pages) are skipped.

When the rules leave a page short, they are relaxed in order (reasons first, then stretches);
the franchise rule always holds. Pure Python: no I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.domain.title_forms import display_title, normalize

REASON_CAP = 2  # picks one rated movie may be the reason for, per page
MIN_DISTINCT_REASONS = 6  # different reasons a page of ten aims for
REASON_WINDOW = 30  # ranked movies the reason rules choose among, while that shows enough
STRETCHES_PER_TEN = 1

_AKA_RE = re.compile(r"\s*\((?:a\.k\.a\.|aka)[^)]*\)\s*$", re.IGNORECASE)
_SUBTITLE_RE = re.compile(r"\s*(?::|\s-\s|\s–\s|\s—\s).*$")
_SEQUEL_RE = re.compile(
    r"(?:\s+(?:part|chapter|episode|vol|volume|no))?"
    r"\s+(?:\d{1,2}|[ivx]{1,5})$")
_AND_THE_RE = re.compile(r"^(\w+(?:\s\w+)+?)\s+and\s+the\s+\w.*$")


@functools.lru_cache(maxsize=65_536)
def franchise_key(title: str) -> str:
    """The franchise a title belongs to by title-stem rules: "Toy Story 3" -> "toy story",
    "Star Wars: Episode V - The Empire Strikes Back" -> "star wars", "Godfather: Part II, The"
    -> "godfather", "Harry Potter and the Chamber of Secrets" -> "harry potter".

    Memoised by title: each ranking asks for the keys of every ranked movie (~90), mostly the
    same titles again (many_guilds: 1.7 s of the loop's CPU in 30 s, issue 24)."""
    text = _AKA_RE.sub("", display_title(title))
    head = _SUBTITLE_RE.sub("", text)
    key = normalize(head or text)
    while True:
        shorter = _SEQUEL_RE.sub("", key)
        if shorter == key or not shorter:
            break
        key = shorter
    match = _AND_THE_RE.match(key)
    if match:
        key = match.group(1)
    return key or normalize(text)


@dataclass(frozen=True)
class Candidate:
    """One ranked movie as the page rules see it."""

    movie_id: int
    franchise: str
    stretch: bool = False
    reason: int = -1
    """What the pick's reason names: a rated movie's id, or ``reason_key(kind)`` (< -1) for
    the blend part that carried it; -1 = no reason."""
    carrier: int = -1
    """``reason_key(-1, kind)`` of the blend part that carried the pick as a whole (-1: none)."""


def reason_key(movie_id: int, kind: int) -> int:
    """The key page rules compare reasons by: the rated movie's id, else -(2 + kind) for
    the blend part that carried the pick (each is a different reason a member reads)."""
    if movie_id >= 0:
        return movie_id
    return -(2 + kind) if kind > 0 else -1


def page_reasons(ranked: Sequence[Candidate], chosen: Sequence[int], *,
                 vary_reasons: bool = True, reason_cap: int | None = None) -> list[int]:
    """The reason key each chosen pick shows (``assemble_page``'s indexes, in rank order): its
    own, except that a rated movie is named for at most ``REASON_CAP`` picks of the page; the
    picks beyond (taken when the rules were relaxed) show their carrier, when they have one.
    ``vary_reasons`` False (as in ``assemble_page``): every pick shows its own.
    ``reason_cap``: another cap than ``REASON_CAP`` (``benchmarks/guilds.py --page-rules``)."""
    cap = REASON_CAP if reason_cap is None else reason_cap
    named: dict[int, int] = {}
    out = []
    for i in chosen:
        c = ranked[i]
        key = c.reason
        if key >= 0 and vary_reasons:
            named[key] = named.get(key, 0) + 1
            if named[key] > cap and c.carrier != -1:
                key = c.carrier
        out.append(key)
    return out


def max_stretches(n: int) -> int:
    return STRETCHES_PER_TEN * n // 10


def distinct_reasons(n: int, per_ten: int = MIN_DISTINCT_REASONS) -> int:
    """Different reasons a page of ``n`` aims for: ``per_ten`` in ten, in proportion for a
    shorter page (3 of 5, 5 of 8), never more than ``per_ten``. It was ``min(6, n)``: a page
    of five had to give five different reasons, so a member with four loved films saw a
    "highly rated" comedy instead of the family film their own rating explained."""
    return min(per_ten, -(-per_ten * n // 10))


def assemble_page(ranked: Sequence[Candidate], n: int,
                  skip: Collection[int] = (), *, vary_reasons: bool = True,
                  reason_cap: int | None = None, min_distinct: int | None = None,
                  window: int | None = None) -> list[int]:
    """Indexes into ``ranked`` (best first) of the next page of at most ``n`` picks.
    ``vary_reasons`` False (a member with fewer ratings than `MIN_DISTINCT_REASONS`: one
    rating can be the true reason for the whole page) leaves out the reason rules.

    The reason rules first choose only among the first ``REASON_WINDOW`` movies of the ranking
    (the rest of the page then comes in rank order); when that page would show fewer than
    ``MIN_DISTINCT_REASONS`` different reasons (``page_reasons``), it is taken again with the
    reason rules reaching as far down the ranking as they need.

    For measuring what each rule costs (``benchmarks/guilds.py --page-rules``; the bot uses
    the defaults): ``reason_cap``, ``min_distinct`` and ``window`` replace ``REASON_CAP``,
    ``MIN_DISTINCT_REASONS`` and ``REASON_WINDOW`` (``window`` 0: no window)."""
    cap = REASON_CAP if reason_cap is None else reason_cap
    distinct = distinct_reasons(n, MIN_DISTINCT_REASONS if min_distinct is None
                                else min_distinct)
    reach = REASON_WINDOW if window is None else window
    if vary_reasons and reach:
        page = _take(ranked, n, skip, vary_reasons, cap, distinct, reach)
        shown = page_reasons(ranked, page, reason_cap=cap)
        if len({k for k in shown if k != -1}) >= distinct:
            return page
    return _take(ranked, n, skip, vary_reasons, cap, distinct, 0)


def _take(ranked: Sequence[Candidate], n: int, skip: Collection[int], vary_reasons: bool,
          cap: int, distinct: int, window: int) -> list[int]:
    taken: list[int] = []
    chosen: set[int] = set()
    franchises: set[str] = set()
    reasons: dict[int, int] = {}
    stretches = 0
    pool = [i for i, c in enumerate(ranked) if c.movie_id not in skip]
    passes = ((True, True), (False, True), (False, False))
    for strict_reasons, limit_stretches in passes if vary_reasons else passes[1:]:
        for j, i in enumerate(pool):
            if len(taken) >= n or (strict_reasons and window and j >= window):
                break
            c = ranked[i]
            if i in chosen or c.franchise in franchises:
                continue
            if limit_stretches and c.stretch and stretches >= max_stretches(n):
                continue
            if strict_reasons:
                if c.reason != -1 and reasons.get(c.reason, 0) >= cap:
                    continue
                missing = distinct - len(reasons)
                new = c.reason != -1 and c.reason not in reasons
                if missing >= n - len(taken) and not new:
                    continue
            taken.append(i)
            chosen.add(i)
            franchises.add(c.franchise)
            stretches += c.stretch
            if c.reason != -1:
                reasons[c.reason] = reasons.get(c.reason, 0) + 1
    return sorted(taken)
