"""The rating scale: whole numbers from 1 (awful) to 10 (a favourite).

`SCALE` is what the recommender is configured with; `check_score` validates anything a member
or a file submitted (Discord's client enforces option ranges, but a submitted value is never
trusted), `parse_score` reads one typed into a form.
"""

from __future__ import annotations

from numbers import Integral

from bot.domain.errors import DomainError
from bot.i18n import N_, _

MIN_SCORE = 1
MAX_SCORE = 10
SCALE: tuple[float, float] = (float(MIN_SCORE), float(MAX_SCORE))
SCORE_HINT = N_("The score must be a whole number from {low} to {high}.")


def score_hint() -> str:
    """SCORE_HINT in the reader's language, with the scale's ends."""
    return _(SCORE_HINT).format(low=MIN_SCORE, high=MAX_SCORE)


DISLIKED_AT_MOST = 4
"""A score this low means the member did not like the movie (used in reasons)."""


def check_score(score: object) -> int:
    """`score` as an int if it is a whole number on the scale, else DomainError(SCORE_HINT)."""
    if isinstance(score, bool) or not isinstance(score, Integral):
        raise DomainError(score_hint())
    value = int(score)
    if not MIN_SCORE <= value <= MAX_SCORE:
        raise DomainError(score_hint())
    return value


def parse_score(text: str | None) -> int:
    """A score typed as text ("8"), or DomainError saying what is wrong with it."""
    value = (text or "").strip()
    if not value:
        raise DomainError(_("Type a score. {hint}").format(hint=score_hint()))
    if not value.isascii() or not value.isdigit():
        shown = value if len(value) <= 20 else value[:19] + "…"
        raise DomainError(_("“{text}” is not a score. {hint}").format(text=shown,
                                                                       hint=score_hint()))
    number = int(value)
    if not MIN_SCORE <= number <= MAX_SCORE:
        raise DomainError(_("{number} is out of range. {hint}").format(number=number,
                                                                        hint=score_hint()))
    return number


SERVER_SCORE_WEIGHT = 5
"""How many ratings at the server's average a movie's own ratings are blended with."""


def server_score(total: float, count: int, server_mean: float | None) -> float | None:
    """A movie's server score: the one definition `/movies top` ranks by and `/movies info`
    shows. Its average rating, pulled toward the server's average rating while few members
    rated it: (sum + W * server mean) / (count + W), W = SERVER_SCORE_WEIGHT. None unrated."""
    if count <= 0:
        return None
    prior = server_mean if server_mean is not None else (MIN_SCORE + MAX_SCORE) / 2
    return (total + SERVER_SCORE_WEIGHT * prior) / (count + SERVER_SCORE_WEIGHT)


HALF_STAR_HINT = N_("A Letterboxd rating is 0.5 to 5 stars in halves.")


def from_half_stars(stars: object) -> int:
    """A Letterboxd rating (0.5-5 stars in halves) on our scale: stars x 2, so 0.5 -> 1,
    3.5 -> 7 and 5 -> 10 (the one explicit conversion; nothing is rounded away). Accepts
    the text of a CSV cell; DomainError(HALF_STAR_HINT) for anything else."""
    text = str(stars).strip()
    try:
        value = float(text)
    except ValueError:
        raise DomainError(_(HALF_STAR_HINT)) from None
    doubled = value * 2
    if not doubled.is_integer() or not MIN_SCORE <= doubled <= MAX_SCORE:
        raise DomainError(_(HALF_STAR_HINT))
    return int(doubled)
