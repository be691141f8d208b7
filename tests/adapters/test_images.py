"""Owners' photos made into the Mini App's sizes with Pillow: what comes out, and what is refused."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from adapters.images import SIZES, PillowPhotos
from journey.photos import MAX_PIXELS, PhotoRefused

RED, BLUE, WHITE = (220, 20, 20), (20, 20, 220), (255, 255, 255)


def encoded(picture: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def halves(size: tuple[int, int], left, right, mode: str = "RGB") -> Image.Image:
    """A picture whose left half is one colour and right half another."""
    picture = Image.new(mode, size, left)
    picture.paste(Image.new(mode, (size[0] // 2, size[1]), right), (size[0] // 2, 0))
    return picture


def opened(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def near(pixel, colour, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size: a signature, a header chunk and one empty data chunk (a decompression bomb's
    shape; nothing past the header should ever be decoded)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.fixture
def photos() -> PillowPhotos:
    return PillowPhotos()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_every_photo_format_becomes_jpegs_and_webps_of_the_mini_apps_sizes(photos, fmt):
    out = photos.prepare(encoded(halves((1600, 1200), RED, BLUE), fmt))

    assert set(out) == {"480", "1200", "480.webp", "1200.webp"} == {*SIZES, *(f"{s}.webp" for s in SIZES)}
    for name, data in out.items():
        picture = opened(data)
        size, _, webp = name.partition(".")
        assert (picture.format, picture.mode, picture.size) == ("WEBP" if webp else "JPEG", "RGB", SIZES[size])
        assert near(picture.getpixel((10, picture.height // 2)), RED)
        assert near(picture.getpixel((picture.width - 10, picture.height // 2)), BLUE)


def test_the_webps_are_smaller_than_the_jpegs(photos):
    # a photo's kind of content: smooth shading with fine grain (a flat colour says little about a codec)
    shading = Image.radial_gradient("L").resize((1600, 1200)).convert("RGB")
    grain = Image.effect_noise((1600, 1200), 12).convert("RGB")
    out = photos.prepare(encoded(Image.blend(shading, grain, 0.2), "JPEG", quality=95))

    for size in SIZES:
        assert len(out[f"{size}.webp"]) < len(out[size]) * 0.8, {k: len(v) for k, v in out.items()}


def test_a_wide_photo_is_cut_to_its_middle_at_4_to_3(photos):
    # 1600x600: the middle 800x600 is kept; blue bars on both ends are cut away, a red middle is left
    picture = Image.new("RGB", (1600, 600), BLUE)
    picture.paste(Image.new("RGB", (800, 600), RED), (400, 0))

    card = opened(photos.prepare(encoded(picture, "PNG"))["480"])

    assert card.size == (480, 360)
    assert near(card.getpixel((3, 3)), RED) and near(card.getpixel((476, 356)), RED)


def test_the_camera_orientation_is_applied_and_no_metadata_is_kept(photos):
    # stored as 1200x900, left red and right blue, with EXIF orientation 6: the camera was turned, the
    # picture is shown turned a quarter clockwise, so red is on top; GPS and the rest must not be kept
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    data = encoded(halves((1200, 900), RED, BLUE), "JPEG", exif=exif.tobytes(), quality=95)

    screen = opened(photos.prepare(data)["1200"])

    assert screen.size == (1200, 900)
    assert near(screen.getpixel((600, 10)), RED) and near(screen.getpixel((600, 890)), BLUE)
    assert not screen.getexif() and "exif" not in screen.info


@pytest.mark.parametrize("fmt, mode, clear", [("PNG", "RGBA", (0, 0, 0, 0)), ("PNG", "LA", (0, 0)),
                                               ("WEBP", "RGBA", (0, 0, 0, 0))])
def test_transparency_turns_white(photos, fmt, mode, clear):
    picture = Image.new(mode, (800, 600), clear)
    picture.paste(Image.new(mode, (400, 600), RED if mode == "RGBA" else (40, 255)), (400, 0))

    card = opened(photos.prepare(encoded(picture, fmt))["480"])

    assert near(card.getpixel((10, 180)), WHITE, 3)
    assert not near(card.getpixel((470, 180)), WHITE)


def test_a_palette_gif_with_a_transparent_colour_turns_white(photos):
    picture = Image.new("P", (800, 600), 1)
    picture.putpalette([0, 0, 0, 220, 20, 20] + [0] * 762)
    picture.paste(0, (0, 0, 400, 600))

    card = opened(photos.prepare(encoded(picture, "GIF", transparency=0))["480"])

    assert near(card.getpixel((10, 180)), WHITE, 3) and near(card.getpixel((470, 180)), RED)


def test_a_cmyk_jpeg_comes_out_rgb(photos):
    card = opened(photos.prepare(encoded(Image.new("CMYK", (800, 600), (0, 255, 255, 0)), "JPEG"))["480"])

    assert card.mode == "RGB" and near(card.getpixel((240, 180)), (255, 0, 0), 30)


@pytest.mark.parametrize("data", [b"", b"just some text, not a picture\n" * 20, b"%!PS-Adobe-3.0 EPSF-3.0\n%%EOF",
                                  b"\x89PNG\r\n\x1a\n" + b"\x00" * 200,
                                  encoded(Image.new("RGB", (1000, 800), RED), "JPEG")[:300],
                                  encoded(Image.new("RGB", (1000, 800), RED), "TIFF")])
def test_what_is_not_a_photo_is_refused_as_such(photos, data):
    with pytest.raises(PhotoRefused) as refused:
        photos.prepare(data)
    assert refused.value.reason == "not_image"
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize("size", [(300, 300), (1000, 200), (200, 1000)])
def test_a_photo_too_small_for_a_card_is_refused(photos, size):
    with pytest.raises(PhotoRefused) as refused:
        photos.prepare(encoded(Image.new("RGB", size, RED), "PNG"))
    assert refused.value.reason == "too_small"


def test_the_smallest_allowed_photo_is_taken():
    assert opened(PillowPhotos().prepare(encoded(Image.new("RGB", (320, 240), RED), "PNG"))["1200"]).size == (1200, 900)


@pytest.mark.parametrize("size", [(10_000, 6_000), (30_000, 30_000)])
def test_too_many_pixels_are_refused_by_the_header_alone(photos, size):
    # the first is over our cap, the second over Pillow's own bomb limit; neither is decoded
    assert size[0] * size[1] > MAX_PIXELS
    with pytest.raises(PhotoRefused) as refused:
        photos.prepare(png_header(*size))
    assert refused.value.reason == "too_large"


def test_too_many_bytes_are_refused_before_opening():
    small = PillowPhotos(max_bytes=1000)
    data = encoded(Image.effect_noise((400, 300), 64).convert("RGB"), "PNG")
    assert len(data) > 1000

    with pytest.raises(PhotoRefused) as refused:
        small.prepare(data)
    assert refused.value.reason == "too_large"
