"""SQLite storage of gifts (journey/gifts.py): one row per gift, with its giver and the friend who took it."""
from __future__ import annotations

from datetime import datetime

from journey.gift_model import Gift

from .. import rows
from ..rows import ts
from .repositories import _Repo


class SqliteGifts(_Repo):
    async def add(self, g: Gift) -> None:
        o = g.giver
        self._write(f"INSERT INTO gifts ({rows.GIFT_COLUMNS}) VALUES ({','.join('?' * 24)})",
                    (g.id, g.code, g.giver_id, o.channel.value, o.external_id, o.name, o.language, g.item_id,
                     g.title, g.amount.amount, g.amount.currency, g.message, g.provider, g.status.value,
                     ts(g.created_at), ts(g.updated_at), ts(g.expires_at), *rows.gift_friend(g), g.order_id, g.reason))

    async def get(self, gift_id: str) -> Gift | None:
        r = self._c.execute(f"SELECT {rows.GIFT_COLUMNS} FROM gifts WHERE id = ?", (gift_id,)).fetchone()
        return rows.gift(r) if r else None

    async def by_code(self, code: str) -> Gift | None:
        r = self._c.execute(f"SELECT {rows.GIFT_COLUMNS} FROM gifts WHERE code = ?", (code,)).fetchone()
        return rows.gift(r) if r else None

    async def by_order(self, order_id: str) -> Gift | None:
        r = self._c.execute(f"SELECT {rows.GIFT_COLUMNS} FROM gifts WHERE order_id = ?", (order_id,)).fetchone()
        return rows.gift(r) if r else None

    async def update(self, g: Gift) -> None:
        self._write("UPDATE gifts SET status = ?, updated_at = ?, expires_at = ?, friend_id = ?, friend_channel = ?,"
                    " friend_external = ?, friend_name = ?, friend_language = ?, order_id = ?, reason = ?"
                    " WHERE id = ?", (g.status.value, ts(g.updated_at), ts(g.expires_at), *rows.gift_friend(g),
                                      g.order_id, g.reason, g.id))

    async def due(self, now: datetime, unpaid_before: datetime) -> list[str]:
        """Paid gifts not redeemed by ``now``, expired ones whose money is not back yet, and gifts waiting
        for their payment since before ``unpaid_before``."""
        cur = self._c.execute("SELECT id FROM gifts WHERE (status IN ('active', 'claimed') AND expires_at <= ?)"
                              " OR status = 'expired' OR (status = 'awaiting_payment' AND created_at < ?)"
                              " ORDER BY created_at, id", (ts(now), ts(unpaid_before)))
        return [r[0] for r in cur]

    async def of_customer(self, customer_id: str, limit: int = 20) -> list[Gift]:
        """Gifts the customer gave or took, newest first."""
        cur = self._c.execute(f"SELECT {rows.GIFT_COLUMNS} FROM gifts WHERE (giver_id = ? OR friend_id = ?)"
                              " AND status != 'awaiting_payment' ORDER BY created_at DESC, id DESC LIMIT ?",
                              (customer_id, customer_id, limit))
        return [rows.gift(r) for r in cur]
