"""SQLite bookkeeping of delivery: the outbox with its cursors and failures, processed update ids, and
accounts that cannot be messaged."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from journey.events import DomainEvent
from journey.ports import DeliveryFailure, UpdateClaim

from .. import rows
from ..rows import dt, ts
from .repositories import _Repo, integrity_error

# An update being handled is kept as a row of its own beside the handled ones: its channel's name with this
# suffix, ``at`` the time its lease was taken (pruned with the rest).
LEASE = "~lease"
_LAST = 2 ** 63 - 1  # the largest rowid: ``pending`` without an upper bound


class SqliteUpdates(_Repo):
    async def claim(self, channel: str, update_id: str) -> bool:
        cur = self._write("INSERT OR IGNORE INTO processed_updates (channel, update_id, at) VALUES (?, ?, ?)",
                          (channel, update_id, ts(datetime.now(UTC))))
        return cur.rowcount == 1

    async def begin(self, channel: str, update_id: str, lease_seconds: float) -> UpdateClaim:
        if self._c.execute("SELECT 1 FROM processed_updates WHERE channel = ? AND update_id = ?",
                           (channel, update_id)).fetchone():
            return "done"
        now = datetime.now(UTC)
        cur = self._write(
            "INSERT INTO processed_updates (channel, update_id, at) VALUES (?, ?, ?) ON CONFLICT (channel, update_id)"
            " DO UPDATE SET at = excluded.at WHERE processed_updates.at < ?",
            (channel + LEASE, update_id, ts(now), ts(now - timedelta(seconds=lease_seconds))))
        return "taken" if cur.rowcount == 1 else "busy"

    async def finish(self, channel: str, update_id: str) -> None:
        self._write("INSERT OR IGNORE INTO processed_updates (channel, update_id, at) VALUES (?, ?, ?)",
                    (channel, update_id, ts(datetime.now(UTC))))
        await self.release(channel, update_id)

    async def release(self, channel: str, update_id: str) -> None:
        self._write("DELETE FROM processed_updates WHERE channel = ? AND update_id = ?", (channel + LEASE, update_id))

    async def prune(self, before: datetime) -> int:
        return self._write("DELETE FROM processed_updates WHERE at < ?", (ts(before),)).rowcount


class SqliteOutbox(_Repo):
    async def add(self, event: DomainEvent) -> None:
        at = event.at or datetime.now(UTC)
        self._write("INSERT INTO outbox (type, data, created_at) VALUES (?, ?, ?)",
                    (event.type.value, json.dumps(event.data, ensure_ascii=False, separators=(",", ":")), ts(at)))

    async def pending(self, subscriber: str, limit: int = 100, after: int = 0,
                      upto: int | None = None) -> list[DomainEvent]:
        # a walk along the primary key from ``after``, probing outbox_handled's key per row: ``upto`` bounds it
        cur = self._c.execute(
            "SELECT o.id, o.type, o.data, o.created_at FROM outbox o LEFT JOIN outbox_handled h"
            " ON h.subscriber = ? AND h.event_id = o.id WHERE o.id > ? AND o.id <= ? AND h.event_id IS NULL"
            " ORDER BY o.id LIMIT ?", (subscriber, after, _LAST if upto is None else upto, limit))
        return [rows.event(*r) for r in cur]

    async def latest(self) -> int:
        return self._c.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0]

    async def mark_handled(self, subscriber: str, event_id: int) -> bool:
        cur = self._write("INSERT OR IGNORE INTO outbox_handled (subscriber, event_id, handled_at) VALUES (?, ?, ?)",
                          (subscriber, event_id, ts(datetime.now(UTC))))
        return cur.rowcount == 1

    async def mark_all_handled(self, subscriber: str, event_ids: Sequence[int]) -> int:
        at = ts(datetime.now(UTC))
        try:
            cur = self._c.executemany(
                "INSERT OR IGNORE INTO outbox_handled (subscriber, event_id, handled_at) VALUES (?, ?, ?)",
                [(subscriber, i, at) for i in event_ids])
        except sqlite3.IntegrityError as e:
            raise integrity_error(e) from e
        return cur.rowcount

    async def is_handled(self, subscriber: str, event_id: int) -> bool:
        return self._c.execute("SELECT 1 FROM outbox_handled WHERE subscriber = ? AND event_id = ?",
                               (subscriber, event_id)).fetchone() is not None

    async def cursor(self, subscriber: str) -> int:
        r = self._c.execute("SELECT event_id FROM outbox_cursors WHERE subscriber = ?", (subscriber,)).fetchone()
        return r[0] if r else 0

    async def set_cursor(self, subscriber: str, event_id: int) -> None:
        self._write("INSERT INTO outbox_cursors (subscriber, event_id) VALUES (?, ?) ON CONFLICT (subscriber)"
                    " DO UPDATE SET event_id = MAX(event_id, excluded.event_id)", (subscriber, event_id))

    async def record_failure(self, failure: DeliveryFailure) -> None:
        self._write("INSERT OR REPLACE INTO outbox_failures (subscriber, event_id, attempts, next_at, error, dead,"
                    " failed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (failure.subscriber, failure.event_id, failure.attempts, ts(failure.next_at), failure.error[:500],
                     int(failure.dead), ts(failure.failed_at or datetime.now(UTC))))

    async def clear_failure(self, subscriber: str, event_id: int) -> None:
        self._write("DELETE FROM outbox_failures WHERE subscriber = ? AND event_id = ?", (subscriber, event_id))

    async def clear_failures(self, subscriber: str, event_ids: Sequence[int]) -> None:
        self._c.executemany("DELETE FROM outbox_failures WHERE subscriber = ? AND event_id = ?",
                            [(subscriber, i) for i in event_ids])

    async def failures(self, subscriber: str | None = None, *, dead: bool = False) -> list[DeliveryFailure]:
        sql = ("SELECT f.subscriber, f.event_id, f.attempts, f.next_at, f.error, f.dead, f.failed_at,"
               " o.type, o.data, o.created_at FROM outbox_failures f JOIN outbox o ON o.id = f.event_id"
               " WHERE f.dead = ?")
        params: tuple = (int(dead),)
        if subscriber is not None:
            sql += " AND f.subscriber = ?"
            params += (subscriber,)
        return [DeliveryFailure(s, i, n, dt(nx), err, bool(d), dt(fa), rows.event(i, t, data, at))  # type: ignore[arg-type]
                for s, i, n, nx, err, d, fa, t, data, at in self._c.execute(sql + " ORDER BY f.event_id", params)]

    async def prune(self, before: datetime) -> int:
        # read by every subscriber (the slowest cursor), owed by none: no failure record, waiting or dead
        done = ("SELECT id FROM outbox WHERE created_at < ? AND id <= (SELECT MIN(event_id) FROM outbox_cursors)"
                " AND id NOT IN (SELECT event_id FROM outbox_failures)")
        self._write(f"DELETE FROM outbox_handled WHERE event_id IN ({done})", (ts(before),))
        return self._write(f"DELETE FROM outbox WHERE id IN ({done})", (ts(before),)).rowcount


class SqliteReachability(_Repo):
    async def mark(self, account: str, reason: str, at: datetime) -> None:
        self._write("INSERT INTO unreachable_accounts (account, reason, since) VALUES (?, ?, ?) ON CONFLICT (account)"
                    " DO UPDATE SET reason = excluded.reason", (account, reason, ts(at)))

    async def clear(self, account: str) -> bool:
        return self._write("DELETE FROM unreachable_accounts WHERE account = ?", (account,)).rowcount == 1

    async def unreachable(self, accounts: Sequence[str]) -> dict[str, str]:
        accounts = list(dict.fromkeys(accounts))
        if not accounts:
            return {}
        marks = ",".join("?" * len(accounts))
        return dict(self._c.execute(f"SELECT account, reason FROM unreachable_accounts WHERE account IN ({marks})",
                                    accounts).fetchall())
