"""SQLite storage of group orders (journey/groups.py): the group and one row of lines per member."""
from __future__ import annotations

from datetime import datetime

from journey.group_model import Group, GroupMember

from .. import rows
from ..rows import ts
from .repositories import _Repo


class SqliteGroups(_Repo):
    async def add(self, g: Group) -> None:
        o = g.organiser
        self._write(f"INSERT INTO group_orders ({rows.GROUP_COLUMNS}) VALUES ({','.join('?' * 22)})",
                    (g.id, g.code, g.organiser_id, o.channel.value, o.external_id, o.name, o.language, g.point_id,
                     ts(g.pickup_at), g.payer.value, g.payment, g.min_people, g.percent, g.status.value,
                     ts(g.created_at), ts(g.closes_at), ts(g.closed_at), g.reason, int(g.discounted), g.email,
                     g.return_url, g.order_id))

    async def get(self, group_id: str) -> Group | None:
        r = self._c.execute(f"SELECT {rows.GROUP_COLUMNS} FROM group_orders WHERE id = ?", (group_id,)).fetchone()
        return rows.group(r) if r else None

    async def by_code(self, code: str) -> Group | None:
        r = self._c.execute(f"SELECT {rows.GROUP_COLUMNS} FROM group_orders WHERE code = ?", (code,)).fetchone()
        return rows.group(r) if r else None

    async def update(self, g: Group) -> None:
        self._write("UPDATE group_orders SET status = ?, closed_at = ?, reason = ?, discounted = ?, order_id = ?,"
                    " pickup_at = ? WHERE id = ?", (g.status.value, ts(g.closed_at), g.reason, int(g.discounted),
                                                   g.order_id, ts(g.pickup_at), g.id))

    async def members(self, group_id: str) -> list[GroupMember]:
        cur = self._c.execute(f"SELECT {rows.GROUP_MEMBER_COLUMNS} FROM group_members WHERE group_id = ?"
                              " ORDER BY joined_at, customer_id", (group_id,))
        return [rows.group_member(r) for r in cur]

    async def save_member(self, m: GroupMember) -> None:
        a = m.account
        self._write(f"INSERT INTO group_members ({rows.GROUP_MEMBER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (group_id, customer_id) DO UPDATE SET channel = excluded.channel,"
                    " external_id = excluded.external_id, name = excluded.name, language = excluded.language,"
                    " lines = excluded.lines",
                    (m.group_id, m.customer_id, a.channel.value, a.external_id, a.name, a.language,
                     rows.cart_lines_to_json(m.lines), ts(m.joined_at), m.order_id))

    async def set_member_order(self, group_id: str, customer_id: str, order_id: str) -> None:
        self._write("UPDATE group_members SET order_id = ? WHERE group_id = ? AND customer_id = ?",
                    (order_id, group_id, customer_id))

    async def due(self, now: datetime) -> list[str]:
        cur = self._c.execute("SELECT id FROM group_orders WHERE (status = 'open' AND closes_at <= ?)"
                              " OR status = 'closed' ORDER BY closes_at, id", (ts(now),))
        return [r[0] for r in cur]
