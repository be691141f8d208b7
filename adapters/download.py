"""Fetching what a person attached to a message (an owner's photo), with a cap on its size.

A download raises ``journey.photos.PhotoRefused("too_large")`` once more than ``limit`` bytes arrive (or are
announced), and ``ConnectionError`` for anything else that keeps the file from us: the network, an HTTP
error, an address that is not http(s). The conversation tells the two apart for the owner.
"""
from __future__ import annotations

from collections.abc import AsyncIterable
from urllib.parse import urlsplit

import aiohttp

from journey.photos import MAX_BYTES, PhotoRefused

TIMEOUT = 30  # seconds for the whole file


async def read_capped(chunks: AsyncIterable[bytes], limit: int = MAX_BYTES) -> bytes:
    """The bytes of a stream, refused as soon as they pass ``limit`` (nothing more is read)."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) > limit:
            raise PhotoRefused("too_large", f"more than {limit} bytes")
    return bytes(buffer)


async def fetch(url: str, limit: int = MAX_BYTES, timeout: float = TIMEOUT) -> bytes:
    """GET an http(s) address (a messenger's file server)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ConnectionError(f"not an http(s) address: {url[:100]!r}")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                session.get(url, raise_for_status=True) as response:
            if response.content_length is not None and response.content_length > limit:
                raise PhotoRefused("too_large", f"{response.content_length} bytes, at most {limit}")
            return await read_capped(response.content.iter_chunked(65536), limit)
    except (aiohttp.ClientError, TimeoutError) as e:
        raise ConnectionError(f"cannot fetch {urlsplit(url).netloc}: {e!r}") from e
