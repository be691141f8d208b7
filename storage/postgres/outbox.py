"""PostgreSQL bookkeeping of delivery: the outbox with its cursors and failures, processed update ids, and
accounts that cannot be messaged."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from journey.events import DomainEvent
from journey.ports import DeliveryFailure, UpdateClaim

from .. import rows
from ..rows import at, dt, ts
from .base import PgRepo

# An update being handled is kept as a row of its own beside the handled ones: its channel's name with this
# suffix, ``at`` the time its lease was taken (pruned with the rest). As on SQLite.
LEASE = "~lease"
_LAST = 2 ** 63 - 1  # the largest bigint: ``pending`` without an upper bound
HANDLED = "SELECT 1 FROM processed_updates WHERE channel = $1 AND update_id = $2"


class PgUpdates(PgRepo):
    """Processed update ids and leases: instances receiving one update at once wait on its key, one of them
    takes it."""

    async def claim(self, channel: str, update_id: str) -> bool:
        return await self._write(
            "INSERT INTO processed_updates (channel, update_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            channel, update_id, ts(datetime.now(UTC))) == 1

    async def begin(self, channel: str, update_id: str, lease_seconds: float) -> UpdateClaim:
        if await self._c.fetchval(HANDLED, channel, update_id):
            return "done"
        now = datetime.now(UTC)
        taken = await self._write(
            "INSERT INTO processed_updates (channel, update_id, at) VALUES ($1, $2, $3)"
            " ON CONFLICT (channel, update_id) DO UPDATE SET at = excluded.at WHERE processed_updates.at < $4",
            channel + LEASE, update_id, ts(now), ts(now - timedelta(seconds=lease_seconds)))
        if not taken:
            return "busy"
        # the lease's holder may have finished between the first look and the insert, which then waited on
        # its row: READ COMMITTED shows its "handled" to this statement
        if await self._c.fetchval(HANDLED, channel, update_id):
            await self.release(channel, update_id)
            return "done"
        return "taken"

    async def finish(self, channel: str, update_id: str) -> None:
        await self._write("INSERT INTO processed_updates (channel, update_id, at) VALUES ($1, $2, $3) "
                          "ON CONFLICT DO NOTHING", channel, update_id, ts(datetime.now(UTC)))
        await self.release(channel, update_id)

    async def release(self, channel: str, update_id: str) -> None:
        await self._write("DELETE FROM processed_updates WHERE channel = $1 AND update_id = $2",
                          channel + LEASE, update_id)

    async def prune(self, before: datetime) -> int:
        return await self._write("DELETE FROM processed_updates WHERE at < $1", ts(before))


class PgOutbox(PgRepo):
    """As on SQLite: events in id order, what each subscriber handled, its cursor and its failures."""

    async def add(self, event: DomainEvent) -> None:
        at = event.at or datetime.now(UTC)
        await self._write("INSERT INTO outbox (type, data, created_at) VALUES ($1, $2, $3)",
                          event.type.value, json.dumps(event.data, ensure_ascii=False, separators=(",", ":")),
                          ts(at))

    async def pending(self, subscriber: str, limit: int = 100, after: int = 0,
                      upto: int | None = None) -> list[DomainEvent]:
        found = await self._c.fetch(
            "SELECT o.id, o.type, o.data, o.created_at FROM outbox o LEFT JOIN outbox_handled h"
            " ON h.subscriber = $1 AND h.event_id = o.id WHERE o.id > $2 AND o.id <= $3 AND h.event_id IS NULL"
            " ORDER BY o.id LIMIT $4", subscriber, after, _LAST if upto is None else upto, limit)
        return [rows.event(*r) for r in found]

    async def latest(self) -> int:
        return int(await self._c.fetchval("SELECT COALESCE(MAX(id), 0) FROM outbox"))

    async def mark_handled(self, subscriber: str, event_id: int) -> bool:
        # the primary key decides between two instances handing one event to one subscriber
        return await self._write(
            "INSERT INTO outbox_handled (subscriber, event_id, handled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            subscriber, event_id, ts(datetime.now(UTC))) == 1

    async def mark_all_handled(self, subscriber: str, event_ids: Sequence[int]) -> int:
        return await self._write(
            "INSERT INTO outbox_handled (subscriber, event_id, handled_at) SELECT $1, i, $3"
            " FROM unnest($2::bigint[]) AS i ON CONFLICT DO NOTHING", subscriber, list(event_ids),
            ts(datetime.now(UTC)))

    async def is_handled(self, subscriber: str, event_id: int) -> bool:
        return await self._c.fetchval("SELECT 1 FROM outbox_handled WHERE subscriber = $1 AND event_id = $2",
                                      subscriber, event_id) is not None

    async def cursor(self, subscriber: str) -> int:
        value = await self._c.fetchval("SELECT event_id FROM outbox_cursors WHERE subscriber = $1", subscriber)
        return int(value) if value is not None else 0

    async def set_cursor(self, subscriber: str, event_id: int) -> None:
        await self._write("INSERT INTO outbox_cursors (subscriber, event_id) VALUES ($1, $2) ON CONFLICT (subscriber)"
                          " DO UPDATE SET event_id = GREATEST(outbox_cursors.event_id, excluded.event_id)",
                          subscriber, event_id)

    async def record_failure(self, failure: DeliveryFailure) -> None:
        await self._write(
            "INSERT INTO outbox_failures (subscriber, event_id, attempts, next_at, error, dead, failed_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subscriber, event_id) DO UPDATE SET"
            " attempts = excluded.attempts, next_at = excluded.next_at, error = excluded.error,"
            " dead = excluded.dead, failed_at = excluded.failed_at",
            failure.subscriber, failure.event_id, failure.attempts, ts(failure.next_at), failure.error[:500],
            int(failure.dead), ts(failure.failed_at or datetime.now(UTC)))

    async def clear_failure(self, subscriber: str, event_id: int) -> None:
        await self._write("DELETE FROM outbox_failures WHERE subscriber = $1 AND event_id = $2", subscriber, event_id)

    async def clear_failures(self, subscriber: str, event_ids: Sequence[int]) -> None:
        await self._write("DELETE FROM outbox_failures WHERE subscriber = $1 AND event_id = ANY($2::bigint[])",
                          subscriber, list(event_ids))

    async def failures(self, subscriber: str | None = None, *, dead: bool = False) -> list[DeliveryFailure]:
        sql = ("SELECT f.subscriber, f.event_id, f.attempts, f.next_at, f.error, f.dead, f.failed_at,"
               " o.type, o.data, o.created_at FROM outbox_failures f JOIN outbox o ON o.id = f.event_id"
               " WHERE f.dead = $1")
        params: tuple = (int(dead),)
        if subscriber is not None:
            sql += " AND f.subscriber = $2"
            params += (subscriber,)
        found = await self._c.fetch(sql + " ORDER BY f.event_id", *params)
        return [DeliveryFailure(s, i, n, at(nx), err, bool(d), dt(fa), rows.event(i, t, data, created))
                for s, i, n, nx, err, d, fa, t, data, created in found]

    async def prune(self, before: datetime) -> int:
        # read by every subscriber (the slowest cursor), owed by none: no failure record, waiting or dead
        done = ("SELECT id FROM outbox WHERE created_at < $1 AND id <= (SELECT MIN(event_id) FROM outbox_cursors)"
                " AND id NOT IN (SELECT event_id FROM outbox_failures)")
        await self._write(f"DELETE FROM outbox_handled WHERE event_id IN ({done})", ts(before))
        return await self._write(f"DELETE FROM outbox WHERE id IN ({done})", ts(before))


class PgReachability(PgRepo):
    async def mark(self, account: str, reason: str, at: datetime) -> None:
        await self._write("INSERT INTO unreachable_accounts (account, reason, since) VALUES ($1, $2, $3)"
                          " ON CONFLICT (account) DO UPDATE SET reason = excluded.reason", account, reason, ts(at))

    async def clear(self, account: str) -> bool:
        return await self._write("DELETE FROM unreachable_accounts WHERE account = $1", account) == 1

    async def unreachable(self, accounts: Sequence[str]) -> dict[str, str]:
        accounts = list(dict.fromkeys(accounts))
        if not accounts:
            return {}
        found = await self._c.fetch("SELECT account, reason FROM unreachable_accounts WHERE account = ANY($1::text[])",
                                   accounts)
        return {r[0]: r[1] for r in found}
