"""End-to-end: /settings through the Discord emulator (Manage Server checked in the bot)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Env


def _fields(reply) -> dict[str, str]:
    return {f["name"]: f["value"] for f in reply.embed["fields"]}


def _raw(**values) -> list[dict]:
    types = {str: 3, int: 4, float: 10, bool: 5}
    return [{"name": k, "type": types[type(v)], "value": v} for k, v in values.items()]


async def test_settings_is_registered_for_managers_with_bounded_options(env: Env) -> None:
    command = env.emu.find_command("settings", env.guild)
    assert str(command["default_member_permissions"]) == "32"  # Manage Server
    options = {o["name"]: o for o in command["options"]}
    assert set(options) == {"add_movies", "ratings_visible", "min_ratings", "features",
                            "regularization", "timezone", "region", "services",
                            "reminder_minutes", "language", "reset"}
    assert all(o["description"] for o in options.values())
    assert [c["value"] for c in options["add_movies"]["choices"]] == ["manage_guild",
                                                                      "everyone"]
    assert (options["min_ratings"]["min_value"], options["min_ratings"]["max_value"]) == (1, 50)
    assert (options["features"]["min_value"], options["features"]["max_value"]) == (2, 50)
    assert (options["regularization"]["min_value"],
            options["regularization"]["max_value"]) == (0.01, 100.0)


async def test_timezone_region_services_and_reminder(env: Env) -> None:
    suggested = await env.emu.autocomplete(env.admin, env.channel, "settings",
                                           focused="timezone", timezone="berl")
    assert "Europe/Berlin" in (await suggested.response()).choice_names
    reply = await env.run(env.admin, "settings", timezone="europe/berlin", region="de",
                          services="Netflix, *Disney*", reminder_minutes=15)
    fields = _fields(reply)
    assert fields["Timezone"] == "Europe/Berlin" and fields["Region"] == "DE"
    assert fields["Streaming services"] == "Netflix, \\*Disney\\*"
    assert fields["Movie-night reminder"] == "15 (set here)"
    current = await env.storage.get_guild_settings(env.guild.id)
    assert (current.timezone, current.region, current.services, current.reminder_minutes) == (
        "Europe/Berlin", "DE", "Netflix, *Disney*", 15)
    bad = await env.run(env.admin, "settings", timezone="Mars/Olympus")
    assert bad.ephemeral and "IANA name" in bad.content
    assert (await env.storage.get_guild_settings(env.guild.id)).timezone == "Europe/Berlin"


async def test_without_options_shows_the_current_settings(env: Env) -> None:
    reply = await env.run(env.admin, "settings")
    assert reply.ephemeral
    assert reply.allowed_mentions["parse"] == []
    fields = _fields(reply)
    assert fields["Who can add movies"] == "Moderators (Manage Server)"
    assert fields["Ratings visible to other members"] == "Yes"
    defaults = env.bot.settings.recommender
    assert fields["Minimum ratings for personal picks"] == \
        f"{defaults.min_ratings_for_personal} (default)"
    assert fields["Model features"] == f"{defaults.features} (default)"


async def test_manager_changes_settings(env: Env) -> None:
    reply = await env.run(env.admin, "settings", add_movies="everyone", ratings_visible=False,
                          min_ratings=5, features=12, regularization=0.5)
    assert reply.ephemeral and reply.embed["title"] == "Settings updated"
    fields = _fields(reply)
    assert fields["Who can add movies"] == "Everyone"
    assert fields["Ratings visible to other members"] == "No"
    assert fields["Minimum ratings for personal picks"] == "5 (set here)"
    assert fields["Model features"] == "12 (set here)"
    assert fields["Regularisation"] == "0.5 (set here)"
    stored = await env.storage.get_guild_settings(env.guild.id)
    assert (stored.add_movie_permission, stored.ratings_visible, stored.min_ratings_for_personal,
            stored.features, stored.regularization) == ("everyone", False, 5, 12, 0.5)
    # Other settings stay as they were when only one changes.
    again = await env.run(env.owner, "settings", ratings_visible=True)
    assert _fields(again)["Who can add movies"] == "Everyone"
    assert (await env.storage.get_guild_settings(env.guild.id)).ratings_visible is True
    # Per guild: the other guild keeps its defaults.
    assert (await env.storage.get_guild_settings(env.guild2.id)).ratings_visible is True


async def test_member_without_manage_server_is_refused(env: Env) -> None:
    for options in ({}, {"ratings_visible": False}):
        reply = await env.run(env.alice, "settings", **options)
        assert reply.ephemeral and "Manage Server" in reply.content
        assert reply.embeds == []
    assert (await env.storage.get_guild_settings(env.guild.id)).ratings_visible is True
    # The same check applies in the other guild.
    refused = await env.run(env.alice2, "settings", ratings_visible=False)
    assert "Manage Server" in refused.content
    assert (await env.storage.get_guild_settings(env.guild2.id)).ratings_visible is True


async def test_out_of_range_values_are_refused_even_from_a_modified_client(env: Env) -> None:
    for bad in ({"features": 500}, {"min_ratings": 0}, {"regularization": 0.0}):
        reply = await env.answer(await env.raw_slash(env.admin, "settings", _raw(**bad)))
        assert reply.ephemeral and "must be between" in reply.content, bad
    stored = await env.storage.get_guild_settings(env.guild.id)
    assert stored.features is None and stored.min_ratings_for_personal is None
    assert stored.regularization is None


async def test_changing_model_settings_retrains_the_model(env: Env) -> None:
    await env.seed_taste_clusters(env.guild, fans=3)
    fits = env.service.fits_completed
    reply = await env.run(env.admin, "settings", features=4)
    assert "retrained" in reply.content
    await env.service.wait_idle(env.guild.id)
    assert env.service.fits_completed > fits
    # Changing something else does not retrain.
    fits = env.service.fits_completed
    reply = await env.run(env.admin, "settings", ratings_visible=False)
    assert not reply.content
    await env.service.wait_idle(env.guild.id)
    assert env.service.fits_completed == fits


async def test_ranges_are_the_config_files(env: Env) -> None:
    # One set of ranges: what /settings offers is what [recommender] in the config accepts.
    from bot.config import _BOUNDS
    from bot.service.guild_settings import RANGES

    command = env.emu.find_command("settings", env.guild)
    options = {o["name"]: o for o in command["options"]}
    for option, key in (("min_ratings", "min_ratings_for_personal"), ("features", "features"),
                        ("regularization", "regularization")):
        bounds = (options[option]["min_value"], options[option]["max_value"])
        assert bounds == RANGES[key] == _BOUNDS[f"recommender.{key}"], option


async def test_regularisation_shows_the_auto_tuned_value_and_reset_goes_back(env: Env) -> None:
    # A small server's model picks its own regularisation; /settings shows that value, not
    # the config's, and says where it comes from.
    await env.seed_taste_clusters(env.guild, fans=3)
    fields = _fields(await env.run(env.admin, "settings"))
    tuned = fields["Regularisation"]
    assert tuned.endswith("(auto-tuned to this server's ratings)"), tuned
    model = (await env.service.models.state(env.guild.id)).model
    assert tuned.startswith(f"{model.config.reg:.3g} ")
    assert fields["Model features"] == f"{env.bot.settings.recommender.features} (default)"

    reply = await env.run(env.admin, "settings", regularization=2.5, features=6)
    assert _fields(reply)["Regularisation"] == "2.5 (set here)"
    await env.service.wait_idle(env.guild.id)

    reply = await env.run(env.admin, "settings", reset="regularization")
    assert "retrained" in reply.content
    assert (await env.storage.get_guild_settings(env.guild.id)).regularization is None
    assert _fields(reply)["Model features"] == "6 (set here)"  # only what was asked
    await env.service.wait_idle(env.guild.id)
    assert _fields(await env.run(env.admin, "settings"))["Regularisation"].endswith(
        "(auto-tuned to this server's ratings)")

    await env.run(env.admin, "settings", ratings_visible=False, min_ratings=7)
    reply = await env.run(env.admin, "settings", reset="all")
    stored = await env.storage.get_guild_settings(env.guild.id)
    assert (stored.features, stored.regularization, stored.min_ratings_for_personal,
            stored.ratings_visible, stored.add_movie_permission) == (
        None, None, None, True, "manage_guild")
    assert _fields(reply)["Model features"].endswith("(default)")


async def test_a_server_without_ratings_shows_the_config_default(env: Env) -> None:
    fields = _fields(await env.run(env.admin, "settings"))
    default = env.bot.settings.recommender.regularization
    assert fields["Regularisation"] == f"{default:.3g} (default)"


async def test_reset_needs_manage_server(env: Env) -> None:
    await env.run(env.admin, "settings", features=8)
    reply = await env.run(env.alice, "settings", reset="all")
    assert "Manage Server" in reply.content
    assert (await env.storage.get_guild_settings(env.guild.id)).features == 8
