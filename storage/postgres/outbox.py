"""PostgreSQL bookkeeping of delivery: the outbox with its cursors and failures, processed update ids, and
accounts that cannot be messaged."""
from __future__ import annotations

from datetime import UTC, datetime

from ..rows import ts
from .base import PgRepo


class PgUpdates(PgRepo):
    """Processed update ids: instances receiving one update at once wait on its key, one of them claims."""

    async def claim(self, channel: str, update_id: str) -> bool:
        return await self._write(
            "INSERT INTO processed_updates (channel, update_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            channel, update_id, ts(datetime.now(UTC))) == 1

    async def release(self, channel: str, update_id: str) -> None:
        await self._write("DELETE FROM processed_updates WHERE channel = $1 AND update_id = $2", channel, update_id)

    async def prune(self, before: datetime) -> int:
        return await self._write("DELETE FROM processed_updates WHERE at < $1", ts(before))


class PgOutbox(PgRepo):
    pass  # being ported from storage/sqlite


class PgReachability(PgRepo):
    pass  # being ported from storage/sqlite
