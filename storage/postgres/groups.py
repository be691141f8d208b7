"""PostgreSQL storage of group orders (journey/groups.py): the group and one row of lines per member.

A group read in a read-write unit of work is locked (``get``, ``by_code``): every join, the organiser's
close or cancel and the sweep's close read the group first, so they take turns on its row. A join counts
the members the one before it added (the threshold is reached exactly once), and a close counts every
join committed before it, while a join after it finds the group closed.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from asyncpg import Record

from journey.group_model import Group, GroupMember, GroupStatus, Payer, account_of
from journey.model import CartLine

from ..rows import at, dt, ts
from .base import PgRepo

_COLUMNS = ("id, code, organiser_id, organiser_channel, organiser_external, organiser_name, organiser_language,"
            " point_id, pickup_at, payer, payment, min_people, percent, status, created_at, closes_at, closed_at,"
            " reason, discounted, email, return_url, order_id")
_MARKS = ", ".join(f"${i}" for i in range(1, 23))
_MEMBER = "group_id, customer_id, channel, external_id, name, language, lines, joined_at, order_id"


def _group(r: Record) -> Group:
    return Group(r[0], r[1], r[2], account_of(r[3], r[4], r[5], r[6]), r[7], dt(r[8]), Payer(r[9]), r[10], r[11],
                 r[12], GroupStatus(r[13]), at(r[14]), at(r[15]), dt(r[16]), r[17], bool(r[18]), r[19], r[20], r[21])


def _lines_json(lines: Sequence[CartLine]) -> str:
    return json.dumps([{"item": l.item_id, "quantity": l.quantity,
                        "options": {g: list(o) for g, o in l.options.items()}} for l in lines],
                      ensure_ascii=False, separators=(",", ":"))


def _lines(text: str) -> tuple[CartLine, ...]:
    return tuple(CartLine(l["item"], l["quantity"], {g: tuple(o) for g, o in l["options"].items()})
                 for l in json.loads(text))


def _member(r: Record) -> GroupMember:
    return GroupMember(r[0], r[1], account_of(r[2], r[3], r[4], r[5]), _lines(r[6]), at(r[7]), r[8])


class PgGroups(PgRepo):
    async def add(self, g: Group) -> None:
        o = g.organiser
        await self._write(f"INSERT INTO group_orders ({_COLUMNS}) VALUES ({_MARKS})",
                          g.id, g.code, g.organiser_id, o.channel.value, o.external_id, o.name, o.language,
                          g.point_id, ts(g.pickup_at), g.payer.value, g.payment, g.min_people, g.percent,
                          g.status.value, ts(g.created_at), ts(g.closes_at), ts(g.closed_at), g.reason,
                          int(g.discounted), g.email, g.return_url, g.order_id)

    async def get(self, group_id: str) -> Group | None:
        r = await self._c.fetchrow(f"SELECT {_COLUMNS} FROM group_orders WHERE id = $1" + self._lock, group_id)
        return _group(r) if r else None

    async def by_code(self, code: str) -> Group | None:
        r = await self._c.fetchrow(f"SELECT {_COLUMNS} FROM group_orders WHERE code = $1" + self._lock, code)
        return _group(r) if r else None

    async def update(self, g: Group) -> None:
        await self._write("UPDATE group_orders SET status = $1, closed_at = $2, reason = $3, discounted = $4,"
                          " order_id = $5, pickup_at = $6 WHERE id = $7",
                          g.status.value, ts(g.closed_at), g.reason, int(g.discounted), g.order_id, ts(g.pickup_at),
                          g.id)

    async def members(self, group_id: str) -> list[GroupMember]:
        # not locked: the engine holds the group's row (read first) whenever it decides on its members
        found = await self._c.fetch(f"SELECT {_MEMBER} FROM group_members WHERE group_id = $1"
                                    " ORDER BY joined_at, customer_id", group_id)
        return [_member(r) for r in found]

    async def save_member(self, m: GroupMember) -> None:
        a = m.account
        await self._write(f"INSERT INTO group_members ({_MEMBER}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                          " ON CONFLICT (group_id, customer_id) DO UPDATE SET channel = excluded.channel,"
                          " external_id = excluded.external_id, name = excluded.name, language = excluded.language,"
                          " lines = excluded.lines",
                          m.group_id, m.customer_id, a.channel.value, a.external_id, a.name, a.language,
                          _lines_json(m.lines), ts(m.joined_at), m.order_id)

    async def set_member_order(self, group_id: str, customer_id: str, order_id: str) -> None:
        await self._write("UPDATE group_members SET order_id = $1 WHERE group_id = $2 AND customer_id = $3",
                          order_id, group_id, customer_id)

    async def due(self, now: datetime) -> list[str]:
        found = await self._c.fetch("SELECT id FROM group_orders WHERE (status = 'open' AND closes_at <= $1)"
                                    " OR status = 'closed' ORDER BY closes_at, id", ts(now))
        return [r[0] for r in found]
