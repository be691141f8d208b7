"""PostgreSQL storage of gifts (journey/gifts.py): one row per gift, with its giver and the friend who took it.

A gift read in a read-write unit of work is locked (``get``, ``by_code``, ``by_order``): two friends taking
one gift at once, a payment's notice and the expiry sweep, a pickup and a cancel take turns on its row,
and the second sees what the first made of it (taken, paid, expired).
"""
from __future__ import annotations

from datetime import datetime

from journey.gift_model import Gift

from .. import rows
from ..rows import ts
from .base import PgRepo

_MARKS = ", ".join(f"${i}" for i in range(1, 25))


class PgGifts(PgRepo):
    async def add(self, g: Gift) -> None:
        o = g.giver
        await self._write(f"INSERT INTO gifts ({rows.GIFT_COLUMNS}) VALUES ({_MARKS})",
                          g.id, g.code, g.giver_id, o.channel.value, o.external_id, o.name, o.language, g.item_id,
                          g.title, g.amount.amount, g.amount.currency, g.message, g.provider, g.status.value,
                          ts(g.created_at), ts(g.updated_at), ts(g.expires_at), *rows.gift_friend(g), g.order_id,
                          g.reason)

    async def _one(self, where: str, value: str) -> Gift | None:
        r = await self._c.fetchrow(f"SELECT {rows.GIFT_COLUMNS} FROM gifts WHERE {where} = $1" + self._lock, value)
        return rows.gift(r) if r else None

    async def get(self, gift_id: str) -> Gift | None:
        return await self._one("id", gift_id)

    async def by_code(self, code: str) -> Gift | None:
        return await self._one("code", code)

    async def by_order(self, order_id: str) -> Gift | None:
        return await self._one("order_id", order_id)

    async def update(self, g: Gift) -> None:
        await self._write("UPDATE gifts SET status = $1, updated_at = $2, expires_at = $3, friend_id = $4,"
                          " friend_channel = $5, friend_external = $6, friend_name = $7, friend_language = $8,"
                          " order_id = $9, reason = $10 WHERE id = $11",
                          g.status.value, ts(g.updated_at), ts(g.expires_at), *rows.gift_friend(g), g.order_id,
                          g.reason, g.id)

    async def due(self, now: datetime, unpaid_before: datetime) -> list[str]:
        """Paid gifts not redeemed by ``now``, expired ones whose money is not back yet, and gifts waiting
        for their payment since before ``unpaid_before`` (each read again, locked, before it changes)."""
        found = await self._c.fetch("SELECT id FROM gifts WHERE (status IN ('active', 'claimed') AND expires_at <= $1)"
                                    " OR status = 'expired' OR (status = 'awaiting_payment' AND created_at < $2)"
                                    " ORDER BY created_at, id", ts(now), ts(unpaid_before))
        return [r[0] for r in found]

    async def of_customer(self, customer_id: str, limit: int = 20) -> list[Gift]:
        """Gifts the customer gave or took, newest first."""
        found = await self._c.fetch(f"SELECT {rows.GIFT_COLUMNS} FROM gifts WHERE (giver_id = $1 OR friend_id = $1)"
                                    " AND status != 'awaiting_payment' ORDER BY created_at DESC, id DESC LIMIT $2",
                                    customer_id, limit)
        return [rows.gift(r) for r in found]
