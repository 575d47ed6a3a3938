"""End-to-end: the owner-only /sync command through the Discord emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Env


def _puts(env: Env) -> list:
    return [r for r in env.emu.requests if r.method == "PUT" and r.path.endswith("/commands")]


async def test_sync_is_refused_for_everyone_but_the_bot_owner(env: Env) -> None:
    before = len(_puts(env))
    for member in (env.alice, env.admin, env.owner2):
        reply = await env.run(member, "sync")
        assert reply.ephemeral and "Only the bot owner can do this" in reply.content
    assert len(_puts(env)) == before


async def test_owner_syncs_this_server(env: Env) -> None:
    before = len(_puts(env))
    reply = await env.run(env.owner, "sync")
    assert reply.ephemeral
    assert reply.content.startswith("Synced ") and "to this server" in reply.content
    count = int(reply.content.split()[1])
    registered = env.emu.registered_commands(env.guild)
    assert count == len(registered) and {"movies", "settings", "sync"} <= {
        c["name"] for c in registered}
    (put,) = _puts(env)[before:]
    assert f"/guilds/{env.guild.id}/commands" in put.path


async def test_owner_syncs_globally(env: Env) -> None:
    before = len(_puts(env))
    reply = await env.run(env.owner, "sync", scope="global")
    assert "globally" in reply.content
    (put,) = _puts(env)[before:]
    assert "/guilds/" not in put.path
    assert "ratings" in {c["name"] for c in env.emu.registered_commands()}
