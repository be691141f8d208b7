"""SQLite storage of group orders (journey/groups.py): the group and one row of lines per member."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from journey.group_model import Group, GroupMember, GroupStatus, Payer, account_of
from journey.model import CartLine

from ..rows import at, dt, ts
from .repositories import _Repo

_COLUMNS = ("id, code, organiser_id, organiser_channel, organiser_external, organiser_name, organiser_language,"
            " point_id, pickup_at, payer, payment, min_people, percent, status, created_at, closes_at, closed_at,"
            " reason, discounted, email, return_url, order_id")
_MEMBER = "group_id, customer_id, channel, external_id, name, language, lines, joined_at, order_id"


def _group(r: Sequence) -> Group:
    return Group(r[0], r[1], r[2], account_of(r[3], r[4], r[5], r[6]), r[7], dt(r[8]), Payer(r[9]), r[10], r[11],
                 r[12], GroupStatus(r[13]), at(r[14]), at(r[15]), dt(r[16]), r[17], bool(r[18]), r[19], r[20], r[21])


def _lines_json(lines: Sequence[CartLine]) -> str:
    return json.dumps([{"item": l.item_id, "quantity": l.quantity,
                        "options": {g: list(o) for g, o in l.options.items()}} for l in lines],
                      ensure_ascii=False, separators=(",", ":"))


def _lines(text: str) -> tuple[CartLine, ...]:
    return tuple(CartLine(l["item"], l["quantity"], {g: tuple(o) for g, o in l["options"].items()})
                 for l in json.loads(text))


def _member(r: Sequence) -> GroupMember:
    return GroupMember(r[0], r[1], account_of(r[2], r[3], r[4], r[5]), _lines(r[6]), at(r[7]), r[8])


class SqliteGroups(_Repo):
    async def add(self, g: Group) -> None:
        o = g.organiser
        self._write(f"INSERT INTO group_orders ({_COLUMNS}) VALUES ({','.join('?' * 22)})",
                    (g.id, g.code, g.organiser_id, o.channel.value, o.external_id, o.name, o.language, g.point_id,
                     ts(g.pickup_at), g.payer.value, g.payment, g.min_people, g.percent, g.status.value,
                     ts(g.created_at), ts(g.closes_at), ts(g.closed_at), g.reason, int(g.discounted), g.email,
                     g.return_url, g.order_id))

    async def get(self, group_id: str) -> Group | None:
        r = self._c.execute(f"SELECT {_COLUMNS} FROM group_orders WHERE id = ?", (group_id,)).fetchone()
        return _group(r) if r else None

    async def by_code(self, code: str) -> Group | None:
        r = self._c.execute(f"SELECT {_COLUMNS} FROM group_orders WHERE code = ?", (code,)).fetchone()
        return _group(r) if r else None

    async def update(self, g: Group) -> None:
        self._write("UPDATE group_orders SET status = ?, closed_at = ?, reason = ?, discounted = ?, order_id = ?,"
                    " pickup_at = ? WHERE id = ?", (g.status.value, ts(g.closed_at), g.reason, int(g.discounted),
                                                   g.order_id, ts(g.pickup_at), g.id))

    async def members(self, group_id: str) -> list[GroupMember]:
        cur = self._c.execute(f"SELECT {_MEMBER} FROM group_members WHERE group_id = ?"
                              " ORDER BY joined_at, customer_id", (group_id,))
        return [_member(r) for r in cur]

    async def save_member(self, m: GroupMember) -> None:
        a = m.account
        self._write(f"INSERT INTO group_members ({_MEMBER}) VALUES (?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (group_id, customer_id) DO UPDATE SET channel = excluded.channel,"
                    " external_id = excluded.external_id, name = excluded.name, language = excluded.language,"
                    " lines = excluded.lines",
                    (m.group_id, m.customer_id, a.channel.value, a.external_id, a.name, a.language,
                     _lines_json(m.lines), ts(m.joined_at), m.order_id))

    async def set_member_order(self, group_id: str, customer_id: str, order_id: str) -> None:
        self._write("UPDATE group_members SET order_id = ? WHERE group_id = ? AND customer_id = ?",
                    (order_id, group_id, customer_id))

    async def due(self, now: datetime) -> list[str]:
        cur = self._c.execute("SELECT id FROM group_orders WHERE (status = 'open' AND closes_at <= ?)"
                              " OR status = 'closed' ORDER BY closes_at, id", (ts(now),))
        return [r[0] for r in cur]
