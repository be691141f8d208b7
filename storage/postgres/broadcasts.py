"""PostgreSQL storage of broadcasts: the owner's message, its recipients, and the claims of the senders.

Every change of a recipient's row is one conditional ``UPDATE``, as on SQLite: of several instances sending
one broadcast, the first to update a row wins it; the others wait on the row lock, re-read the row (READ
COMMITTED) and see no row changed, so one recipient is claimed, and sent to, once. A row left ``sending`` by
an instance killed mid-send turns ``unconfirmed`` after the claim's lease (``expire_claims``).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from journey.broadcasts import AudienceMember, Broadcast, BroadcastRecipient, BroadcastStatus

from .. import rows
from ..rows import dt, ts
from .base import PgRepo

_FINISHED = (BroadcastStatus.DONE, BroadcastStatus.STOPPED, BroadcastStatus.CANCELLED)


class PgBroadcasts(PgRepo):
    async def add(self, broadcast: Broadcast) -> int:
        return int(await self._c.fetchval(
            "INSERT INTO broadcasts (status, text, author, language, channels, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            broadcast.status.value, broadcast.text, broadcast.author, broadcast.language,
            ",".join(broadcast.channels), ts(broadcast.created_at)))

    async def get(self, broadcast_id: int) -> Broadcast | None:
        # locked in a write unit of work: starting, stopping and finishing one broadcast take turns
        r = await self._c.fetchrow(f"SELECT {rows.BROADCAST_COLUMNS}"
                                   f" FROM broadcasts WHERE id = $1{self._lock}", broadcast_id)
        return rows.broadcast(r) if r else None

    async def latest(self) -> Broadcast | None:
        r = await self._c.fetchrow(
            f"SELECT {rows.BROADCAST_COLUMNS} FROM broadcasts WHERE status <> 'draft' ORDER BY id DESC LIMIT 1")
        return rows.broadcast(r) if r else None

    async def sending(self) -> list[Broadcast]:
        found = await self._c.fetch(f"SELECT {rows.BROADCAST_COLUMNS}"
                                    " FROM broadcasts WHERE status = 'sending' ORDER BY id")
        return [rows.broadcast(r) for r in found]

    async def set_status(self, broadcast_id: int, status: BroadcastStatus, when: datetime) -> None:
        column = "started_at" if status is BroadcastStatus.SENDING else "finished_at" if status in _FINISHED else None
        if column:
            await self._write(f"UPDATE broadcasts SET status = $1, {column} = $2 WHERE id = $3",
                              status.value, ts(when), broadcast_id)
        else:
            await self._write("UPDATE broadcasts SET status = $1 WHERE id = $2", status.value, broadcast_id)

    async def audience(self, channels: Sequence[str]) -> list[AudienceMember]:
        if not channels:
            return []
        found = await self._c.fetch(
            "SELECT a.channel, a.external_id, c.id, c.language, COALESCE((SELECT o.account FROM orders o"
            "  WHERE o.customer_id = c.id ORDER BY o.created_at DESC, o.id DESC LIMIT 1), '')"
            " FROM accounts a JOIN customers c ON c.id = a.customer_id"
            " WHERE c.consent = 1 AND c.merged_into IS NULL AND a.channel = ANY($1::text[])"
            "  AND NOT EXISTS (SELECT 1 FROM unreachable_accounts u"
            "   WHERE u.account = a.channel || ':' || a.external_id)"
            " ORDER BY c.id, a.channel, a.external_id", list(channels))
        return [AudienceMember(*r) for r in found]

    async def add_recipients(self, broadcast_id: int, members: Sequence[AudienceMember]) -> int:
        if not members:
            return 0
        return await self._write(
            "INSERT INTO broadcast_recipients (broadcast_id, channel, external_id, language)"
            " SELECT $1, m.channel, m.external_id, m.language"
            " FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS m(channel, external_id, language, n)"
            " ORDER BY m.n ON CONFLICT DO NOTHING",
            broadcast_id, [m.channel for m in members], [m.external_id for m in members],
            [m.language for m in members])

    async def counts(self, broadcast_id: int) -> tuple[dict[str, int], datetime | None]:
        found = await self._c.fetch("SELECT status, COUNT(*), MIN(next_at) FROM broadcast_recipients"
                                   " WHERE broadcast_id = $1 GROUP BY status", broadcast_id)
        counts, next_at = {}, None
        for status, count, first in found:
            counts[status] = int(count)
            if status == "pending":
                next_at = dt(first)
        return counts, next_at

    async def due(self, broadcast_id: int, channels: Sequence[str], now: datetime,
                  limit: int) -> list[BroadcastRecipient]:
        if not channels:
            return []
        found = await self._c.fetch(
            "SELECT r.id, r.broadcast_id, r.channel, r.external_id, r.language FROM broadcast_recipients r"
            " JOIN broadcasts b ON b.id = r.broadcast_id AND b.status = 'sending'"
            " WHERE r.broadcast_id = $1 AND r.status = 'pending' AND r.channel = ANY($2::text[])"
            "  AND (r.next_at IS NULL OR r.next_at <= $3) ORDER BY r.id LIMIT $4",
            broadcast_id, list(channels), ts(now), limit)
        return [BroadcastRecipient(*r) for r in found]

    async def claim(self, recipient_id: int, now: datetime) -> bool:
        # a second sender waits on the row, then finds it no longer pending: no row changed, not claimed
        return await self._write(
            "UPDATE broadcast_recipients r SET status = 'sending', claimed_at = $1, attempts = r.attempts + 1"
            " WHERE r.id = $2 AND r.status = 'pending'"
            "  AND EXISTS (SELECT 1 FROM broadcasts b WHERE b.id = r.broadcast_id AND b.status = 'sending')",
            ts(now), recipient_id) == 1

    async def attempts(self, recipient_id: int) -> int:
        value = await self._c.fetchval(f"SELECT attempts FROM broadcast_recipients WHERE id = $1{self._lock}",
                                       recipient_id)
        return int(value) if value is not None else 0

    async def mark_sent(self, recipient_id: int, when: datetime) -> None:
        # a send slower than the claim's lease was counted unconfirmed meanwhile: it went, after all
        await self._write("UPDATE broadcast_recipients SET status = 'sent', done_at = $1, error = '', next_at = NULL"
                          " WHERE id = $2 AND status IN ('sending', 'unconfirmed')", ts(when), recipient_id)

    async def mark_failed(self, recipient_id: int, error: str, when: datetime) -> None:
        await self._write("UPDATE broadcast_recipients SET status = 'failed', done_at = $1, error = $2"
                          " WHERE id = $3 AND status IN ('sending', 'unconfirmed')",
                          ts(when), error[:500], recipient_id)

    async def retry_later(self, recipient_id: int, next_at: datetime, error: str) -> None:
        await self._write("UPDATE broadcast_recipients SET status = 'pending', next_at = $1, error = $2"
                          " WHERE id = $3 AND status = 'sending'", ts(next_at), error[:500], recipient_id)

    async def expire_claims(self, broadcast_id: int, before: datetime) -> int:
        return await self._write("UPDATE broadcast_recipients SET status = 'unconfirmed'"
                                 " WHERE broadcast_id = $1 AND status = 'sending' AND claimed_at < $2",
                                 broadcast_id, ts(before))

    async def claim_milestone(self, broadcast_id: int, percent: int) -> bool:
        return await self._write("UPDATE broadcasts SET reported = $1 WHERE id = $2 AND reported < $1",
                                 percent, broadcast_id) == 1
