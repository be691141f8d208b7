"""The story picture people share (journey/sharing.py): the ``StoryRenderer`` port drawn with Pillow.

A story is 9:16 (1080x1920 in both Telegram and VK). The picture names the shop in large letters over a
warm gradient, with its pickup points below; the clients put their own widgets (Telegram's widget link,
VK's attachment link) on top of it, so the bottom fifth is left quiet. Drawn as a JPEG (a fifth of a PNG's
bytes for a gradient) and kept for the last few cards, so a story costs one drawing per shop name.
"""
from __future__ import annotations

import io
import textwrap
from functools import lru_cache

from PIL import Image, ImageDraw

from journey.sharing import StoryCard

from .chart import font

WIDTH, HEIGHT = 1080, 1920
_TOP, _BOTTOM = (111, 78, 55), (214, 158, 96)  # coffee to caramel
_INK, _SOFT = (255, 255, 255), (255, 240, 222)
QUALITY = 85


class PillowStories:
    """``story(card) -> JPEG bytes``; pure CPU, safe in a worker thread."""

    def story(self, card: StoryCard) -> bytes:
        return _draw(card)


@lru_cache(maxsize=8)
def _draw(card: StoryCard) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), _TOP)
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):  # a vertical gradient, one line at a time
        k = y / (HEIGHT - 1)
        draw.line([(0, y), (WIDTH, y)], fill=tuple(round(a + (b - a) * k) for a, b in zip(_TOP, _BOTTOM, strict=True)))
    y = 560
    title = font(120)
    for line in textwrap.wrap(card.title, 14)[:3] or [""]:
        width = draw.textlength(line, font=title)
        draw.text(((WIDTH - width) / 2, y), line, font=title, fill=_INK)
        y += 150
    draw.line([(WIDTH / 2 - 120, y + 30), (WIDTH / 2 + 120, y + 30)], fill=_SOFT, width=6)
    y += 100
    small = font(56)
    for line in card.lines[:3]:
        text = textwrap.shorten(line, 32, placeholder="…")
        width = draw.textlength(text, font=small)
        draw.text(((WIDTH - width) / 2, y), text, font=small, fill=_SOFT)
        y += 84
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return buffer.getvalue()
