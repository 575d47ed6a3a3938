"""Uploads through the emulator as Discord takes them: multipart `files[n]` parts with
`payload_json`, kept byte-exact and downloadable; more than 10 files is 400/50035 on
`attachments`, a file over the attachment size limit is 413/40005 (checked with a small limit:
the emulator's `attachment_size_limit`, 10 MiB by default, is what interactions announce)."""

from __future__ import annotations

import io

import discord
import pytest

from emulator import limits


def _file(name: str, size: int) -> discord.File:
    return discord.File(io.BytesIO(bytes(range(256)) * (size // 256) + b"x" * (size % 256)),
                        filename=name)


async def test_files_are_recorded_byte_exact(emu, scene, bot):
    channel = bot.get_channel(scene.general.id)
    payload = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    sent = await channel.send("two files", files=[
        discord.File(io.BytesIO(payload), filename="a.png", description="alt text"),
        _file("b.bin", 1000)])
    assert [a.filename for a in sent.attachments] == ["a.png", "b.bin"]
    stored = emu.sent_messages[-1].attachment("a.png")
    assert stored.data == payload and stored.content_type == "image/png"
    assert stored.description == "alt text"
    assert await sent.attachments[0].read() == payload  # served at its url


async def test_more_than_ten_files_is_refused_like_discord(emu, scene, bot):
    channel = bot.get_channel(scene.general.id)
    await channel.send(files=[_file(f"{n}.txt", 10) for n in range(limits.ATTACHMENTS)])
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(files=[_file(f"{n}.txt", 10) for n in range(limits.ATTACHMENTS + 1)])
    assert refused.value.status == 400 and refused.value.code == limits.INVALID_FORM_BODY
    assert emu.rejections[-1]["errors"]["attachments"]["_errors"][0]["code"] == \
        limits.MAX_LENGTH


async def test_a_file_over_the_size_limit_is_413(emu, scene, bot):
    emu.attachment_size_limit = 4096
    channel = bot.get_channel(scene.general.id)
    await channel.send(file=_file("at-limit.bin", 4096))
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(file=_file("over.bin", 4097))
    assert refused.value.status == 413 and refused.value.code == limits.REQUEST_TOO_LARGE
    assert "over.bin" in emu.rejections[-1]["errors"]["files"]
    assert len(emu.sent_messages) == 1  # the refused message was not created
