"""Where to watch and age ratings from TMDB's answers (bot.domain.watch), and the JustWatch
credit that every providers field ends with (cogs.ui.tonight)."""

from __future__ import annotations

from bot.domain.watch import (
    on_services,
    parse_certifications,
    parse_providers,
    providers_from_json,
    to_json,
    where_to_watch,
)
from cogs.ui.tonight import with_credit

TMDB_PROVIDERS = {
    "US": {"link": "https://www.themoviedb.org/movie/1/watch?locale=US",
           "flatrate": [{"provider_name": "Max", "display_priority": 2},
                        {"provider_name": "Netflix", "display_priority": 1}],
           "rent": [{"provider_name": "Apple TV", "display_priority": 5}]},
    "DE": {"buy": [{"provider_name": "Google Play Movies"}]},
    "bad": {"flatrate": [{"provider_name": "x"}]},
}


def test_providers_are_parsed_in_display_order_and_matched_to_the_servers_services():
    found = parse_providers(TMDB_PROVIDERS)
    assert found == {"US": {"flatrate": ["Netflix", "Max"], "rent": ["Apple TV"]},
                     "DE": {"buy": ["Google Play Movies"]}}
    assert providers_from_json(to_json(found)) == found
    assert where_to_watch(found, "us") == "stream: Netflix, Max · rent: Apple TV"
    assert on_services(found, "US", ["netflix", "Hulu", "Apple TV"]) == ["netflix"]
    assert on_services(found, "DE", ["Google Play Movies"]) == []  # buying is not streaming


def test_the_theatrical_rating_wins():
    data = [{"iso_3166_1": "US", "release_dates": [{"certification": "", "type": 1},
                                                   {"certification": "R", "type": 3}]},
            {"iso_3166_1": "DE", "release_dates": [{"certification": "16", "type": 4}]}]
    assert parse_certifications(data) == {"US": "R", "DE": "16"}


def test_the_credit_survives_any_length():
    text = with_credit([f"**Movie {i}**: stream: " + "x" * 150 for i in range(20)])
    assert len(text) <= 1024 and text.endswith("*Where to watch: data by JustWatch.*")


def test_where_to_watch_speaks_the_readers_language() -> None:
    from bot.domain.watch import JUSTWATCH, where_to_watch
    from bot.i18n import _, speaking

    providers = {"DE": {"flatrate": ["Netflix"], "ads": ["Pluto TV"], "rent": ["Apple TV"]}}
    with speaking("de"):
        assert where_to_watch(providers, "de") == ("Streaming: Netflix · kostenlos mit Werbung: "
                                                   "Pluto TV · leihen: Apple TV")
        assert _(JUSTWATCH) == "Wo ansehen: Daten von JustWatch."
    assert where_to_watch(providers, "de").startswith("stream: Netflix · free with ads: ")
