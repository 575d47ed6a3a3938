"""Select menus whose options exist only while their message is being rendered.

A reply's view lives as long as its buttons work (ten minutes for /recommend), and at 20 lists a
second thousands of them are alive at once; their `discord.SelectOption` objects (three selects
of up to 25 options per list) were the most numerous objects the garbage collector walked
(benchmarks/many_guilds.py, issue 24 item 3). `LazySelect` keeps each option as a plain
``(label, value, description)`` tuple of strings (which the collector stops tracking) and
builds the `SelectOption` objects only inside `to_component_dict`, when discord.py serialises
the view for a send or an edit; they are dropped again right after.

`options` keeps discord.py's meaning (a list of `SelectOption`, built on demand; assigning one
stores the tuples), so a subclass uses it as it would on `discord.ui.Select`.
"""

from __future__ import annotations

from typing import Any

import discord

Choice = tuple[str, str, str | None]  # label, value, description


class LazySelect(discord.ui.Select):
    """A string select that holds its options as tuples (see the module docstring)."""

    def __init__(self, *, options: list[discord.SelectOption] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(options=[], **kwargs)
        self._choices: list[Choice] = []
        if options:
            self.options = options

    @property
    def options(self) -> list[discord.SelectOption]:
        """The options, built now from the stored tuples (not kept)."""
        return [discord.SelectOption(label=label, value=value, description=description)
                for label, value, description in self._choices]

    @options.setter
    def options(self, value: list[discord.SelectOption]) -> None:
        if not isinstance(value, list) or not all(
                isinstance(option, discord.SelectOption) for option in value):
            raise TypeError("options must be a list of SelectOption")
        self._choices = [(o.label, o.value, o.description) for o in value]

    @property
    def choice_count(self) -> int:
        """How many options the select has (without building them)."""
        return len(self._choices)

    def to_component_dict(self) -> Any:
        self._underlying.options = self.options
        try:
            return super().to_component_dict()
        finally:
            self._underlying.options = []

    def _refresh_component(self, component: Any) -> None:
        """A message update handed discord.py the sent components: keep their options as
        tuples, not as the parsed objects."""
        super()._refresh_component(component)
        options = getattr(component, "options", None) or []
        self._choices = [(o.label, o.value, o.description) for o in options]
        self._underlying.options = []


__all__ = ["Choice", "LazySelect"]
