"""QR codes as printed: they decode back to the link, and the Cyrillic caption is really drawn."""
from __future__ import annotations

import io
import random
import re
import string
import xml.etree.ElementTree as ET

import pytest
import qrcode
import zxingcpp
from PIL import Image, ImageDraw

from adapters.qr import QrcodeRenderer

LINK = "https://coffee.example/go/tcenter_12"
SVG = "{http://www.w3.org/2000/svg}"


def decode_png(data: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def decode_svg(data: bytes, scale: int = 8) -> list[str]:
    """Rasterize our own SVG (one path of unit rectangles) with Pillow and decode it."""
    svg = data.decode()
    width, height = (float(v) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    image = Image.new("L", (int(width * scale), int(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    for x, y, run in re.findall(r"M(\d+) (\d+)h(\d+)", re.search(r' d="([^"]+)"', svg).group(1)):
        x, y, run = int(x), int(y), int(run)
        draw.rectangle([x * scale, y * scale, (x + run) * scale - 1, (y + 1) * scale - 1], fill=0)
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_png_and_svg_decode_to_the_link():
    renderer = QrcodeRenderer()
    assert decode_png(renderer.png(LINK)) == [LINK]
    assert decode_png(renderer.png(LINK, "Стол 12 — закажите со смартфона")) == [LINK]
    assert decode_svg(renderer.svg(LINK, "Стол 12")) == [LINK]


def test_the_cyrillic_caption_is_drawn_under_the_code():
    renderer = QrcodeRenderer()
    plain = Image.open(io.BytesIO(renderer.png(LINK)))
    captioned = Image.open(io.BytesIO(renderer.png(LINK, "Привет")))
    assert captioned.width == plain.width and captioned.height > plain.height
    band = captioned.crop((0, plain.height, captioned.width, captioned.height))
    assert band.getextrema()[0] < 128, "the caption band has dark pixels: the font has Cyrillic glyphs"


def test_a_long_caption_wraps_to_at_most_three_lines():
    renderer = QrcodeRenderer()
    caption = "Закажите здесь и заберите без очереди — Кофейня «Витрина» на Пушкина, 10, открыто круглосуточно"
    svg = renderer.svg(LINK, caption).decode()
    assert 2 <= svg.count("<tspan") <= 3


def test_the_svg_caption_is_escaped_text():
    svg = QrcodeRenderer().svg(LINK, 'Кофе <b>&</b> "чай"\x00').decode()
    assert "<b>" not in svg and "&lt;b&gt;&amp;&lt;/b&gt;" in svg and "\x00" not in svg
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_the_svg_is_well_formed_and_sized_for_print():
    root = ET.fromstring(QrcodeRenderer().svg(LINK, "Кофе <&> чай"))
    assert root.get("width").endswith("mm") and root.get("height").endswith("mm")
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    assert height > width  # the caption sits under the square code
    assert "".join(root.find(f"{SVG}text").itertext()) == "Кофе <&> чай"

    bare = ET.fromstring(QrcodeRenderer().svg(LINK))
    assert bare.find(f"{SVG}text") is None
    _, _, width, height = (float(v) for v in bare.get("viewBox").split())
    assert width == height


def test_cyrillic_data_decodes_exactly():
    data = "https://coffee.example/go/sкофе"
    renderer = QrcodeRenderer()
    assert decode_png(renderer.png(data)) == [data]
    assert decode_svg(renderer.svg(data)) == [data]


def test_weak_error_correction_is_refused():
    with pytest.raises(ValueError):
        QrcodeRenderer(error_correction="L")


@pytest.mark.parametrize("level", ["M", "Q", "H"])
def test_the_code_is_the_librarys_own_module_for_module(level):
    """The renderer picks the mask faster than qrcode does (adapters/qr.py ``_QRCode``): the same mask, so the
    same code, for pickup tokens and links of every length up to version 12 or so."""
    renderer = QrcodeRenderer(error_correction=level)
    rnd = random.Random(level)
    for length in [1, 8, 20, 34, 59, 60, 90, 120, 160, 200, 250]:
        data = "".join(rnd.choice(string.ascii_letters + string.digits + "-_.:/") for _ in range(length))
        library = qrcode.QRCode(error_correction=renderer.level, border=renderer.border)
        library.add_data(data)
        library.make(fit=True)
        assert renderer._layout(data, "").matrix == library.get_matrix(), (level, length)
