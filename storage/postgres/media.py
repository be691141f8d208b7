"""PostgreSQL storage of the files Vitrina serves itself (``/media/<name>``)."""
from __future__ import annotations

from journey.photos import Media

from ..rows import at, ts
from .base import PgRepo


class PgMedia(PgRepo):
    async def add(self, media: Media) -> None:
        # a name is made from the content: one already stored holds these very bytes
        await self._write("INSERT INTO media (name, content_type, data, created_at) VALUES ($1, $2, $3, $4)"
                          " ON CONFLICT (name) DO NOTHING",
                          media.name, media.content_type, bytes(media.data), ts(media.created_at))

    async def get(self, name: str) -> Media | None:
        r = await self._c.fetchrow("SELECT name, content_type, data, created_at FROM media WHERE name = $1", name)
        return Media(r[0], r[1], bytes(r[2]), at(r[3])) if r else None
