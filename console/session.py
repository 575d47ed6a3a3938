"""One console session: typed lines become emulator interactions, answers are printed.

`Console.handle` runs one line: a slash command (or its autocomplete, with a trailing `?`),
`press <button>` and `select [menu:] <option>` on the last message that has components,
`as NAME` to act as a simulated member, `help` and `quit`. A form the bot opens asks for each
field on the next lines. Parsing is `console.options`, printing is `console.render`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

from discord.enums import ComponentType, InteractionResponseType

from bot.domain.plural import plural

from .examples import EXAMPLES
from .options import ConsoleError, OptionParser
from .render import attachment_text, describe, reply_text, visible_replies

if TYPE_CHECKING:
    from emulator import Channel, DiscordEmulator, Guild, Interaction, Member, Reply

    from .reader import LineReader

log = logging.getLogger(__name__)


CALLBACK_TIMEOUT = 15.0  # Discord gives a bot 3 s; the console is patient while a model trains
ANSWER_TIMEOUT = 60.0  # after "thinking…"

# Discord's own numbers, from discord.py: one source of truth, kept current upstream.
_BUTTON = ComponentType.button.value
_STRING_SELECT = ComponentType.select.value
_TEXT_INPUT = ComponentType.text_input.value
_MODAL = InteractionResponseType.modal.value
_DEFERRED_MESSAGE = InteractionResponseType.deferred_channel_message.value
_DEFERRED_UPDATE = InteractionResponseType.deferred_message_update.value


class Console:
    """The prompt loop: turns typed lines into emulator interactions and prints replies."""

    def __init__(self, emu: DiscordEmulator, guild: Guild, channel: Channel, you: Member,
                 out: TextIO | None = None, reader: LineReader | None = None) -> None:
        self.emu = emu
        self.guild = guild
        self.channel = channel
        self.you = you
        self.actor = you  # who types; `as NAME` changes it
        self.out = out if out is not None else sys.stdout
        self.reader = reader
        self.options = OptionParser(emu, guild)
        self.last: Reply | None = None  # the last message with components

    @property
    def interactive(self) -> bool:
        return self.reader is not None and self.reader.interactive

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def prompt(self) -> str:
        return f"{self.actor.user.username}> "

    # ------------------------------------------------------------------ typed text
    def member_names(self) -> list[str]:
        return self.options.member_names()

    def member(self, name: str) -> Member:
        return self.options.member(name)

    def known_commands(self) -> list[str]:
        return self.options.known_commands()

    def parse(self, text: str) -> tuple[str, dict[str, Any], str | None]:
        """See `OptionParser.parse`."""
        return self.options.parse(text)

    def completions(self) -> list[str]:
        """Words Tab completes at a terminal."""
        commands = self.known_commands()
        return sorted({*commands, *(c.split()[0] for c in commands),
                       *(f"@{n}" for n in self.member_names()), "press ", "select ", "as ",
                       "help", "quit"})

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
            if lowered in ("help", "?"):  # /help is the bot's own command
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
            self.print(f"! {describe(error)}")
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

    async def slash(self, actor: Member, text: str) -> None:
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

    async def show(self, actor: Member, inter: Interaction) -> None:
        """Print what the bot answered to one interaction (and any followups)."""
        reply = await inter.response(timeout=CALLBACK_TIMEOUT)
        if reply.type == _MODAL and reply.modal:  # a form: ask for each field
            await self.fill_modal(actor, reply.modal)
            return
        if reply.type == _DEFERRED_MESSAGE:  # "thinking…" until the bot edits or follows up
            await self.emu.wait_until(
                lambda: inter.deleted or inter.followup_replies or (
                    (final := inter.final()) is not None and not final.loading),
                ANSWER_TIMEOUT, "the bot's answer")
        elif reply.type == _DEFERRED_UPDATE:  # acknowledged; an edit or a followup comes later
            await self.emu.wait_until(
                lambda: inter.deleted or inter.edits or inter.followup_replies,
                ANSWER_TIMEOUT, "the bot's answer")
        await self.settle()
        for shown, note in visible_replies(inter, reply):
            self.render(shown, note=note)

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

    def render(self, reply: Reply, note: str | None = None) -> None:
        self.print(reply_text(reply, note))
        for attachment in reply.attachments:
            self.print(attachment_text(attachment))
        if reply.components:
            self.last = reply

    # ------------------------------------------------------------------ components
    def _components(self) -> tuple[Reply, list[dict[str, Any]]]:
        if self.last is None:
            raise ConsoleError("there is no message with buttons or menus yet")
        message = self.emu.message(self.last.id) if self.last.id else None
        if message is None:
            raise ConsoleError("the last message with buttons is gone (deleted)")
        self.last = message
        return message, message.walk_components()

    async def press(self, actor: Member, label: str) -> None:
        label = label.strip().strip('"')
        message, components = self._components()
        buttons = [c for c in components if c.get("type") == _BUTTON and c.get("custom_id")]
        exact = [c for c in buttons if (c.get("label") or "").lower() == label.lower()]
        prefixed = [c for c in buttons
                    if label and (c.get("label") or "").lower().startswith(label.lower())]
        # A unique prefix is enough: "press 2." for a vote button whose label ends in a count.
        for comp in exact or (prefixed if len(prefixed) == 1 else []):
            if comp.get("disabled"):
                raise ConsoleError(f"[{comp['label']}] is disabled")
            inter = await self.emu.click(actor, message, comp["custom_id"])
            await self.show(actor, inter)
            return
        listed = ", ".join(f"[{c.get('label')}]" for c in buttons) or "none"
        raise ConsoleError(f"no button labelled {label!r} on the last message (buttons: "
                           f"{listed})")

    async def choose(self, actor: Member, label: str) -> None:
        """`select OPTION` in the message's menus (the first that has it); `select MENU:
        OPTION` in one menu, MENU being its number (1, 2, ...) or a word of its placeholder
        (`select watchlist: #1`). OPTION is a label, a prefix or `#N`, the Nth option."""
        message, components = self._components()
        menus = [c for c in components if c.get("type") == _STRING_SELECT]
        menus, label = _pick_menu(menus, label)
        wanted = label.strip().strip('"').lower()
        if re.fullmatch(r"#\d+", wanted):  # "select #2": the second option
            flat = [(c, o) for c in menus for o in c.get("options", [])]
            index = int(wanted[1:]) - 1
            if not 0 <= index < len(flat):
                raise ConsoleError(f"the menus have {plural(len(flat), 'option')}, not {wanted}")
            menus, option = [flat[index][0]], flat[index][1]
            wanted = option["label"].lower()
        for exact in (True, False):
            for comp in menus:
                for option in comp.get("options", []):
                    name = option["label"].lower()
                    if name == wanted if exact else name.startswith(wanted):
                        if comp.get("disabled"):
                            raise ConsoleError("that menu is disabled")
                        inter = await self.emu.select(actor, message, comp["custom_id"],
                                                      [option["value"]])
                        await self.show(actor, inter)
                        return
        options = [o["label"] for c in menus for o in c.get("options", [])]
        every = [c for c in components if c.get("type") == _STRING_SELECT]
        named = ("; menus: " + ", ".join(f"{i}: {_menu_name(m)}" for i, m in enumerate(every, 1))
                 if len(every) > 1 else "")
        raise ConsoleError(f"no menu option {label.strip()!r}"
                           + (f"; options: {' | '.join(options)}{named}" if options
                              else " (the last message has no menu)"))

    async def fill_modal(self, actor: Member, modal: dict[str, Any]) -> None:
        self.print(f"[form] {modal.get('title', '')}")
        answers: dict[str, str] = {}
        for top in modal.get("components", []):
            fields = top.get("components") or ([top["component"]] if "component" in top
                                               else [top])
            for field in fields:
                if field.get("type") != _TEXT_INPUT or "custom_id" not in field:
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


def _menu_name(menu: dict[str, Any]) -> str:
    return str(menu.get("placeholder") or "").strip(" ▾…").lower()


def _pick_menu(menus: list[dict[str, Any]],
               text: str) -> tuple[list[dict[str, Any]], str]:
    """(the menus to look in, the option text) for `select` text `[MENU:] OPTION`. The part
    before the first colon names a menu when it is a menu's number or a word of a menu's
    placeholder; otherwise the whole text is the option ("2001: A Space Odyssey")."""
    head, colon, rest = text.partition(":")
    key = head.strip().strip('"').lower()
    if not colon or not key or not rest.strip():
        return menus, text
    if key.isdigit():
        number = int(key)
        return (([menus[number - 1]], rest) if 1 <= number <= len(menus)
                else (menus, text))
    named = [m for m in menus if key in _menu_name(m)]
    if len(named) == 1:
        return named, rest
    if len(named) > 1:
        listed = ", ".join(f"{i}: {_menu_name(m)}" for i, m in enumerate(menus, 1))
        raise ConsoleError(f"{key!r} names more than one menu; use its number ({listed})")
    return menus, text
