"""`python -m bot console`: try the real bot without Discord.

Starts the local Discord emulator, a demo server ("Demo Club") whose simulated members already
rated movies, and the real bot logged into it; then reads slash commands typed as in Discord and
prints the replies as text. Interactive at a terminal; commands from stdin or `--script FILE`
work the same way (each is echoed), so it can be scripted and tested.

    /rate movie:"Toy Story 3" score:9      /recommend count:5      /movies search query:dune
    /rate movie:matr?        (a trailing ? shows the autocomplete choices instead of sending)
    press Next               select "Toy Story 3"      as ana /recommend      help      quit
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import random
import re
import shlex
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import Settings, TrainingSettings

log = logging.getLogger(__name__)

DEMO_MEMBERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (genres they love, genres they dislike)
    "ana": (("Animation", "Children", "Fantasy"), ("Horror", "War")),
    "ben": (("Action", "Sci-Fi", "Thriller"), ("Romance", "Musical")),
    "cleo": (("Drama", "Romance", "Musical"), ("Horror", "Action")),
    "dev": (("Crime", "Thriller", "Film-Noir"), ("Children", "Musical")),
    "eli": (("Comedy", "Adventure", "Animation"), ("Drama", "War")),
    "fay": (("Horror", "Mystery", "Sci-Fi"), ("Children", "Romance")),
}
HELP = __doc__.split("\n\n", 2)[2]


async def seed_demo_ratings(storage, guild_id: int, member_ids: dict[str, int],
                            seed: int = 7) -> int:
    """Give each simulated member ratings that follow their taste (deterministic)."""
    rng = random.Random(seed)
    by_genre = {g: sorted(await storage.movie_ids_with_genre(guild_id, g))
                for g in await storage.genres(guild_id)}
    everything = sorted(set().union(*by_genre.values()))
    count = 0
    for name, (loves, dislikes) in DEMO_MEMBERS.items():
        loved = sorted(set().union(*(by_genre.get(g, []) for g in loves)))
        disliked = sorted(set().union(*(by_genre.get(g, []) for g in dislikes)) - set(loved))
        plan = ([(m, 8, 10) for m in rng.sample(loved, min(25, len(loved)))]
                + [(m, 2, 4) for m in rng.sample(disliked, min(10, len(disliked)))]
                + [(m, 5, 7) for m in rng.sample(everything, 10)])
        rated: set[int] = set()
        for movie_id, low, high in plan:
            if movie_id not in rated:
                rated.add(movie_id)
                await storage.upsert_rating(guild_id, member_ids[name], movie_id,
                                            rng.randint(low, high))
                count += 1
    return count


class Console:
    """The prompt loop: turns typed lines into emulator interactions and prints replies."""

    def __init__(self, emu, guild, channel, you, out=sys.stdout) -> None:
        self.emu = emu
        self.guild = guild
        self.channel = channel
        self.you = you
        self.out = out
        self.last = None  # the last message with components

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def member(self, name: str):
        name = name.lstrip("@").lower()
        for member in self.guild.members.values():
            if member.user.username.lower() == name:
                return member
        raise ValueError(f"no member called {name!r}; try: "
                         + ", ".join(m.user.username for m in self.guild.members.values()
                                     if not m.user.bot))

    def _value(self, raw: str) -> Any:
        if raw.startswith("@"):
            return self.member(raw)
        if raw.startswith("#"):
            for channel in self.guild.channels.values():
                if channel.name.lower() == raw[1:].lower():
                    return channel
        # member names inside text ("@ana @ben") become real mentions
        return re.sub(r"@(\w+)", lambda m: self._mention(m), raw)

    def _mention(self, match: re.Match) -> str:
        try:
            return f"<@{self.member(match.group(1)).id}>"
        except ValueError:
            return match.group(0)

    async def handle(self, line: str) -> bool:
        """Run one line; False when the person asked to quit."""
        line = line.strip()
        if not line or line.startswith("//"):
            return True
        words = line.split(maxsplit=2)
        actor = self.you
        if words[0] == "as" and len(words) == 3:
            actor = self.member(words[1])
            line = words[2]
        try:
            if line in ("quit", "exit"):
                return False
            if line == "help":
                self.print(HELP)
            elif line.startswith("/"):
                await self.slash(actor, line[1:])
            elif line.startswith(("press ", "click ")):
                await self.press(actor, line.split(maxsplit=1)[1])
            elif line.startswith("select "):
                await self.choose(actor, line.split(maxsplit=1)[1])
            else:
                self.print("Type a slash command like /recommend, 'press Label', 'help' or 'quit'.")
        except (ValueError, LookupError) as error:
            self.print(f"! {error}")
        return True

    async def slash(self, actor, text: str) -> None:
        tokens = shlex.split(text)
        path, options, focused = [], {}, None
        for token in tokens:
            if ":" in token:
                name, raw = token.split(":", 1)
                if raw.endswith("?"):
                    focused, raw = name, raw[:-1]
                options[name] = self._value(raw)
            elif options:
                raise ValueError(f"expected option:value, got {token!r}")
            else:
                path.append(token)
        command = " ".join(path)
        if focused is not None:
            inter = await self.emu.autocomplete(actor, self.channel, command, focused=focused,
                                                **options)
            reply = await inter.response(timeout=10)
            names = reply.choice_names or ["(no suggestions)"]
            self.print("\n".join(f"  {name}" for name in names))
            return
        inter = await self.emu.slash(actor, self.channel, command, **options)
        await self.show(actor, inter)

    async def show(self, actor, inter) -> None:
        reply = await inter.response(timeout=30)
        if reply.type == 9 and reply.modal:  # a form: ask for each field
            await self.fill_modal(actor, reply.modal)
            return
        if reply.deferred:
            reply = await inter.wait_final(timeout=60)
        if reply.type in (6, 7):  # the original message was updated in place
            updated = inter.final() or self.emu.message(self.last.id) if self.last else None
            reply = updated or reply
        self.render(reply)
        for extra in inter.followup_replies:
            self.render(extra)

    def render(self, reply) -> None:
        header = "(only you can see this)" if reply.ephemeral else ""
        text = reply.rendered_text().strip()
        self.print("\n".join(filter(None, [header, text])) or "(empty reply)")
        for attachment in reply.attachments:
            self.print(f"[attachment {attachment.filename}]\n{attachment.text}")
        if reply.components:
            self.last = reply

    def _components(self) -> list[dict]:
        if self.last is None:
            raise LookupError("there is no message with buttons to use")
        message = self.emu.message(self.last.id) if self.last.id else None
        self.last = message or self.last
        return self.last.walk_components()

    async def press(self, actor, label: str) -> None:
        label = label.strip().strip('"')
        for comp in self._components():
            if comp.get("type") == 2 and comp.get("label", "").lower() == label.lower():
                if comp.get("disabled"):
                    raise LookupError(f"[{comp['label']}] is disabled")
                inter = await self.emu.click(actor, self.last, comp["custom_id"])
                await self.show(actor, inter)
                return
        raise LookupError(f"no button labelled {label!r}")

    async def choose(self, actor, label: str) -> None:
        label = label.strip().strip('"').lower()
        for comp in self._components():
            if comp.get("type") != 3:
                continue
            for option in comp.get("options", []):
                if option["label"].lower() == label or option["label"].lower().startswith(label):
                    inter = await self.emu.select(actor, self.last, comp["custom_id"],
                                                  [option["value"]])
                    await self.show(actor, inter)
                    return
        raise LookupError(f"no menu option {label!r}")

    async def fill_modal(self, actor, modal: dict) -> None:
        self.print(f"[form] {modal.get('title', '')}")
        answers = {}
        for row in modal.get("components", []):
            for field in row.get("components", [row]):
                if "custom_id" not in field:
                    continue
                label = field.get("label", field["custom_id"])
                answers[field["custom_id"]] = await self.ask(f"  {label}: ")
        inter = await self.emu.submit_modal(actor, self.channel, modal["custom_id"], answers)
        await self.show(actor, inter)

    async def ask(self, prompt: str) -> str:
        line = await _read_line(prompt, self.interactive)
        if line is None:
            raise LookupError("input ended inside a form")
        if not self.interactive:
            self.print(f"{prompt}{line.strip()}")
        return line.strip()

    interactive = False


async def _read_line(prompt: str, interactive: bool, source=None) -> str | None:
    """One line from the terminal or the script, read off the event loop."""
    source = source or sys.stdin
    loop = asyncio.get_running_loop()
    if interactive:
        try:
            return await loop.run_in_executor(None, input, prompt)
        except EOFError:
            return None
    line = await loop.run_in_executor(None, source.readline)
    return line if line else None


async def run_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.client import create_bot
    from bot.storage import Storage
    from emulator import DiscordEmulator, quiet_discord_logging, running_bot

    quiet_discord_logging(logging.ERROR)
    logging.getLogger().setLevel(logging.WARNING if not args.verbose else logging.INFO)
    with tempfile.TemporaryDirectory(prefix="moviebot-console-") as tmp:
        database = Path(args.database) if args.database else Path(tmp) / "console.sqlite3"
        async with DiscordEmulator() as emu:
            guild = emu.world.create_guild("Demo Club", owner="you",
                                           voice_channels=("Cinema",))
            channel = guild.channel("general")
            members = {name: guild.add_member(name) for name in DEMO_MEMBERS}
            guild.join_voice(members["ana"], guild.channel("Cinema"))
            guild.join_voice(members["ben"], guild.channel("Cinema"))
            console_settings = replace(
                settings, database=database, token="console", dev_guild_id=guild.id,
                training=TrainingSettings(debounce_seconds=1.0))
            storage = await Storage.open(database)
            try:
                from bot.catalog.starter import ensure_starter_catalog

                await ensure_starter_catalog(storage)
                if len((await storage.guild_ratings(guild.id)).scores) == 0:
                    await seed_demo_ratings(storage, guild.id,
                                            {n: m.id for n, m in members.items()})
            finally:
                await storage.close()
            bot = create_bot(console_settings, guild_ready_timeout=0.1)
            async with running_bot(bot, emu, token="console"):
                console = Console(emu, guild, channel, guild.owner)
                console.interactive = args.script is None and sys.stdin.isatty()
                source = sys.stdin
                if args.script:
                    text = await asyncio.to_thread(Path(args.script).read_text, "utf-8")
                    source = io.StringIO(text)
                console.print("Movie bot console: you are 'you' in the server 'Demo Club' "
                              f"with {', '.join(DEMO_MEMBERS)}. Type 'help' for examples.")
                while True:
                    line = await _read_line("you> ", console.interactive, source)
                    if line is None:
                        break
                    if not console.interactive:
                        console.print(f"you> {line.rstrip()}")
                    if not await console.handle(line):
                        break
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "console", help="try the bot without Discord (local emulator, demo server)")
    parser.add_argument("--script", help="read commands from this file instead of stdin")
    parser.add_argument("--database", help="keep the demo database here (default: temporary)")
    parser.add_argument("--verbose", action="store_true", help="show the bot's log lines")
    parser.set_defaults(func=run_console)
