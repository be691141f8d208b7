"""An owner's photo made into what the Mini App shows: the ``PhotoProcessor`` port with Pillow.

The Mini App shows a photo at 4:3, cropped to fill (``.thumb`` and ``.hero`` in ``webapp/static/app.css``:
``aspect-ratio: 4 / 3; object-fit: cover``), so the crop is done here and no pixel is sent that the screen
would cut off. Two widths (``SIZES``): a menu card is about 160 CSS pixels wide on a 360-pixel phone and at
most about 200 on a wide screen, 480 pixels at a density of 3; the item screen is the page's width, 328 on
that phone and 608 at most, so 1200 serves a density of 2 to 3. The front end offers both (``srcset``).

Each size is made twice: a WebP, which the Mini App asks for first (smaller than the JPEG: checked on a
shaded picture by tests/adapters/test_images.py; the WebViews the Mini App runs in show it), and a JPEG for
whatever does not take WebP and for the chat (the bot shows an owner the photo it stored). Whatever comes
in, what goes out is sRGB: turned upright as the camera's EXIF orientation says, transparency on white, the
colour profile converted, and no metadata at all (a phone's EXIF may carry where the photo was taken). Input
is refused before it costs much: over ``MAX_BYTES`` bytes, over ``MAX_PIXELS`` pixels by the header
(decompression bombs), or a format other than the photo formats.
"""
from __future__ import annotations

import io
from functools import cache

from PIL import Image, ImageCms, ImageOps

from journey.photos import MAX_BYTES, MAX_PIXELS, MIN_SIZE, PhotoRefused

# width (as the port names it) -> pixels; 4:3 like the CSS
SIZES = {"480": (480, 360), "1200": (1200, 900)}
WEBP = ".webp"  # the port's name of a size's WebP: "480.webp"
WEBP_QUALITY = 80  # WebP's scale is not JPEG's: 80 is the usual setting for photos
WEBP_EFFORT = 4  # Pillow's "method" 0-6: 6 is a few percent smaller for twice the time
# what phones and messengers send (a JPEG with several pictures opens as MPO); never EPS and the like
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
QUALITY = 82
WHITE = (255, 255, 255)


class PillowPhotos:
    """``prepare(data) -> {"480": jpeg, "1200": jpeg, "480.webp": webp, "1200.webp": webp}``; raises
    ``PhotoRefused`` (a ``ValueError``)."""

    def __init__(self, sizes: dict[str, tuple[int, int]] | None = None, *, max_bytes: int = MAX_BYTES,
                 max_pixels: int = MAX_PIXELS, min_size: tuple[int, int] = MIN_SIZE) -> None:
        self.sizes = dict(sizes or SIZES)
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.min_size = min_size
        Image.init()  # registers WebP and the other plugins ``FORMATS`` names

    def prepare(self, data: bytes) -> dict[str, bytes]:
        picture = self._open(data)
        crop = _crop_box(picture.size, 4, 3)
        width, height = crop[2] - crop[0], crop[3] - crop[1]
        if width < self.min_size[0] or height < self.min_size[1]:
            raise PhotoRefused("too_small", f"{picture.width}×{picture.height} pixels, at least "
                                            f"{self.min_size[0]}×{self.min_size[1]} at 4:3")
        out = {}
        for name, size in self.sizes.items():
            resized = picture.resize(size, Image.Resampling.LANCZOS, box=crop, reducing_gap=3.0)
            buffer = io.BytesIO()
            resized.save(buffer, "JPEG", quality=QUALITY, optimize=True, progressive=True)
            out[name] = buffer.getvalue()
            buffer = io.BytesIO()
            resized.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_EFFORT)
            out[name + WEBP] = buffer.getvalue()
        return out

    def _open(self, data: bytes) -> Image.Image:
        """The picture decoded, upright, in sRGB; refused as early as what is wrong can be seen."""
        if len(data) > self.max_bytes:
            raise PhotoRefused("too_large", f"{len(data)} bytes, at most {self.max_bytes}")
        try:
            picture = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.DecompressionBombError:
            raise PhotoRefused("too_large", "more pixels than a photo has") from None
        except Exception as e:  # whatever a decoder makes of bytes that are not a picture
            raise PhotoRefused("not_image", f"not a picture ({type(e).__name__})") from None
        if picture.width * picture.height > self.max_pixels:
            raise PhotoRefused("too_large", f"{picture.width}×{picture.height} pixels, at most "
                                            f"{self.max_pixels // 1_000_000} megapixels")
        try:
            if picture.format in ("JPEG", "MPO"):  # let the decoder scale down: a 12-megapixel JPEG decodes 4x faster
                largest = max(max(size) for size in self.sizes.values())
                picture.draft("RGB", (largest, largest))
            picture.load()
            upright = ImageOps.exif_transpose(picture) or picture
            return _srgb(upright)
        except Exception as e:  # cut off, damaged, or a mode no photo has
            raise PhotoRefused("not_image", f"a damaged picture ({type(e).__name__})") from None


def _crop_box(size: tuple[int, int], w: int, h: int) -> tuple[int, int, int, int]:
    """The centred ``w:h`` part of a picture of this size, as the CSS's ``object-fit: cover`` shows it."""
    width, height = size
    if width * h > height * w:  # wider than w:h: cut the sides
        cut = height * w // h
        left = (width - cut) // 2
        return left, 0, left + cut, height
    cut = width * h // w
    top = (height - cut) // 2
    return 0, top, width, top + cut


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _srgb(picture: Image.Image) -> Image.Image:
    """RGB in sRGB: transparency painted on white, 16-bit grey scaled down, a colour profile applied."""
    if picture.mode in ("I", "F") or picture.mode.startswith("I;16"):
        picture = picture.convert("I").point(lambda v: v / 256).convert("L")
    if picture.mode == "P":
        picture = picture.convert("RGBA" if "transparency" in picture.info else "RGB")
    if picture.mode in ("RGBA", "LA", "La", "RGBa", "PA"):
        rgba = picture.convert("RGBA")
        picture = Image.new("RGB", rgba.size, WHITE)
        picture.paste(rgba, mask=rgba.getchannel("A"))
        return picture
    icc = picture.info.get("icc_profile")
    if icc and picture.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(picture, source, _srgb_profile(), outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the colours as they are
    return picture.convert("RGB")
