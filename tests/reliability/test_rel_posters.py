"""Posters are untrusted input (issue 20, row 15): a small file may declare a huge picture.

A 29 KB PNG declaring 20,000 x 20,000 pixels once took the drawing process to 2 GB. The poster
grid reads each poster's size from its header and refuses one over `MAX_POSTER_PIXELS` before
decoding a pixel: the picture is drawn without that poster.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from bot.render.cards import MAX_POSTER_PIXELS, decode_poster, draw_poster_grid


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of `width` x `height` white pixels, built row by row so the
    test never holds the picture: tens of kilobytes on disk, gigabytes once decoded to RGB."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    rows = 1000
    data = bytearray()
    for start in range(0, height, rows):
        data += packer.compress(row * min(rows, height - start))
    data += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", bytes(data))
            + _chunk(b"IEND", b""))


def _poster(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (34, 51), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_small_file_declaring_a_huge_picture_is_refused_from_its_header() -> None:
    bomb = bomb_png(20_000, 20_000)
    assert len(bomb) < 200_000  # small on the wire...
    assert struct.unpack(">II", bomb[16:24]) == (20_000, 20_000)  # ...huge once decoded
    assert decode_poster(bomb) is None
    # Just over the cap (below Pillow's own bomb limit, which would let it through).
    side = int(MAX_POSTER_PIXELS ** 0.5) + 10
    assert side * side < Image.MAX_IMAGE_PIXELS
    assert decode_poster(bomb_png(side, side)) is None
    assert decode_poster(b"GIF89a not a poster") is None
    pixels = decode_poster(_poster((200, 40, 40)))
    assert pixels is not None and pixels.shape == (51, 34, 3)


def test_the_grid_is_drawn_without_the_refused_posters() -> None:
    """Five bombs among good posters (the attack's x5): the grid is drawn, the bombs left out."""
    good = _poster((40, 120, 200))
    bomb = bomb_png(20_000, 20_000)
    over = bomb_png(1_600, 1_600)  # 2.56 M pixels: over the cap
    posters = [("Good one", good), ("Bomb 1", bomb), ("Good two", good), ("Bomb 2", over),
               ("Bomb 3", bomb), ("Bomb 4", bomb), ("Bomb 5", bomb)]
    rendered = draw_poster_grid("Your picks", posters)
    assert rendered.png.startswith(b"\x89PNG") and rendered.width > 0
    np.testing.assert_array_equal(rendered.plotted["refused"], [1, 3, 4, 5, 6])
    with Image.open(io.BytesIO(rendered.png)) as drawn:
        assert drawn.size == (rendered.width, rendered.height)
