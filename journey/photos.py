"""An item's photo, sent by an owner from the chat (a photo captioned ``/photo <item>``).

The photo is made into the sizes the Mini App shows (a ``PhotoProcessor``: CPU work, run in a worker
thread), stored by Vitrina itself in the database (so every instance serves it, whatever machine it runs
on) and set on the item in one unit of work with its audit entry, so ``/undo`` brings the previous photo
back like any other menu change. Stored files are never changed nor reused for other bytes: a name is made
from the digest of the photo it came from, so a new upload never collides and a browser may keep a file
for ever. A photo no item shows any more stays stored, for the undo that may bring it back.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from .admin import Edit, resolve
from .audit import item_snapshot, record, require_owner
from .channels import CustomerRef
from .errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from .engine import Engine

# what a photo must be to go on the menu (``PhotoProcessor`` keeps to these, the chat tells them)
MAX_BYTES = 20 * 1024 * 1024  # what a channel hands over at most (Telegram's Bot API downloads 20 MB at most)
MAX_PIXELS = 50_000_000  # a 50-megapixel camera; a bigger picture is refused by its header, before decoding
MIN_SIZE = (320, 240)  # its 4:3 part at least; a smaller picture would be a blur on any phone
MEDIA_PATH = "/media/"
JPEG = "image/jpeg"
WEBP = "image/webp"
# ``<32 hex digits of the source's SHA-256>-<width>.jpg`` (or ``.webp``); the width is the variant's
# (``PhotoProcessor``). Photos stored before WebP was made have the JPEGs only.
NAME = re.compile(r"[0-9a-f]{32}-[1-9][0-9]{1,3}\.(jpg|webp)")


class PhotoRefused(ValueError):
    """Bytes that cannot become a menu photo. ``reason`` says why, for a message in the owner's language:
    ``not_image`` (not a picture, or a damaged one), ``too_small``, ``too_large`` (bytes or pixels)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Media:
    """One stored file, served at ``/media/<name>``."""

    name: str
    content_type: str
    data: bytes
    created_at: datetime


def media_url(name: str) -> str:
    return MEDIA_PATH + name


# --- use cases ----------------------------------------------------------------------------------------

async def set_photo(self: Engine, actor: CustomerRef, item: str, data: bytes) -> Edit:
    """Make ``data`` the photo of the item named by its id or exact name (any case, hidden items too).

    Refused (``bad_input``, the ``PhotoRefused`` as its cause) for what is not a usable picture; nothing is
    stored then. The same photo sent again changes nothing."""
    require_owner(self, actor)
    if self.photos is None:
        raise DomainError(ErrorCode.BAD_INPUT, "photos cannot be processed on this server")
    async with self.read() as uow:  # the item first: a wrong name is told without the image work
        found = resolve(await uow.catalog.items(include_unavailable=True), item)
    try:
        if len(data) > MAX_BYTES:
            raise PhotoRefused("too_large", f"{len(data)} bytes, at most {MAX_BYTES}")
        variants = await asyncio.to_thread(self.photos.prepare, data)
    except ValueError as e:
        refused = e if isinstance(e, PhotoRefused) else PhotoRefused("not_image", str(e))
        raise DomainError(ErrorCode.BAD_INPUT, f"photo: {refused}") from refused
    digest = hashlib.sha256(data).hexdigest()[:32]
    # "480" is a JPEG, "480.webp" the same size in WebP
    names = {variant: f"{digest}-{variant}" + ("" if variant.endswith(".webp") else ".jpg") for variant in variants}
    main = names[max((v for v in variants if v.isdigit()), key=int)]  # the largest JPEG: shown without srcset
    now = self.now()
    async with self.uow() as uow:
        before = (await uow.catalog.items_by_id([found.id])).get(found.id)
        if before is None:  # removed since it was looked up
            raise DomainError(ErrorCode.ITEM_NOT_FOUND, item.strip())
        after = replace(before, photo=media_url(main))
        if after.photo == before.photo:
            return Edit(before, None)
        for variant, blob in variants.items():
            await uow.media.add(Media(names[variant], WEBP if variant.endswith(".webp") else JPEG, blob, now))
        await uow.catalog.save_item(after)
        change = await record(self, uow, actor, "photo", f"item:{after.id}", item_snapshot(before),
                              item_snapshot(after))
        return Edit(after, change)


async def media(self: Engine, name: str) -> Media | None:
    """A stored file by its name; None for a name that is not one of ours or not stored."""
    if not NAME.fullmatch(name):
        return None
    async with self.read() as uow:
        return await uow.media.get(name)
