"""End-to-end (issue 27 item 1): a member whose Discord client is German sees German command
names and a German /help; the emulator sends each interaction's `locale` (the member's client
language) and finds a command by the name that client shows. A member whose language the bot
does not speak gets the server's `/settings language:`; one whose language it speaks keeps it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Env


def _command(env: Env, name: str) -> dict:
    return next(c for c in env.emu.registered_commands(env.guild) if c["name"] == name)


async def test_the_sync_carries_the_localised_names_and_descriptions(env: Env) -> None:
    rate = _command(env, "rate")
    assert rate["name_localizations"]["de"] == "bewerten"
    assert rate["name_localizations"]["fr"] == "noter"
    assert rate["name_localizations"]["es-ES"] == rate["name_localizations"]["es-419"] == "valorar"
    assert rate["description_localizations"]["de"].startswith("Bewerte einen Film")
    movie = next(o for o in rate["options"] if o["name"] == "movie")
    assert movie["name_localizations"]["de"] == "film"
    assert "en-US" not in rate["name_localizations"]  # English is the name itself
    settings = _command(env, "settings")
    reset = next(o for o in settings["options"] if o["name"] == "reset")
    everything = next(c for c in reset["choices"] if c["value"] == "all")
    assert everything["name_localizations"]["de"] == "Alles"


async def test_a_german_client_sees_german_command_names_and_a_german_help(env: Env) -> None:
    env.alice.user.locale = "de"
    inter = await env.slash(env.alice, "hilfe")  # the name a German client shows
    assert inter.payload["locale"] == "de" and inter.payload["data"]["name"] == "help"
    reply = await env.answer(inter)
    assert reply.ephemeral
    assert reply.embed["title"] == "Befehle"
    lines = reply.embed["description"].splitlines()
    assert "`/bewerten film punkte` — Bewerte einen Film von 1 (furchtbar) bis 10 " \
           "(Lieblingsfilm)" in lines
    assert any(line.startswith("`/filme suchen suchbegriff` — ") for line in lines)
    assert any(line.startswith("`/hilfe` — ") for line in lines)
    assert not any(line.startswith("`/rate ") for line in lines)
    assert reply.embed["footer"]["text"].startswith("Filmoptionen")
    # The same command for an English client: English.
    english = await env.run(env.bob, "help")
    assert english.embed["title"] == "Commands"
    assert "`/rate movie score` — Rate a movie from 1 (awful) to 10 (a favourite)" in \
        english.embed["description"].splitlines()


async def test_german_option_names_reach_the_command(env: Env) -> None:
    env.alice.user.locale = "de"
    reply = await env.run(env.alice, "bewerten", film="Alien", punkte=8)
    assert await env.storage.get_rating(env.guild.id, env.alice.id,
                                        (await env.movie("Alien")).id) == 8, reply.content


async def test_the_server_language_is_the_fallback_for_a_language_the_bot_lacks(
        env: Env) -> None:
    reply = await env.run(env.admin, "settings", language="de")
    assert reply.embed["title"] == "Settings updated"  # the admin's own client is English
    fields = {f["name"]: f["value"] for f in reply.embed["fields"]}
    assert fields["Language"] == "Deutsch"
    env.alice.user.locale = "ja"  # no Japanese catalog: the server's German
    about = await env.run(env.alice, "about")
    assert about.embed["title"] == "Film-Bot"
    env.bob.user.locale = "fr"  # French is spoken: the member's own language wins
    assert (await env.run(env.bob, "about")).embed["title"] == "Bot de films"
    env.carol.user.locale = "en-GB"
    assert (await env.run(env.carol, "about")).embed["title"] == "Movie bot"


async def test_replies_and_errors_speak_the_members_language(env: Env) -> None:
    env.alice.user.locale = "de"
    reply = await env.run(env.alice, "bewerten", film="Alien", punkte=8)
    assert reply.content.startswith("**Alien (1979)** mit 8/10 bewertet."), reply.content
    unknown = await env.run(env.alice, "bewerten", film="Qwxzv Nothing", punkte=8)
    assert unknown.ephemeral and unknown.content.startswith(
        "Ich kenne keinen Film namens „Qwxzv Nothing“."), unknown.content
    refused = await env.run(env.alice, "einstellungen", sprache="fr")
    assert refused.content == ("Du brauchst die Berechtigung „Server verwalten“, um die "
                               "Servereinstellungen zu ändern."), refused.content
    env.bob.user.locale = "es-ES"
    removed = await env.run(env.bob, "quitar-valoración", película="Alien")
    assert removed.content == "No has valorado **Alien (1979)**, así que no hay nada que quitar."


async def test_recommend_speaks_german_from_the_empty_state_to_the_picks(env: Env) -> None:
    env.carol.user.locale = "de"
    empty = await env.run(env.carol, "empfehlen")
    assert empty.content.startswith("Auf diesem Server hat noch niemand einen Film bewertet"), \
        empty.content
    assert "`/bewerten`" in empty.content
    await env.seed(env.guild, {env.alice.id: {"Star Wars": 9, "Alien": 8, "Casablanca": 3},
                               env.bob.id: {"Star Wars": 8, "Alien": 9, "Jaws": 8}})
    await env.run(env.carol, "bewerten", film="Star Wars", punkte=9)
    await env.train(env.guild)
    picks = await env.run(env.carol, "empfehlen")
    assert picks.embed is not None, picks.content
    assert picks.embed["title"] in ("Deine Tipps", "Beliebt auf diesem Server")
    assert "Sortiert danach" in picks.embed["footer"]["text"]


async def test_setup_checklist_in_german(env: Env) -> None:
    env.admin.user.locale = "de"
    reply = await env.run(env.admin, "einrichtung")
    assert reply.embed["title"] == "Einrichtungs-Checkliste"
    fields = {f["name"]: f["value"] for f in reply.embed["fields"]}
    prior = next(value for name, value in fields.items() if "Geschmacksmodell" in name)
    assert prior.startswith("Nicht installiert.") and "python -m bot prior download small" in prior
    assert any("Berechtigungen des Bots in diesem Kanal" in name for name in fields)


async def test_an_import_is_previewed_and_refused_in_the_members_language(env: Env) -> None:
    """The file is read on the import thread: its refusals (a bad row's line, a file it does
    not read) and the format's name still speak the member's language."""
    env.alice.user.locale = "de"
    bad = await env.run(env.alice, "import", file=(
        "ratings.csv", b"Date,Name,Year,Letterboxd URI,Rating\n2024,Alien,19x9,u,4\n"))
    assert bad.ephemeral and bad.content == "ratings.csv, Zeile 2: „19x9“ ist keine Jahreszahl.", \
        bad.content
    env.bob.user.locale = "fr"
    unknown = await env.run(env.bob, "import", file=("notes.csv", b"a;b\n1;2\n"))
    assert unknown.content.startswith("notes.csv n'est pas un fichier que je sais lire"), \
        unknown.content
    good = await env.run(env.alice, "import", file=(
        "ratings.csv", b"Date,Name,Year,Letterboxd URI,Rating\n2024,Alien,1979,u,4\n"))
    assert good.content.startswith("**Letterboxd-Bewertungen**: 1 Zeile gelesen"), good.content


async def test_genres_are_shown_and_typed_in_the_members_language(env: Env) -> None:
    """The MovieLens genres are stored in English and shown in the reader's language; a member
    types them in theirs (autocomplete offers the translated name for the stored value)."""
    env.alice.user.locale = "de"
    info = await env.run(env.alice, "movies info", movie="Alien")
    fields = {f["name"]: f["value"] for f in info.embed["fields"]}
    assert fields["Genres"] == "Horror, Science-Fiction", fields
    choices = await (await env.emu.autocomplete(env.alice, env.channel, "movies top", "genre",
                                                genre="kom")).response()
    assert {"name": "Komödie", "value": "Comedy"} in choices.choices, choices.choices
    await env.seed(env.guild, {env.bob.id: {"Casablanca": 9}, env.carol.id: {"Casablanca": 8}},
                   train=False)
    top = await env.run(env.alice, "movies top", genre="Liebesfilm")  # typed, not picked
    assert top.embed["title"] == "Top-Filme im Genre Liebesfilm hier", top.embed
    env.bob.user.locale = "fr"
    unknown = await env.run(env.bob, "movies top", genre="Opéra")
    assert "Comédie" in unknown.content and "Comedy" not in unknown.content, unknown.content
