"""Guild settings declared once (`bot.domain.guild_settings`): the one validator (used by the
settings service and both storage backends), the stored row, the docs table, and `/settings`
built from the declarations."""

from __future__ import annotations

import pytest

from bot.domain.errors import DomainError
from bot.domain.guild_settings import (
    GUILD_SETTINGS,
    SETTINGS,
    check_changes,
    settings_from_row,
    settings_table,
)
from bot.domain.models import GuildSettings
from bot.service.guild_settings import MODEL_SETTINGS, RANGES, RESET_VALUES
from cogs.settings import RESET_CHOICES, Settings


def test_every_declaration_is_a_guild_settings_field_with_its_default():
    fields = [name for name in GuildSettings.__dataclass_fields__ if name != "guild_id"]
    assert [setting.name for setting in GUILD_SETTINGS] == fields
    defaults = GuildSettings(1)
    for setting in GUILD_SETTINGS:
        assert getattr(defaults, setting.name) == setting.default, setting.name


@pytest.mark.parametrize(("changes", "message"), [
    ({"add_movie_permission": "admins"}, "Who can add movies must be moderators or everyone."),
    ({"ratings_visible": 1}, "`ratings_visible` must be true or false."),
    ({"features": 0}, "`features` must be between 2 and 50."),
    ({"features": 51}, "`features` must be between 2 and 50."),
    ({"features": 4.5}, "`features` must be a whole number between 2 and 50."),
    ({"features": True}, "`features` must be a whole number between 2 and 50."),
    ({"regularization": -1.0}, "`regularization` must be between 0.01 and 100."),
    ({"regularization": float("nan")}, "`regularization` must be between 0.01 and 100."),
    ({"regularization": "2"}, "`regularization` must be a number between 0.01 and 100."),
    ({"colour": "red"}, "unknown guild setting: colour"),
])
def test_bad_values_are_refused_with_a_message_for_the_member(changes, message):
    with pytest.raises(DomainError) as caught:
        check_changes(changes)
    assert str(caught.value) == message


def test_good_values_are_normalised_and_none_resets_a_number():
    assert check_changes({"add_movie_permission": "everyone", "ratings_visible": False,
                          "min_ratings_for_personal": 1, "features": 50,
                          "regularization": 2}) == {
        "add_movie_permission": "everyone", "ratings_visible": False,
        "min_ratings_for_personal": 1, "features": 50, "regularization": 2.0}
    assert check_changes({"features": None}) == {"features": None}
    with pytest.raises(DomainError):
        check_changes({"ratings_visible": None})


def test_a_stored_row_reads_back_in_declaration_order():
    assert settings_from_row(7, None) == GuildSettings(7)
    assert settings_from_row(7, ("everyone", 0, 5, 12, 2.0, "Europe/Berlin", "DE",
                                 "Netflix", 15, "de")) == GuildSettings(
        7, "everyone", False, 5, 12, 2.0, "Europe/Berlin", "DE", "Netflix", 15, "de")


def test_the_service_reads_the_declarations():
    assert {s.name: s.bounds for s in GUILD_SETTINGS if s.bounds} == RANGES
    assert {"features", "regularization"} == MODEL_SETTINGS
    assert RESET_VALUES == {"add_movie_permission": "manage_guild", "ratings_visible": True,
                            "min_ratings_for_personal": None, "features": None,
                            "regularization": None, "timezone": "", "region": "",
                            "services": "", "reminder_minutes": 30, "language": "en"}


def test_the_settings_command_is_built_from_the_declarations():
    command = Settings.settings
    params = {p.name: p for p in command.parameters}
    assert set(params) == {s.option for s in GUILD_SETTINGS} | {"reset"}
    for setting in GUILD_SETTINGS:
        param = params[setting.option]
        assert param.description == setting.help, setting.name
        if setting.bounds is not None:
            assert (param.min_value, param.max_value) == setting.bounds, setting.name
        if setting.choices:
            assert [(c.value, c.name) for c in param.choices] == list(setting.choices)
    assert [c.value for c in RESET_CHOICES] == ["all", *SETTINGS]


def test_timezone_region_and_services_are_checked_and_normalised():
    assert check_changes({"timezone": "europe/berlin", "region": "de",
                          "services": " Netflix ,netflix, Disney  Plus,"}) == {
        "timezone": "Europe/Berlin", "region": "DE", "services": "Netflix, Disney Plus"}
    assert check_changes({"timezone": ""}) == {"timezone": ""}
    for bad in ({"timezone": "Mars/Olympus"}, {"region": "Germany"},
                {"services": "x" * 41}, {"reminder_minutes": 1441}):
        with pytest.raises(DomainError):
            check_changes(bad)


def test_the_docs_table_has_a_row_per_setting():
    table = settings_table()
    lines = table.splitlines()
    assert len(lines) == 2 + len(GUILD_SETTINGS)
    for setting, line in zip(GUILD_SETTINGS, lines[2:], strict=True):
        assert line.startswith(f"| `{setting.option}` |")
    assert "| `features` | whole number | `[recommender] features` | 2 to 50 |" in table
    assert "Moderators (Manage Server), Everyone" in table
