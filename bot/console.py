"""`python -m bot console`: try the real bot without Discord.

Starts the local Discord emulator, a demo server ("Demo Club") whose simulated members already
rated movies, and the real bot logged into it; then reads slash commands typed as in Discord and
prints the replies as text. Interactive at a terminal (line editing and history when `readline`
is available, Tab completes commands and member names, Ctrl-C cancels a waiting command or
quits); commands from stdin or `--script FILE` work the same way (each line is echoed, and the
line after one that opens a form answers the form's field), so it can be scripted and tested.
The console exits 0 at the end of its input or on `quit`. The /recommend cooldown is off unless
`--cooldown` is given, so a script can ask for picks back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import queue
import random
import re
import shlex
import signal
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import Settings

log = logging.getLogger(__name__)

# Two simulated members per taste (ana and gus, ben and hana, ...): name -> (genres they love,
# genres they dislike).
TASTES = {
    "family": (("Animation", "Children", "Fantasy"), ("Horror", "War")),
    "action": (("Action", "Sci-Fi", "Thriller"), ("Romance", "Musical")),
    "romance": (("Drama", "Romance", "Musical"), ("Horror", "Action")),
    "crime": (("Crime", "Thriller", "Film-Noir"), ("Children", "Musical")),
    "comedy": (("Comedy", "Adventure"), ("Drama", "War")),
    "horror": (("Horror", "Mystery", "Sci-Fi"), ("Children", "Romance")),
}
DEMO_MEMBERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = dict(zip(
    ("ana", "ben", "cleo", "dev", "eli", "fay", "gus", "hana", "ivo", "jo", "kai", "lea"),
    [taste for _ in range(2) for taste in TASTES.values()], strict=True))
# A real server rates overlapping movies: the members rate from one shared pool, which is what
# lets collaborative filtering learn their tastes.
DEMO_POOL_SIZE = 120
DEMO_RATINGS_PER_MEMBER = 45

EXAMPLES = """\
Type slash commands as in Discord; options are name:value (quote values with spaces).
  /rate movie:"Toy Story 3" score:9     /recommend count:5        /recommend genre:Comedy
  /rate movie:matr?                     (a trailing ? lists the autocomplete suggestions)
  /movies search query:dune             /movies info movie:"The Matrix"     /ratings
  /recommend group:"@ana @ben"          /recommend voice:Cinema   (ana and ben are in Cinema)
  press Show more                       click a button on the last message that has buttons
  select "The Matrix"   select #2       pick a menu option (a prefix or its number); a form
                                        then asks for each field on the next line(s)
  as ana /ratings                       run one command as another member
  as ana                                switch to ana until 'as you'
  help    quit (or Ctrl-D)"""

# Discord option types (application command option type ids).
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10
# Interaction callback types.
DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL = 5, 6, 7, 9

CALLBACK_TIMEOUT = 15.0  # Discord gives a bot 3 s; the console is patient while a model trains
ANSWER_TIMEOUT = 60.0  # after "thinking…"
HISTORY_FILE = Path("~/.moviebot_console_history")
OPTION_RE = re.compile(r"^([A-Za-z0-9_-]+):(.*)$", re.DOTALL)
MENTION_RE = re.compile(r"(?<![\w<])@([A-Za-z0-9_.]+)")


class ConsoleError(Exception):
    """Something the person typed that cannot be sent; printed as one '! ...' line."""


async def seed_demo_ratings(storage, guild_id: int, member_ids: dict[str, int],
                            seed: int = 7) -> int:
    """Give each simulated member ratings that follow their taste (deterministic)."""
    rng = random.Random(seed)
    genres_of: dict[int, set[str]] = {}
    for genre in await storage.genres(guild_id):
        for movie_id in await storage.movie_ids_with_genre(guild_id, genre):
            genres_of.setdefault(movie_id, set()).add(genre)
    pool = rng.sample(sorted(genres_of), min(DEMO_POOL_SIZE, len(genres_of)))
    count = 0
    for name, (loves, dislikes) in DEMO_MEMBERS.items():
        for movie_id in rng.sample(pool, min(DEMO_RATINGS_PER_MEMBER, len(pool))):
            genres = genres_of[movie_id]
            taste = 2.5 * len(genres & set(loves)) - 2.5 * len(genres & set(dislikes))
            score = round(5.5 + taste + rng.gauss(0, 1.0))
            await storage.upsert_rating(guild_id, member_ids[name], movie_id,
                                        min(10, max(1, score)))
            count += 1
    return count


class LineReader:
    """Reads lines on a daemon thread, so a blocked read never keeps the process alive.

    Interactive: `input()` (with readline editing when available). Otherwise: `readline()` on
    the source. `read()` returns None at the end of input.
    """

    def __init__(self, source: Any, interactive: bool) -> None:
        self.source = source
        self.interactive = interactive
        self._prompts: queue.Queue[tuple[str, asyncio.AbstractEventLoop, asyncio.Future]] = (
            queue.Queue())
        self._pending: asyncio.Future | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, name="console-input", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            prompt, loop, future = self._prompts.get()
            try:
                if self.interactive:
                    try:
                        line: str | None = input(prompt)
                    except EOFError:
                        line = None
                else:
                    line = self.source.readline() or None
            except Exception as error:  # a closed or undecodable input ends the session
                log.debug("input failed: %r", error)
                line = None
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(_resolve, future, line)

    async def read(self, prompt: str = "") -> str | None:
        if self._ended:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending = future
        self._prompts.put((prompt, loop, future))
        try:
            line = await future
        finally:
            self._pending = None
        if line is None:
            self._ended = True
            return None
        return line.rstrip("\r\n")

    def interrupt(self) -> bool:
        """Ctrl-C at the prompt: end the input. False when no read was waiting."""
        if self._pending is None or self._pending.done():
            return False
        self._ended = True
        self._pending.set_result(None)
        return True


def _resolve(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


class Console:
    """The prompt loop: turns typed lines into emulator interactions and prints replies."""

    def __init__(self, emu, guild, channel, you, out=None, reader: LineReader | None = None,
                 ) -> None:
        self.emu = emu
        self.guild = guild
        self.channel = channel
        self.you = you
        self.actor = you  # who types; `as NAME` changes it
        self.out = out if out is not None else sys.stdout
        self.reader = reader
        self.last = None  # the last message with components (a Reply)

    @property
    def interactive(self) -> bool:
        return self.reader is not None and self.reader.interactive

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def prompt(self) -> str:
        return f"{self.actor.user.username}> "

    # ------------------------------------------------------------------ names
    def member_names(self) -> list[str]:
        return [m.user.username for m in self.guild.members.values() if not m.user.bot]

    def member(self, name: str):
        name = name.lstrip("@").lower()
        for member in self.guild.members.values():
            if member.user.username.lower() == name and not member.user.bot:
                return member
        raise ConsoleError(f"no member called {name!r}; members: "
                           + ", ".join(self.member_names()))

    def channel_named(self, name: str):
        name = name.lstrip("#").lower()
        for channel in self.guild.channels.values():
            if channel.name.lower() == name:
                return channel
        names = ", ".join(c.name for c in self.guild.channels.values())
        raise ConsoleError(f"no channel called {name!r}; channels: {names}")

    def mentions(self, text: str) -> str:
        """'@ana @ben' -> '<@id> <@id>' for members of the server (other text unchanged)."""
        def swap(match: re.Match) -> str:
            try:
                return f"<@{self.member(match.group(1)).id}>"
            except ConsoleError:
                return match.group(0)
        return MENTION_RE.sub(swap, text)

    # ------------------------------------------------------------------ parsing
    def option_defs(self, path: list[str]) -> dict[str, dict] | None:
        """The registered options of `/path` by name; None when the emulator knows no
        commands at all (then values are guessed from their text)."""
        try:
            command = self.emu.find_command(path[0], self.guild)
        except LookupError:
            known = self.known_commands()
            if not known:
                return None
            raise ConsoleError(f"there is no command /{path[0]}; commands: "
                               + ", ".join(known)) from None
        defs = command.get("options") or []
        for word in path[1:]:
            subs = [d for d in defs if d["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
            sub = next((d for d in subs if d["name"] == word), None)
            if sub is None:
                if subs:
                    raise ConsoleError(f"/{path[0]} has no subcommand {word!r}; try one of: "
                                       + ", ".join(d["name"] for d in subs))
                example = next((f"{d['name']}:..." for d in defs), "")
                raise ConsoleError(f"unexpected {word!r}: give options as name:value"
                                   + (f", e.g. {example}" if example else
                                      f" (/{path[0]} takes no options)"))
            defs = sub.get("options") or []
        return {d["name"]: d for d in defs if d["type"] not in (SUB_COMMAND, SUB_COMMAND_GROUP)}

    def known_commands(self) -> list[str]:
        """'/name' and '/name sub' for every chat command the bot registered."""
        out: list[str] = []
        try:
            commands = self.emu.registered_commands(self.guild)
        except Exception:  # a stub emulator in unit tests
            return out
        seen = set()
        for cmd in commands:
            if cmd.get("type", 1) != 1 or cmd["name"] in seen:
                continue
            seen.add(cmd["name"])
            subs = [d["name"] for d in cmd.get("options") or [] if d["type"] == SUB_COMMAND]
            out.extend([f"/{cmd['name']} {s}" for s in subs] or [f"/{cmd['name']}"])
        return sorted(out)

    def parse(self, text: str) -> tuple[str, dict[str, Any], str | None]:
        """`rate movie:"Toy Story 3" score:9` -> ("rate", {"movie": ..., "score": 9}, None).

        A bare word after an option continues its value (`movie:Toy Story 3`); a trailing `?`
        marks the option being typed (autocomplete). Values are converted by the option's
        registered type: numbers, members (`@ana`), channels (`Cinema`), choices by name, and
        `@name` inside text becomes a real mention.
        """
        try:
            tokens = shlex.split(text)
        except ValueError as error:
            raise ConsoleError(f"cannot read that line ({error}); quote values with spaces "
                               'like movie:"Toy Story 3"') from None
        path: list[str] = []
        raw: dict[str, str] = {}
        focused = None
        current = None
        for token in tokens:
            match = OPTION_RE.match(token)
            if match:
                current = match.group(1).lower()
                raw[current] = match.group(2)
            elif current is not None:
                raw[current] += " " + token
            else:
                path.append(token.lower())
        if not path:
            raise ConsoleError("type a command name after the /, e.g. /recommend")
        for name, value in raw.items():
            if value.endswith("?"):
                if focused is not None:
                    raise ConsoleError("only one option can end with ? (the one being typed)")
                focused, raw[name] = name, value[:-1]
        defs = self.option_defs(path)
        options: dict[str, Any] = {}
        for name, value in raw.items():
            if defs is not None:
                key = name if name in defs else name.replace("_", "-")
                if key not in defs:
                    listed = ", ".join(defs) or "none"
                    raise ConsoleError(f"/{' '.join(path)} has no option {name!r} "
                                       f"(options: {listed})")
                name = key
            if name == focused:
                options[name] = value
            else:
                options[name] = self.convert(name, value, (defs or {}).get(name))
        return " ".join(path), options, focused

    def convert(self, name: str, raw: str, definition: dict | None) -> Any:
        """One option's typed text as the value Discord's client would send."""
        kind = definition["type"] if definition else None
        if kind is None:  # unknown command shape: guess from the text
            if re.fullmatch(r"@[\w.]+", raw):
                return self.member(raw)
            if re.fullmatch(r"-?\d+", raw):
                return int(raw)
            return self.mentions(raw)
        choices = definition.get("choices")
        if choices:
            for choice in choices:
                if raw.lower() in (str(choice["value"]).lower(), str(choice["name"]).lower()):
                    return choice["value"]
            listed = ", ".join(f'"{c["name"]}"' for c in choices)
            raise ConsoleError(f"{name} must be one of {listed}, not {raw!r}")
        if kind == STRING:
            return self.mentions(raw)
        if kind in (INTEGER, NUMBER):
            try:
                value: float = int(raw) if kind == INTEGER else float(raw)
            except ValueError:
                what = "a whole number" if kind == INTEGER else "a number"
                raise ConsoleError(f"{name} must be {what}, not {raw!r}") from None
            low, high = definition.get("min_value"), definition.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                span = (f"from {low} to {high}" if low is not None and high is not None
                        else f"at least {low}" if low is not None else f"at most {high}")
                raise ConsoleError(f"{name} must be {span}, not {raw} (Discord's own client "
                                   "would not send it)")
            return value
        if kind == BOOLEAN:
            if raw.lower() in ("true", "yes", "on", "1"):
                return True
            if raw.lower() in ("false", "no", "off", "0"):
                return False
            raise ConsoleError(f"{name} must be true or false, not {raw!r}")
        if kind in (USER, MENTIONABLE):
            return self.member(raw)
        if kind == CHANNEL:
            return self.channel_named(raw)
        if kind == ROLE:
            try:
                return self.guild.role(raw.lstrip("@"))
            except KeyError:
                raise ConsoleError(f"no role called {raw!r}") from None
        return raw

    # ------------------------------------------------------------------ commands
    async def handle(self, line: str) -> bool:
        """Run one line; False when the person asked to quit."""
        line = line.strip()
        if not line or line.startswith(("//", "#")):
            return True
        if line.lower() in ("quit", "exit", "q"):
            return False
        try:
            actor = self.actor
            words = line.split(maxsplit=2)
            if words[0].lower() == "as":
                if len(words) == 1:
                    raise ConsoleError("as who? members: " + ", ".join(self.member_names()))
                actor = self.member(words[1])
                if len(words) == 2:
                    self.actor = actor
                    self.print(f"(you are now {actor.user.username}; 'as you' switches back)")
                    return True
                line = words[2]
            lowered = line.lower()
            if lowered in ("help", "?", "/help"):
                self.print(self.help_text())
            elif line.startswith("/"):
                await self.slash(actor, line[1:])
            elif lowered.startswith(("press ", "click ")):
                await self.press(actor, line.split(maxsplit=1)[1])
            elif lowered.startswith("select "):
                await self.choose(actor, line.split(maxsplit=1)[1])
            else:
                raise ConsoleError(f"I don't understand {line!r}; type a slash command like "
                                   "/recommend, 'press <button>', 'select <option>', 'help' or "
                                   "'quit'")
        except ConsoleError as error:
            self.print(f"! {error}")
        except Exception as error:  # the emulator refused it, or the bot did not answer
            self.print(f"! {_describe(error)}")
            log.debug("command failed", exc_info=True)
        return True

    def help_text(self) -> str:
        commands = self.known_commands()
        lines = [EXAMPLES]
        if commands:
            lines.append("Commands: " + ", ".join(commands))
        lines.append("Members: " + ", ".join(self.member_names())
                     + f"   (you are {self.actor.user.username})")
        return "\n".join(lines)

    async def slash(self, actor, text: str) -> None:
        command, options, focused = self.parse(text)
        if focused is not None:
            inter = await self.emu.autocomplete(actor, self.channel, command, focused=focused,
                                                options=options)
            reply = await inter.response(timeout=CALLBACK_TIMEOUT)
            names = reply.choice_names
            self.print("\n".join(f"  {name}" for name in names) if names
                       else "  (no suggestions)")
            return
        inter = await self.emu.slash(actor, self.channel, command, options=options)
        await self.show(actor, inter)

    async def show(self, actor, inter) -> None:
        """Print what the bot answered to one interaction (and any followups)."""
        reply = await inter.response(timeout=CALLBACK_TIMEOUT)
        if reply.type == MODAL and reply.modal:  # a form: ask for each field
            await self.fill_modal(actor, reply.modal)
            return
        if reply.type == DEFERRED_MESSAGE:  # "thinking…" until the bot edits or follows up
            await self.emu.wait_until(
                lambda: inter.deleted or inter.followup_replies or (
                    (final := inter.final()) is not None and not final.loading),
                ANSWER_TIMEOUT, "the bot's answer")
        elif reply.type == DEFERRED_UPDATE:  # acknowledged; an edit or a followup comes later
            await self.emu.wait_until(
                lambda: inter.deleted or inter.edits or inter.followup_replies,
                ANSWER_TIMEOUT, "the bot's answer")
        await self.settle()
        main = inter.final() if inter.original_message_id is not None else None
        if reply.type == DEFERRED_UPDATE and not inter.edits:
            main = None  # nothing changed on the message; the answer is in the followups
        elif main is None and not reply.deferred and not inter.deleted:
            main = reply
        if main is not None and main.loading and inter.followup_replies:
            main = None  # Discord replaces "thinking…" with the first followup
        if main is not None:
            updated = reply.type in (DEFERRED_UPDATE, UPDATE_MESSAGE)
            self.render(main, note="(updated the message in place)" if updated else None)
        for extra in inter.followup_replies:
            self.render(extra)

    async def settle(self, quiet: float = 0.15, limit: float = 2.0) -> None:
        """Wait until the bot has made no request for `quiet` seconds (followups that come
        just after the answer are shown with it)."""
        loop = asyncio.get_running_loop()
        start = changed = loop.time()
        seen = len(self.emu.requests)
        while loop.time() - start < limit:
            await asyncio.sleep(0.03)
            if len(self.emu.requests) != seen:
                seen, changed = len(self.emu.requests), loop.time()
            elif loop.time() - changed >= quiet:
                return

    def render(self, reply, note: str | None = None) -> None:
        # The emulator's rendering already ends ephemeral messages with
        # "(only you can see this)"; adding a header here printed the marker twice.
        text = reply.rendered_text().strip()
        self.print("\n".join(filter(None, [note, text])) or "(empty message)")
        for attachment in reply.attachments:
            self.print(f"[attachment {attachment.filename}]\n{attachment.text}")
        if reply.components:
            self.last = reply

    def _components(self) -> list[dict]:
        if self.last is None:
            raise ConsoleError("there is no message with buttons or menus yet")
        message = self.emu.message(self.last.id) if self.last.id else None
        if message is None:
            raise ConsoleError("the last message with buttons is gone (deleted)")
        self.last = message
        return message.walk_components()

    async def press(self, actor, label: str) -> None:
        label = label.strip().strip('"')
        buttons = [c for c in self._components() if c.get("type") == 2 and c.get("custom_id")]
        for comp in buttons:
            if (comp.get("label") or "").lower() == label.lower():
                if comp.get("disabled"):
                    raise ConsoleError(f"[{comp['label']}] is disabled")
                inter = await self.emu.click(actor, self.last, comp["custom_id"])
                await self.show(actor, inter)
                return
        listed = ", ".join(f"[{c.get('label')}]" for c in buttons) or "none"
        raise ConsoleError(f"no button labelled {label!r} on the last message (buttons: "
                           f"{listed})")

    async def choose(self, actor, label: str) -> None:
        wanted = label.strip().strip('"').lower()
        menus = [c for c in self._components() if c.get("type") == 3]
        if re.fullmatch(r"#\d+", wanted):  # "select #2": the second option
            flat = [(c, o) for c in menus for o in c.get("options", [])]
            index = int(wanted[1:]) - 1
            if not 0 <= index < len(flat):
                raise ConsoleError(f"the menu has {len(flat)} options, not {wanted}")
            comp, option = flat[index]
            wanted = option["label"].lower()
        for exact in (True, False):
            for comp in menus:
                for option in comp.get("options", []):
                    name = option["label"].lower()
                    if name == wanted if exact else name.startswith(wanted):
                        if comp.get("disabled"):
                            raise ConsoleError("that menu is disabled")
                        inter = await self.emu.select(actor, self.last, comp["custom_id"],
                                                      [option["value"]])
                        await self.show(actor, inter)
                        return
        options = [o["label"] for c in menus for o in c.get("options", [])]
        raise ConsoleError(f"no menu option {label.strip()!r}"
                           + (f"; options: {' | '.join(options)}" if options
                              else " (the last message has no menu)"))

    async def fill_modal(self, actor, modal: dict) -> None:
        self.print(f"[form] {modal.get('title', '')}")
        answers = {}
        for top in modal.get("components", []):
            fields = top.get("components") or ([top["component"]] if "component" in top
                                               else [top])
            for field in fields:
                if field.get("type") != 4 or "custom_id" not in field:
                    continue
                label = top.get("label") or field.get("label") or field["custom_id"]
                answers[field["custom_id"]] = await self.ask(f"  {label}: ")
        inter = await self.emu.submit_modal(actor, self.channel, modal["custom_id"], answers)
        await self.show(actor, inter)

    async def ask(self, prompt: str) -> str:
        line = await self.reader.read(prompt) if self.reader else None
        if line is None:
            raise ConsoleError("input ended inside a form; nothing was submitted")
        if not self.interactive:
            self.print(f"{prompt}{line.strip()}")
        return line.strip()


def _describe(error: Exception) -> str:
    """One readable line for an exception (the emulator's timeouts carry pages of detail)."""
    from emulator import EmulatorTimeout

    if isinstance(error, EmulatorTimeout):
        first = str(error).splitlines()[0] if str(error) else "waiting"
        return f"the bot did not answer in time ({first})"
    text = str(error) or type(error).__name__
    return text.splitlines()[0]


def _setup_readline(console: Console) -> None:
    """History in ~/.moviebot_console_history and Tab completion, when readline exists."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline
        return
    history = HISTORY_FILE.expanduser()
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(history)

    import atexit

    atexit.register(save)
    words = sorted({*console.known_commands(), *(c.split()[0] for c in console.known_commands()),
                    *(f"@{n}" for n in console.member_names()), "press ", "select ", "as ",
                    "help", "quit"})

    def complete(text: str, state: int) -> str | None:
        matches = [w for w in words if w.startswith(text)]
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims(" \t\n\"")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")


@contextlib.contextmanager
def _terminal_restored():
    """Put the terminal back as it was, even if we exit while readline holds it."""
    try:
        import termios

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
    except Exception:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


async def run_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.client import create_bot
    from bot.storage import Storage
    from emulator import DiscordEmulator, quiet_discord_logging, running_bot

    quiet_discord_logging(logging.ERROR)
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    interactive = args.script is None and sys.stdin.isatty()
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
                training=replace(settings.training, debounce_seconds=1.0),
                limits=replace(settings.limits, recommend_cooldown_seconds=args.cooldown))
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
                if args.script:
                    text = await asyncio.to_thread(Path(args.script).read_text, "utf-8")
                    source: Any = io.StringIO(text)
                else:
                    source = sys.stdin
                reader = LineReader(source, interactive)
                console = Console(emu, guild, channel, guild.owner, reader=reader)
                if interactive:
                    _setup_readline(console)
                console.print("Movie bot console: you are 'you' in the server 'Demo Club' "
                              f"with {', '.join(DEMO_MEMBERS)}. Type 'help' for examples.")
                with _terminal_restored() if interactive else contextlib.nullcontext():
                    await _prompt_loop(console, reader)
    return 0


async def _prompt_loop(console: Console, reader: LineReader) -> None:
    """Read and run lines until the input ends or the person quits. Ctrl-C cancels the
    command being waited for, or at the prompt ends the session."""
    loop = asyncio.get_running_loop()
    running: asyncio.Task | None = None

    def on_interrupt() -> None:
        if running is not None and not running.done():
            running.cancel()
        elif not reader.interrupt():
            raise KeyboardInterrupt

    handled_sigint = False
    if console.interactive and threading.current_thread() is threading.main_thread():
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_interrupt)
            handled_sigint = True
    try:
        while True:
            line = await reader.read(console.prompt())
            if line is None:
                if console.interactive:
                    console.print()
                break
            if not console.interactive:
                console.print(f"{console.prompt()}{line.strip()}")
            running = asyncio.create_task(console.handle(line))
            try:
                keep_going = await running
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise
                console.print("(cancelled)")
                keep_going = True
            finally:
                running = None
            if not keep_going:
                break
    finally:
        if handled_sigint:
            loop.remove_signal_handler(signal.SIGINT)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "console", help="try the bot without Discord (local emulator, demo server)",
        description=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--script", help="read commands from this file instead of stdin")
    parser.add_argument("--database", help="keep the demo database here (default: temporary)")
    parser.add_argument("--verbose", action="store_true", help="show the bot's log lines")
    parser.add_argument("--cooldown", type=float, default=0.0, metavar="SECONDS",
                        help="seconds between two /recommend of one member (default: 0, off; "
                             "the real bot uses [limits] recommend_cooldown_seconds)")
    parser.set_defaults(func=run_console)


__all__ = ["Console", "ConsoleError", "LineReader", "register", "run_console",
           "seed_demo_ratings"]
