"""The owner's stats picture: the ``ChartRenderer`` port drawn with Pillow on the server.

Two panels on one PNG: the funnel of each channel as grouped bars (one colour per step, a legend on top)
and the orders of each day. Words are mostly Cyrillic, so the text is drawn with the DejaVu Sans font
shipped in ``adapters/fonts`` (Pillow's own scalable default font has no Cyrillic glyphs); if that file is
missing a system DejaVu Sans is used, and failing that Pillow's default, so a picture is always made.
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from journey.stats import StatsChart

_FONTS = (Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf",
          Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
          Path("/usr/share/fonts/TTF/DejaVuSans.ttf"))
_COLOURS = ((66, 133, 244), (52, 168, 83), (251, 188, 5), (234, 67, 53), (154, 160, 166))
_INK, _GRID, _PAPER = (32, 33, 36), (218, 220, 224), (255, 255, 255)
WIDTH, PANEL, MARGIN = 960, 340, 40


@lru_cache(maxsize=8)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONTS:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


class PillowCharts:
    """Renders a ``StatsChart`` as PNG bytes; pure CPU, safe in a worker thread."""

    def png(self, chart: StatsChart) -> bytes:
        image = Image.new("RGB", (WIDTH, 2 * PANEL + 60), _PAPER)
        draw = ImageDraw.Draw(image)
        draw.text((MARGIN, 12), chart.title, font=font(22), fill=_INK)
        self._funnel(draw, chart, top=50)
        self._daily(draw, chart, top=50 + PANEL)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        return out.getvalue()

    def _funnel(self, draw: ImageDraw.ImageDraw, chart: StatsChart, top: int) -> None:
        x = MARGIN
        for i, step in enumerate(chart.steps):  # the legend
            colour = _COLOURS[i % len(_COLOURS)]
            draw.rectangle((x, top, x + 14, top + 14), fill=colour)
            draw.text((x + 20, top - 2), step, font=font(15), fill=_INK)
            x += 30 + int(draw.textlength(step, font=font(15)))
        base, height = top + PANEL - 50, PANEL - 100
        self._axis(draw, base, height)
        groups = chart.groups or (("—", tuple(0 for _ in chart.steps)),)
        peak = max((n for _, counts in groups for n in counts), default=0) or 1
        slot = (WIDTH - 2 * MARGIN) / len(groups)
        bar = max(4.0, min(40.0, (slot - 30) / max(1, len(chart.steps))))
        for g, (name, counts) in enumerate(groups):
            left = MARGIN + g * slot + (slot - bar * len(counts)) / 2
            for i, n in enumerate(counts):
                x0 = left + i * bar
                y0 = base - height * n / peak
                draw.rectangle((x0, min(y0, base - 1), x0 + bar - 3, base), fill=_COLOURS[i % len(_COLOURS)])
                label = str(n)
                w = draw.textlength(label, font=font(12))
                draw.text((x0 + (bar - 3 - w) / 2, y0 - 16), label, font=font(12), fill=_INK)
            w = draw.textlength(name, font=font(15))
            draw.text((MARGIN + g * slot + (slot - w) / 2, base + 6), name, font=font(15), fill=_INK)

    def _daily(self, draw: ImageDraw.ImageDraw, chart: StatsChart, top: int) -> None:
        draw.text((MARGIN, top), chart.daily_title, font=font(17), fill=_INK)
        base, height = top + PANEL - 40, PANEL - 90
        self._axis(draw, base, height)
        days = len(chart.daily) or 1
        peak = max(chart.daily, default=0) or 1
        slot = (WIDTH - 2 * MARGIN) / days
        every = max(1, round(days / 15))  # at most about 15 day labels
        for i, n in enumerate(chart.daily):
            x0 = MARGIN + i * slot + slot * 0.15
            x1 = MARGIN + (i + 1) * slot - slot * 0.15
            y0 = base - height * n / peak
            draw.rectangle((x0, min(y0, base - 1), max(x1, x0 + 1), base), fill=_COLOURS[0])
            if n and slot >= 18:
                w = draw.textlength(str(n), font=font(12))
                draw.text(((x0 + x1 - w) / 2, y0 - 16), str(n), font=font(12), fill=_INK)
            if i % every == 0 and i < len(chart.days):
                w = draw.textlength(chart.days[i], font=font(12))
                draw.text(((x0 + x1 - w) / 2, base + 6), chart.days[i], font=font(12), fill=_INK)

    @staticmethod
    def _axis(draw: ImageDraw.ImageDraw, base: float, height: float) -> None:
        draw.line((MARGIN, base - height, WIDTH - MARGIN, base - height), fill=_GRID)
        draw.line((MARGIN, base, WIDTH - MARGIN, base), fill=_INK, width=2)
