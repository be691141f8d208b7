"""PostgreSQL storage of group orders (journey/groups.py): the group and one row of lines per member.

A group read in a read-write unit of work is locked (``get``, ``by_code``): every join, the organiser's
close or cancel and the sweep's close read the group first, so they take turns on its row. A join counts
the members the one before it added (the threshold is reached exactly once), and a close counts every
join committed before it, while a join after it finds the group closed.
"""
from __future__ import annotations

from datetime import datetime

from journey.group_model import Group, GroupMember

from .. import rows
from ..rows import ts
from .base import PgRepo

_MARKS = ", ".join(f"${i}" for i in range(1, 23))


class PgGroups(PgRepo):
    async def add(self, g: Group) -> None:
        o = g.organiser
        await self._write(f"INSERT INTO group_orders ({rows.GROUP_COLUMNS}) VALUES ({_MARKS})",
                          g.id, g.code, g.organiser_id, o.channel.value, o.external_id, o.name, o.language,
                          g.point_id, ts(g.pickup_at), g.payer.value, g.payment, g.min_people, g.percent,
                          g.status.value, ts(g.created_at), ts(g.closes_at), ts(g.closed_at), g.reason,
                          int(g.discounted), g.email, g.return_url, g.order_id)

    async def get(self, group_id: str) -> Group | None:
        r = await self._c.fetchrow(f"SELECT {rows.GROUP_COLUMNS}"
                                   " FROM group_orders WHERE id = $1" + self._lock, group_id)
        return rows.group(r) if r else None

    async def by_code(self, code: str) -> Group | None:
        r = await self._c.fetchrow(f"SELECT {rows.GROUP_COLUMNS} FROM group_orders WHERE code = $1" + self._lock, code)
        return rows.group(r) if r else None

    async def update(self, g: Group) -> None:
        await self._write("UPDATE group_orders SET status = $1, closed_at = $2, reason = $3, discounted = $4,"
                          " order_id = $5, pickup_at = $6 WHERE id = $7",
                          g.status.value, ts(g.closed_at), g.reason, int(g.discounted), g.order_id, ts(g.pickup_at),
                          g.id)

    async def members(self, group_id: str) -> list[GroupMember]:
        # not locked: the engine holds the group's row (read first) whenever it decides on its members
        found = await self._c.fetch(f"SELECT {rows.GROUP_MEMBER_COLUMNS} FROM group_members WHERE group_id = $1"
                                    " ORDER BY joined_at, customer_id", group_id)
        return [rows.group_member(r) for r in found]

    async def save_member(self, m: GroupMember) -> None:
        a = m.account
        await self._write(f"INSERT INTO group_members ({rows.GROUP_MEMBER_COLUMNS}"
                          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                          " ON CONFLICT (group_id, customer_id) DO UPDATE SET channel = excluded.channel,"
                          " external_id = excluded.external_id, name = excluded.name, language = excluded.language,"
                          " lines = excluded.lines",
                          m.group_id, m.customer_id, a.channel.value, a.external_id, a.name, a.language,
                          rows.cart_lines_to_json(m.lines), ts(m.joined_at), m.order_id)

    async def set_member_order(self, group_id: str, customer_id: str, order_id: str) -> None:
        await self._write("UPDATE group_members SET order_id = $1 WHERE group_id = $2 AND customer_id = $3",
                          order_id, group_id, customer_id)

    async def due(self, now: datetime) -> list[str]:
        found = await self._c.fetch("SELECT id FROM group_orders WHERE (status = 'open' AND closes_at <= $1)"
                                    " OR status = 'closed' ORDER BY closes_at, id", ts(now))
        return [r[0] for r in found]
