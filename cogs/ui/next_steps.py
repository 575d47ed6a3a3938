"""What an empty answer tells the member to do next: every empty state names a step that works.

A new server's first member should never read "nothing to go on" and stop: the catalog is
there (the starter catalog, or thousands of imported movies), so the way forward is to find
movies (`/movies search`), rate them (`/rate`) or bring a history in (`/import`). When no taste
prior is installed, the answer also tells the bot's admin how to install one.
"""

from __future__ import annotations

from bot.i18n import N_, _, ngettext

FIND_AND_RATE = N_("rate a few movies you've seen with `/rate` (find titles with "
                   "`/movies search`, or `/import` your Letterboxd or IMDb history)")
PRIOR_HINT = N_("Bot admins: `python -m bot prior download small` installs a taste prior, "
                "which helps new servers get good picks sooner.")
# What first ratings give (`first_ratings`'s `what`), translated where shown.
WHAT = (N_("personal picks"), N_("a movie night"))


def with_prior_hint(text: str, prior_installed: bool) -> str:
    """`text`, plus the admins' hint on a line of its own when no prior is installed."""
    return text if prior_installed else f"{text}\n*{_(PRIOR_HINT)}*"


def first_ratings(what: str, minimum: int | None = None) -> str:
    """Nobody in the server has rated anything: be the first. `what`: what the ratings will
    give (one of WHAT: "personal picks", "a movie night"); `minimum`: the ratings that unlock
    it."""
    if minimum:
        then = ngettext("{n} rating unlocks {what}", "{n} ratings unlock {what}",
                        minimum).format(n=minimum, what=_(what))
    else:
        then = _("then I can plan {what}").format(what=_(what))
    return _("Nobody in this server has rated a movie yet, so I have no picks to show. Be the "
             "first: {find_and_rate} and ask the others to do the same; {then}.").format(
        find_and_rate=_(FIND_AND_RATE), then=then)
