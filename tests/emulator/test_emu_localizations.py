"""The emulator checks command localisations as Discord does (names: lowercase letters,
digits, - and _, 1-32 characters; descriptions 1-100; only Discord's locales) and finds a
command by the name a member's client language shows."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import DiscordEmulator
from emulator.limits import command_errors, flatten


def _command(**extra: Any) -> dict[str, Any]:
    return {"name": "rate", "description": "Rate a movie", "type": 1,
            "options": [{"name": "movie", "description": "The movie", "type": 3,
                         "name_localizations": {"de": "film"}}], **extra}


def test_valid_localisations_pass() -> None:
    assert command_errors(_command(name_localizations={"de": "bewerten", "es-419": "valorar",
                                                       "fr": "à-propos"},
                                   description_localizations={"de": "Bewerte einen Film"})) \
        is None


@pytest.mark.parametrize("bad", ["Bewerten", "zwei wörter", "x" * 33, "bewerten!", ""])
def test_a_bad_localised_name_is_refused(bad: str) -> None:
    errors = command_errors(_command(name_localizations={"de": bad}))
    assert errors and any(line.startswith("name_localizations.de:") for line in flatten(errors))


def test_a_bad_option_name_locale_or_description_is_refused() -> None:
    command = _command(description_localizations={"xx": "?", "fr": "d" * 101})
    command["options"][0]["name_localizations"] = {"de": "Film"}
    lines = flatten(command_errors(command) or {})
    assert any(line.startswith("description_localizations.xx:") for line in lines)
    assert any(line.startswith("description_localizations.fr:") for line in lines)
    assert any(line.startswith("options.0.name_localizations.de:") for line in lines)


def test_an_invalid_base_name_is_refused() -> None:
    assert "name: Command name is invalid" in flatten(command_errors(_command(name="Rate")) or {})


def test_find_command_by_the_members_localised_name() -> None:
    emu = DiscordEmulator()
    emu.commands[None] = [{**_command(name_localizations={"de": "bewerten"}), "id": "1"}]
    assert emu.find_command("bewerten", None, "de")["name"] == "rate"
    assert emu.find_command("rate", None, "de")["name"] == "rate"
    with pytest.raises(LookupError):
        emu.find_command("bewerten", None, "fr")
    with pytest.raises(LookupError):
        emu.find_command("bewerten")
