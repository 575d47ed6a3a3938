"""Fixtures for the taste prior's tests.

`prior build` and `prior download` load the starter catalog first, as the bot's first start
would. Most tests seed a small catalog of their own and count its links exactly, so the starter
catalog is kept out unless a test asks for it with the `with_starter` fixture.
"""

from __future__ import annotations

import pytest

import bot.catalog.starter


@pytest.fixture
def with_starter() -> None:
    """Let `prior build`/`download` load the starter catalog, as they do for real."""


@pytest.fixture(autouse=True)
def _no_starter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "with_starter" in request.fixturenames:
        return

    async def skip(storage: object) -> int:
        return 0

    # `prior`'s commands import it when they run: patched where it lives
    monkeypatch.setattr(bot.catalog.starter, "ensure_starter_catalog", skip)
