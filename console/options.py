"""Reading a typed `/command option:value` line as the values Discord's client would send.

`OptionParser` looks the command up among those the bot registered, then converts each typed
value by the option's registered type: numbers (within their bounds), booleans, members
(`@ana`), channels and roles by name, choices by name or value, and `@name` inside text becomes
a real mention. A trailing `?` marks the option being typed (autocomplete). Whatever cannot be
sent is a `ConsoleError`, printed as one readable line.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from discord.enums import AppCommandOptionType, AppCommandType, try_enum

if TYPE_CHECKING:
    from emulator import Channel, Guild, Member, Role

OPTION_RE = re.compile(r"^([A-Za-z0-9_-]+):(.*)$", re.DOTALL)
MENTION_RE = re.compile(r"(?<![\w<])@([A-Za-z0-9_.]+)")

# Discord's own numbers, from discord.py: one source of truth, kept current upstream.
_SUBCOMMANDS = (AppCommandOptionType.subcommand.value,
                AppCommandOptionType.subcommand_group.value)


class ConsoleError(Exception):
    """Something the person typed that cannot be sent; printed as one '! ...' line."""


class CommandRegistry(Protocol):
    """What the parser needs from the emulator: the commands the bot registered."""

    def find_command(self, name: str, guild: Guild | None = None) -> dict[str, Any]: ...

    def registered_commands(self, guild: Guild | None = None) -> list[dict[str, Any]]: ...


class OptionParser:
    """Turns `rate movie:"Toy Story 3" score:9` into a command name and typed option values
    for the commands registered in one guild."""

    def __init__(self, commands: CommandRegistry, guild: Guild) -> None:
        self.commands = commands
        self.guild = guild

    # ------------------------------------------------------------------ names
    def member_names(self) -> list[str]:
        return [m.user.username for m in self.guild.members.values() if not m.user.bot]

    def member(self, name: str) -> Member:
        name = name.lstrip("@").lower()
        for member in self.guild.members.values():
            if member.user.username.lower() == name and not member.user.bot:
                return member
        raise ConsoleError(f"no member called {name!r}; members: "
                           + ", ".join(self.member_names()))

    def channel_named(self, name: str) -> Channel:
        name = name.lstrip("#").lower()
        for channel in self.guild.channels.values():
            if channel.name.lower() == name:
                return channel
        names = ", ".join(c.name for c in self.guild.channels.values())
        raise ConsoleError(f"no channel called {name!r}; channels: {names}")

    def role_named(self, raw: str) -> Role:
        try:
            return self.guild.role(raw.lstrip("@"))
        except KeyError:
            raise ConsoleError(f"no role called {raw!r}") from None

    def mentions(self, text: str) -> str:
        """'@ana @ben' -> '<@id> <@id>' for members of the server (other text unchanged)."""
        def swap(match: re.Match[str]) -> str:
            try:
                return f"<@{self.member(match.group(1)).id}>"
            except ConsoleError:
                return match.group(0)
        return MENTION_RE.sub(swap, text)

    # ------------------------------------------------------------------ commands
    def known_commands(self) -> list[str]:
        """'/name' and '/name sub' for every chat command the bot registered."""
        out: list[str] = []
        try:
            commands = self.commands.registered_commands(self.guild)
        except Exception:  # a stub emulator in unit tests
            return out
        seen: set[str] = set()
        for cmd in commands:
            chat_input = AppCommandType.chat_input.value
            if cmd.get("type", chat_input) != chat_input or cmd["name"] in seen:
                continue
            seen.add(cmd["name"])
            subs = [d["name"] for d in cmd.get("options") or []
                    if d["type"] == AppCommandOptionType.subcommand.value]
            out.extend([f"/{cmd['name']} {s}" for s in subs] or [f"/{cmd['name']}"])
        return sorted(out)

    def option_defs(self, path: list[str]) -> dict[str, dict[str, Any]] | None:
        """The registered options of `/path` by name; None when the emulator knows no
        commands at all (then values are guessed from their text)."""
        try:
            command = self.commands.find_command(path[0], self.guild)
        except LookupError:
            known = self.known_commands()
            if not known:
                return None
            raise ConsoleError(f"there is no command /{path[0]}; commands: "
                               + ", ".join(known)) from None
        defs = command.get("options") or []
        for word in path[1:]:
            subs = [d for d in defs if d["type"] in _SUBCOMMANDS]
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
        return {d["name"]: d for d in defs if d["type"] not in _SUBCOMMANDS}

    # ------------------------------------------------------------------ parsing
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

    def convert(self, name: str, raw: str, definition: dict[str, Any] | None) -> Any:
        """One option's typed text as the value Discord's client would send."""
        if definition is None:  # unknown command shape: guess from the text
            if re.fullmatch(r"@[\w.]+", raw):
                return self.member(raw)
            if re.fullmatch(r"-?\d+", raw):
                return int(raw)
            return self.mentions(raw)
        kind = try_enum(AppCommandOptionType, definition["type"])
        choices = definition.get("choices")
        if choices:
            for choice in choices:
                if raw.lower() in (str(choice["value"]).lower(), str(choice["name"]).lower()):
                    return choice["value"]
            listed = ", ".join(f'"{c["name"]}"' for c in choices)
            raise ConsoleError(f"{name} must be one of {listed}, not {raw!r}")
        if kind is AppCommandOptionType.string:
            return self.mentions(raw)
        if kind in (AppCommandOptionType.integer, AppCommandOptionType.number):
            return _number(name, raw, definition, whole=kind is AppCommandOptionType.integer)
        if kind is AppCommandOptionType.boolean:
            if raw.lower() in ("true", "yes", "on", "1"):
                return True
            if raw.lower() in ("false", "no", "off", "0"):
                return False
            raise ConsoleError(f"{name} must be true or false, not {raw!r}")
        if kind in (AppCommandOptionType.user, AppCommandOptionType.mentionable):
            return self.member(raw)
        if kind is AppCommandOptionType.channel:
            return self.channel_named(raw)
        if kind is AppCommandOptionType.role:
            return self.role_named(raw)
        if kind is AppCommandOptionType.attachment:  # a local file, uploaded as Discord would
            path = Path(raw).expanduser()
            try:
                return (path.name, path.read_bytes())
            except OSError as error:
                raise ConsoleError(f"{name}: cannot read {raw!r} ({error.strerror})") from None
        return raw


def _number(name: str, raw: str, definition: dict[str, Any], *, whole: bool) -> float:
    """An integer or number option, checked against its registered bounds."""
    try:
        value: float = int(raw) if whole else float(raw)
    except ValueError:
        what = "a whole number" if whole else "a number"
        raise ConsoleError(f"{name} must be {what}, not {raw!r}") from None
    low, high = definition.get("min_value"), definition.get("max_value")
    if (low is not None and value < low) or (high is not None and value > high):
        span = (f"from {low} to {high}" if low is not None and high is not None
                else f"at least {low}" if low is not None else f"at most {high}")
        raise ConsoleError(f"{name} must be {span}, not {raw} (Discord's own client "
                           "would not send it)")
    return value
