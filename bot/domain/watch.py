"""Where a movie can be watched (TMDB's watch providers, data by JustWatch) and what a TMDB
release says about its age rating: the shapes the details cache keeps, and the rules read
from them.

`Providers` is {region (ISO 3166-1): {kind: [service names]}} with kind one of `KINDS`
(flatrate = in a subscription, free, ads, rent, buy). `Certifications` is {region: rating}
(the theatrical release's, else the first one listed). TMDB's terms require crediting
JustWatch wherever providers are shown: `JUSTWATCH` is that line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from bot.i18n import N_, _

KINDS = ("flatrate", "free", "ads", "rent", "buy")
# Shown to members: marked here, translated where shown (`_`).
KIND_LABELS = {"flatrate": N_("stream"), "free": N_("free"), "ads": N_("free with ads"),
               "rent": N_("rent"), "buy": N_("buy")}
JUSTWATCH = N_("Where to watch: data by JustWatch.")
MAX_NAME = 60

Providers = dict[str, dict[str, list[str]]]
Certifications = dict[str, str]


def parse_providers(data: Any) -> Providers:
    """TMDB's `watch/providers` `results` ({region: {link, flatrate: [{provider_name}], ...}})
    as `Providers` (names only, in TMDB's display order)."""
    out: Providers = {}
    if not isinstance(data, Mapping):
        return out
    for region, offers in data.items():
        if not (isinstance(region, str) and len(region) == 2 and isinstance(offers, Mapping)):
            continue
        kinds: dict[str, list[str]] = {}
        for kind in KINDS:
            entries = offers.get(kind)
            if not isinstance(entries, list):
                continue
            ranked = sorted((e for e in entries if isinstance(e, Mapping)),
                            key=lambda e: e.get("display_priority", 999)
                            if isinstance(e.get("display_priority"), int) else 999)
            names = [str(e["provider_name"])[:MAX_NAME] for e in ranked
                     if isinstance(e.get("provider_name"), str)]
            if names:
                kinds[kind] = list(dict.fromkeys(names))
        if kinds:
            out[region.upper()] = kinds
    return out


def parse_certifications(data: Any) -> Certifications:
    """TMDB's `release_dates` `results` ([{iso_3166_1, release_dates: [{certification,
    type}]}]) as {region: rating}: the theatrical (type 3) rating, else the first given."""
    out: Certifications = {}
    if not isinstance(data, list):
        return out
    for entry in data:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("iso_3166_1"), str):
            continue
        dates = [d for d in entry.get("release_dates") or [] if isinstance(d, Mapping)
                 and isinstance(d.get("certification"), str) and d["certification"].strip()]
        if not dates:
            continue
        theatrical = [d for d in dates if d.get("type") == 3]
        out[entry["iso_3166_1"].upper()] = (theatrical or dates)[0]["certification"].strip()[:20]
    return out


def to_json(value: Mapping[str, Any]) -> str | None:
    return json.dumps(value, separators=(",", ":"), sort_keys=True) if value else None


def providers_from_json(text: str | None) -> Providers:
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return parse_providers_stored(found)


def parse_providers_stored(found: Any) -> Providers:
    if not isinstance(found, dict):
        return {}
    return {str(region): {str(k): [str(n) for n in v if isinstance(n, str)]
                          for k, v in kinds.items() if isinstance(v, list)}
            for region, kinds in found.items() if isinstance(kinds, dict)}


def certifications_from_json(text: str | None) -> Certifications:
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v) for k, v in found.items() if isinstance(v, str)}


def _fold(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def on_services(providers: Providers, region: str, services: Iterable[str]) -> list[str]:
    """The server's services (as the server named them) that stream the movie in `region`
    (in a subscription, free or with ads; renting and buying do not count). A service matches
    a provider whose name starts with it, ignoring case, spaces and punctuation ("Disney
    Plus" = "Disney+"... as far as the letters go: "disneyplus" vs "disney" -> prefix)."""
    offers = providers.get(region.upper(), {})
    streaming = [_fold(n) for kind in ("flatrate", "free", "ads") for n in offers.get(kind, [])]
    found = []
    for service in services:
        key = _fold(service)
        if key and any(name.startswith(key) or key.startswith(name) for name in streaming
                       if name):
            found.append(service)
    return found


def where_to_watch(providers: Providers, region: str, limit: int = 4) -> str:
    """"stream: Netflix, Max · rent: Apple TV" for `region`; "" when TMDB lists nothing."""
    offers = providers.get(region.upper(), {})
    parts = []
    for kind in KINDS:
        names = offers.get(kind) or []
        if names:
            more = f" +{len(names) - limit}" if len(names) > limit else ""
            parts.append(f"{_(KIND_LABELS[kind])}: {', '.join(names[:limit])}{more}")
    return " · ".join(parts)
