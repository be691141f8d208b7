"""Printable QR codes: the ``QrRenderer`` port implemented with ``qrcode`` and Pillow.

A shop prints these and puts them on a counter or a table, so both outputs keep the full quiet zone,
use error correction M or better (a smudged or partly covered sticker still scans), and carry an optional
caption under the code ("Закажите здесь — Кофейня на Пушкина"). The caption is drawn with the DejaVu Sans
font shipped in ``adapters/fonts`` because captions are usually Cyrillic and a server may have no fonts at
all. PNG and SVG share one layout, so a code looks the same whichever format is printed.
"""
from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.util import mask_func

_FONT_PATH = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"
_LEVELS = {"M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
_MAX_LINES = 3
CACHED = 256  # pictures kept per renderer (a few KB each): the orders of a busy hour
# characters XML 1.0 forbids even when escaped; a caption comes from shop data and must not break the file
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_FONT_PATH), size)


_RUNS = re.compile("0{5,}|1{5,}")
_FINDERS = ("10111010000", "00001011101")  # 1:1:3:1:1 with four light modules after or before
_FLIPS: dict[int, list[list[int]]] = {}  # by version: per mask, the rows' bits where it differs from mask 0
_FLIPS_LOCK = threading.Lock()


class _QRCode(qrcode.QRCode):
    """``qrcode.QRCode`` choosing the same mask as it does, in half the time (2.5 ms instead of 5 for a pickup
    code here).

    The library tries each of the eight masks by laying the data out again (pure Python, module by module) and
    scoring the result; that is most of the time a pickup code takes, drawn while the shop is busy. Here
    the data is laid out once: a mask flips only the data modules, so each candidate is that layout XOR a
    table made once per version, scored on rows of bits and strings with the library's rules and weights
    (ISO/IEC 18004 penalties N1-N4, as ``qrcode.util.lost_point`` counts them). tests/adapters/test_qr.py
    checks the choice is the library's."""

    def make(self, fit: bool = True) -> None:
        if self.mask_pattern is not None:  # a mask asked for: nothing to choose
            super().make(fit)
            return
        if fit or self.version is None:
            self.best_fit(start=self.version)
        pattern, rows = self._best_mask()
        # the chosen candidate is the code but for its format (and version) information: no third layout
        n = self.modules_count
        self.modules = [[(r >> (n - 1 - c)) & 1 == 1 for c in range(n)] for r in rows]
        self.setup_type_info(False, pattern)
        if self.version >= 7:
            self.setup_type_number(False)

    def best_mask_pattern(self) -> int:
        return self._best_mask()[0]

    def _best_mask(self) -> tuple[int, list[int]]:
        """The mask of the lowest penalty, and the layout with it as rows of bits (format information blank)."""
        self.makeImpl(True, 0)
        n = self.modules_count
        base = [int("".join("1" if m else "0" for m in row), 2) for row in self.modules]
        flips = self._flips_for(n)
        best, pattern, chosen = 0, 0, base
        for i in range(8):
            rows = [r ^ f for r, f in zip(base, flips[i], strict=True)]
            lost = _lost_point(rows, n)
            if i == 0 or best > lost:
                best, pattern, chosen = lost, i, rows
        return pattern, chosen

    def _flips_for(self, n: int) -> list[list[int]]:
        with _FLIPS_LOCK:
            known = _FLIPS.get(self.version)
        if known is not None:
            return known
        # the data modules: what the function patterns and the (test) format and version info leave free
        modules, self.modules = self.modules, [[None] * n for _ in range(n)]
        try:
            self.setup_position_probe_pattern(0, 0)
            self.setup_position_probe_pattern(n - 7, 0)
            self.setup_position_probe_pattern(0, n - 7)
            self.setup_position_adjust_pattern()
            self.setup_timing_pattern()
            self.setup_type_info(True, 0)
            if self.version >= 7:
                self.setup_type_number(True)
            free = [[m is None for m in row] for row in self.modules]
        finally:
            self.modules = modules
        masks = [mask_func(i) for i in range(8)]
        flips = [[int("".join("1" if free[r][c] and masks[0](r, c) != masks[i](r, c) else "0" for c in range(n)), 2)
                  for r in range(n)] for i in range(8)]
        with _FLIPS_LOCK:
            _FLIPS[self.version] = flips
        return flips


def _lost_point(rows: list[int], n: int) -> int:
    """``qrcode.util.lost_point`` of the matrix whose rows are these bits (the first column the highest)."""
    lines = [format(r, f"0{n}b") for r in rows]
    columns = ["".join(col) for col in zip(*lines, strict=True)]
    lost = 0
    for line in (*lines, *columns):
        lost += sum(len(run) - 2 for run in _RUNS.findall(line))  # N1: runs of five and more
        lost += 40 * (line.count(_FINDERS[0]) + line.count(_FINDERS[1]))  # N3: finder-like patterns
    full = (1 << n) - 1
    pairs = full >> 1  # bit i: columns i and i+1
    for top, bottom in pairwise(rows):  # N2: 2x2 blocks of one colour
        dark, light = top & bottom, ~(top | bottom) & full
        lost += 3 * (((dark & (dark >> 1)) & pairs).bit_count() + ((light & (light >> 1)) & pairs).bit_count())
    percent = float(sum(r.bit_count() for r in rows)) / (n ** 2)  # N4: the dark share, as the library rounds it
    return lost + int(abs(percent * 100 - 50) / 5) * 10


@dataclass(frozen=True, slots=True)
class _Layout:
    """Everything in pixels at ``box_size`` pixels per module; the SVG divides by ``box_size``."""

    matrix: list[list[bool]]  # includes the quiet zone
    width: int
    code_height: int
    lines: tuple[str, ...]
    font_size: int
    line_height: int
    height: int


class QrcodeRenderer:
    """Renders ``data`` as a QR code with an optional caption, as PNG or SVG bytes."""

    def __init__(
        self,
        *,
        box_size: int = 10,
        border: int = 4,
        error_correction: str = "M",
        module_mm: float = 1.0,
        dpi: int = 300,
    ) -> None:
        if error_correction not in _LEVELS:
            raise ValueError("error_correction must be M, Q or H: L is too fragile for print")
        if box_size < 1 or border < 4:
            raise ValueError("box_size must be >= 1 and border (the quiet zone) >= 4 modules")
        self.box_size = box_size
        self.border = border
        self.level = _LEVELS[error_correction]
        self.module_mm = module_mm  # physical size of one module in the SVG
        self.dpi = dpi  # recorded in the PNG so it prints at a sensible size
        # drawing costs ~5 ms of CPU: a code asked for again (an order's pickup code sent again after a
        # failure, shown again in the Mini App) is drawn once. lru_cache is safe across threads.
        self._png = lru_cache(maxsize=CACHED)(self._draw_png)
        self._svg = lru_cache(maxsize=CACHED)(self._draw_svg)

    # --- the port ------------------------------------------------------------------------------------

    def png(self, data: str, caption: str = "") -> bytes:
        return self._png(data, caption)

    def svg(self, data: str, caption: str = "") -> bytes:
        return self._svg(data, caption)

    def _draw_png(self, data: str, caption: str) -> bytes:
        lay = self._layout(data, caption)
        n = len(lay.matrix)
        code = Image.new("L", (n, n), 255)
        code.putdata([0 if dark else 255 for row in lay.matrix for dark in row])
        image = Image.new("L", (lay.width, lay.height), 255)
        image.paste(code.resize((lay.width, lay.code_height), Image.Resampling.NEAREST))
        if lay.lines:
            draw = ImageDraw.Draw(image)
            font = _font(lay.font_size)
            for i, line in enumerate(lay.lines):
                y = lay.code_height + i * lay.line_height
                draw.text((lay.width / 2, y), line, fill=0, font=font, anchor="mt")
        out = io.BytesIO()
        # zlib's default level, not ``optimize`` (its slowest): 1 ms instead of 6 for a file ~20 % larger (3 KB
        # for a pickup code), and a ready order's code is drawn while the shop is busy
        image.save(out, "PNG", dpi=(self.dpi, self.dpi))
        return out.getvalue()

    def _draw_svg(self, data: str, caption: str) -> bytes:
        lay = self._layout(data, caption)
        unit = self.box_size
        width, height = lay.width / unit, lay.height / unit
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1"'
            f' width="{_num(width * self.module_mm)}mm" height="{_num(height * self.module_mm)}mm"'
            f' viewBox="0 0 {_num(width)} {_num(height)}">',
            f'<rect width="{_num(width)}" height="{_num(height)}" fill="#fff"/>',
            f'<path fill="#000" shape-rendering="crispEdges" d="{_path(lay.matrix)}"/>',
        ]
        if lay.lines:
            size = lay.font_size / unit
            ascent = _font(lay.font_size).getmetrics()[0] / unit
            spans = []
            for i, line in enumerate(lay.lines):
                # the PNG anchors each line at its top ("mt"); SVG places baselines, one ascent lower
                y = (lay.code_height + i * lay.line_height) / unit + ascent
                spans.append(f'<tspan x="{_num(width / 2)}" y="{_num(y)}">{escape(line)}</tspan>')
            # one line: whitespace between tspans would become part of the text
            parts.append(
                f'<text text-anchor="middle" fill="#000" font-size="{_num(size)}"'
                f' font-family="DejaVu Sans, Verdana, Arial, sans-serif">{"".join(spans)}</text>'
            )
        parts.append("</svg>\n")
        return "\n".join(parts).encode("utf-8")

    # --- layout --------------------------------------------------------------------------------------

    def _layout(self, data: str, caption: str) -> _Layout:
        qr = _QRCode(error_correction=self.level, box_size=self.box_size, border=self.border)
        qr.add_data(data)
        qr.make(fit=True)
        matrix = qr.get_matrix()
        width = len(matrix) * self.box_size
        caption = _XML_INVALID.sub("", " ".join(caption.split()))
        if not caption:
            return _Layout(matrix, width, width, (), 0, 0, width)
        # the text spans the code itself, not the quiet zone around it
        text_width = width - 2 * self.border * self.box_size
        base = max(12, round(width / 16))
        lines, size = _fit(caption, text_width, base)
        line_height = round(size * 1.25)
        bottom = self.border * self.box_size // 2
        height = width + len(lines) * line_height + bottom
        return _Layout(matrix, width, width, tuple(lines), size, line_height, height)


def _fit(text: str, max_width: int, base: int) -> tuple[list[str], int]:
    """Wrap to at most three lines, shrinking the font a little before cutting the text short."""
    smallest = max(10, round(base * 0.7))
    for size in range(base, smallest - 1, -1):
        lines = _wrap(text, _font(size), max_width)
        if len(lines) <= _MAX_LINES:
            return lines, size
    font = _font(smallest)
    lines = _wrap(text, font, max_width)[:_MAX_LINES]
    last = lines[-1]
    while last and font.getlength(last + "…") > max_width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return lines, smallest


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        # a word wider than the line (a long URL in a caption) is broken wherever it must be
        while font.getlength(word) > max_width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and font.getlength(word[:cut]) > max_width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def _path(matrix: list[list[bool]]) -> str:
    """One path for all dark modules, a rectangle per horizontal run: compact and gap-free when printed."""
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return "".join(runs)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
