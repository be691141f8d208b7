"""SQLite storage of broadcasts: the owner's message, its recipients, and the claims of the senders.

Every change of a recipient's row is one conditional ``UPDATE``: whichever process runs it first wins,
and the others see no row changed.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from journey.broadcasts import AudienceMember, Broadcast, BroadcastRecipient, BroadcastStatus

from .. import rows
from ..rows import dt, ts
from .repositories import _Repo

_FINISHED = (BroadcastStatus.DONE, BroadcastStatus.STOPPED, BroadcastStatus.CANCELLED)


def _marks(values: Sequence) -> str:
    return ",".join("?" * len(values))


class SqliteBroadcasts(_Repo):
    async def add(self, broadcast: Broadcast) -> int:
        cur = self._write("INSERT INTO broadcasts (status, text, author, language, channels, created_at)"
                          " VALUES (?, ?, ?, ?, ?, ?)",
                          (broadcast.status.value, broadcast.text, broadcast.author, broadcast.language,
                           ",".join(broadcast.channels), ts(broadcast.created_at)))
        return int(cur.lastrowid or 0)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        r = self._c.execute(f"SELECT {rows.BROADCAST_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,)).fetchone()
        return rows.broadcast(r) if r else None

    async def latest(self) -> Broadcast | None:
        r = self._c.execute(f"SELECT {rows.BROADCAST_COLUMNS}"
                            " FROM broadcasts WHERE status <> 'draft' ORDER BY id DESC LIMIT 1"
                            ).fetchone()
        return rows.broadcast(r) if r else None

    async def sending(self) -> list[Broadcast]:
        cur = self._c.execute(f"SELECT {rows.BROADCAST_COLUMNS} FROM broadcasts WHERE status = 'sending' ORDER BY id")
        return [rows.broadcast(r) for r in cur]

    async def set_status(self, broadcast_id: int, status: BroadcastStatus, when: datetime) -> None:
        column = "started_at" if status is BroadcastStatus.SENDING else "finished_at" if status in _FINISHED else None
        extra = f", {column} = ?" if column else ""
        self._write(f"UPDATE broadcasts SET status = ?{extra} WHERE id = ?",
                    (status.value, *((ts(when),) if column else ()), broadcast_id))

    async def audience(self, channels: Sequence[str]) -> list[AudienceMember]:
        if not channels:
            return []
        cur = self._c.execute(
            "SELECT a.channel, a.external_id, c.id, c.language, COALESCE((SELECT o.account FROM orders o"
            "  WHERE o.customer_id = c.id ORDER BY o.created_at DESC, o.id DESC LIMIT 1), '')"
            " FROM accounts a JOIN customers c ON c.id = a.customer_id"
            f" WHERE c.consent = 1 AND c.merged_into IS NULL AND a.channel IN ({_marks(channels)})"
            "  AND NOT EXISTS (SELECT 1 FROM unreachable_accounts u"
            "   WHERE u.account = a.channel || ':' || a.external_id)"
            " ORDER BY c.id, a.channel, a.external_id", tuple(channels))
        return [AudienceMember(*r) for r in cur]

    async def add_recipients(self, broadcast_id: int, members: Sequence[AudienceMember]) -> int:
        cur = self._c.executemany(
            "INSERT OR IGNORE INTO broadcast_recipients (broadcast_id, channel, external_id, language)"
            " VALUES (?, ?, ?, ?)", [(broadcast_id, m.channel, m.external_id, m.language) for m in members])
        return cur.rowcount

    async def counts(self, broadcast_id: int) -> tuple[dict[str, int], datetime | None]:
        cur = self._c.execute("SELECT status, COUNT(*), MIN(next_at) FROM broadcast_recipients"
                              " WHERE broadcast_id = ? GROUP BY status", (broadcast_id,))
        counts, next_at = {}, None
        for status, count, first in cur:
            counts[status] = count
            if status == "pending":
                next_at = dt(first)
        return counts, next_at

    async def due(self, broadcast_id: int, channels: Sequence[str], now: datetime,
                  limit: int) -> list[BroadcastRecipient]:
        if not channels:
            return []
        cur = self._c.execute(
            "SELECT r.id, r.broadcast_id, r.channel, r.external_id, r.language FROM broadcast_recipients r"
            " JOIN broadcasts b ON b.id = r.broadcast_id AND b.status = 'sending'"
            f" WHERE r.broadcast_id = ? AND r.status = 'pending' AND r.channel IN ({_marks(channels)})"
            "  AND (r.next_at IS NULL OR r.next_at <= ?) ORDER BY r.id LIMIT ?",
            (broadcast_id, *channels, ts(now), limit))
        return [BroadcastRecipient(*r) for r in cur]

    async def claim(self, recipient_id: int, now: datetime) -> bool:
        cur = self._write(
            "UPDATE broadcast_recipients SET status = 'sending', claimed_at = ?, attempts = attempts + 1"
            " WHERE id = ? AND status = 'pending'"
            "  AND (SELECT b.status FROM broadcasts b WHERE b.id = broadcast_id) = 'sending'", (ts(now), recipient_id))
        return cur.rowcount == 1

    async def attempts(self, recipient_id: int) -> int:
        r = self._c.execute("SELECT attempts FROM broadcast_recipients WHERE id = ?", (recipient_id,)).fetchone()
        return int(r[0]) if r else 0

    async def mark_sent(self, recipient_id: int, when: datetime) -> None:
        # a send slower than the claim's lease was counted unconfirmed meanwhile: it went, after all
        self._write("UPDATE broadcast_recipients SET status = 'sent', done_at = ?, error = '', next_at = NULL"
                    " WHERE id = ? AND status IN ('sending', 'unconfirmed')", (ts(when), recipient_id))

    async def mark_failed(self, recipient_id: int, error: str, when: datetime) -> None:
        self._write("UPDATE broadcast_recipients SET status = 'failed', done_at = ?, error = ?"
                    " WHERE id = ? AND status IN ('sending', 'unconfirmed')", (ts(when), error[:500], recipient_id))

    async def retry_later(self, recipient_id: int, next_at: datetime, error: str) -> None:
        self._write("UPDATE broadcast_recipients SET status = 'pending', next_at = ?, error = ?"
                    " WHERE id = ? AND status = 'sending'", (ts(next_at), error[:500], recipient_id))

    async def expire_claims(self, broadcast_id: int, before: datetime) -> int:
        return self._write("UPDATE broadcast_recipients SET status = 'unconfirmed'"
                           " WHERE broadcast_id = ? AND status = 'sending' AND claimed_at < ?",
                           (broadcast_id, ts(before))).rowcount

    async def claim_milestone(self, broadcast_id: int, percent: int) -> bool:
        return self._write("UPDATE broadcasts SET reported = ? WHERE id = ? AND reported < ?",
                           (percent, broadcast_id, percent)).rowcount == 1
