"""Release years: from the first films (1870) to a few years ahead of today (announced films).

Used to validate `/movies add`, catalog imports and the year in a search query ("dune 1984").
"""

from __future__ import annotations

import datetime as dt

from bot.domain.errors import DomainError
from bot.i18n import _

MIN_YEAR = 1870
YEARS_AHEAD = 5


def max_year(today: dt.date | None = None) -> int:
    """The latest year a movie may have: this year plus `YEARS_AHEAD`."""
    return (today or dt.date.today()).year + YEARS_AHEAD


MAX_YEAR = max_year()
"""`max_year()` when the process started (for option ranges, which are fixed at import)."""


def is_valid_year(year: int) -> bool:
    return MIN_YEAR <= year <= max_year()


def check_year(year: object) -> int:
    """`year` as an int within the range, else DomainError."""
    if isinstance(year, bool) or not isinstance(year, int) or not is_valid_year(year):
        raise DomainError(_("The year must be between {low} and {high}.").format(
            low=MIN_YEAR, high=max_year()))
    return year
