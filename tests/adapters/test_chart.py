"""The stats picture: a PNG of the promised size, Cyrillic drawn as letters (not the blank boxes of a font
without them), bars as tall as their numbers, and a picture even with nothing to show or no font file."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from adapters import chart as chart_module
from adapters.chart import PillowCharts, font
from journey.stats import StatsChart

STEPS = ("Визиты", "Заказы", "Выданы", "С отзывом")


def picture(title: str = "Воронка за 7 дн.", groups=(("telegram", (10, 6, 4, 1)), ("vk", (5, 2, 1, 0))),
            daily=(0, 1, 3, 2, 0, 5, 4)) -> Image.Image:
    spec = StatsChart(title, STEPS, groups, "Заказы по дням", tuple(f"{12 + i}.11" for i in range(len(daily))),
                      daily)
    data = PillowCharts().png(spec)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many pixels of the box are not white."""
    histogram = image.crop(box).convert("L").histogram()
    return sum(histogram) - histogram[255]


def test_a_png_with_both_panels():
    image = picture()
    assert image.size == (chart_module.WIDTH, 2 * chart_module.PANEL + 60)
    assert ink(image, (0, 50, image.width, 50 + chart_module.PANEL)) > 1000  # the funnel's bars
    assert ink(image, (0, 50 + chart_module.PANEL, image.width, image.height)) > 1000  # the days' bars


def test_cyrillic_is_drawn_as_letters():
    f = font(20)
    masks = {text: bytes(f.getmask(text)) for text in ("Ж", "З", "\U000f0000")}  # the last has no glyph anywhere
    assert len(set(masks.values())) == 3
    assert picture(title="Воронка").tobytes() != picture(title="Заказы").tobytes()


def test_the_tallest_bar_is_the_biggest_number():
    image = picture(groups=(("telegram", (10, 0, 0, 0)),), daily=(0,))
    blue = (66, 133, 244)
    columns = [x for x in range(image.width) if image.getpixel((x, 50 + chart_module.PANEL - 51)) == blue]
    tall = [x for x in columns if image.getpixel((x, 50 + 100)) == blue]  # reaches the top of the panel
    assert columns and tall


def test_nothing_to_show_is_still_a_picture():
    assert picture(groups=(), daily=()).size[0] == chart_module.WIDTH


def test_without_a_font_file_pillows_own_font_is_used(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(chart_module, "_FONTS", (Path("/nonexistent/DejaVuSans.ttf"),))
    font.cache_clear()
    try:
        assert picture().size[0] == chart_module.WIDTH
    finally:
        font.cache_clear()
