"""PostgreSQL storage of personal data (journey/privacy.py): consents, last seen, export and forgetting; the
SQL of ``PERSONAL_DATA`` is shared with SQLite (storage/privacy.py).

Forgetting runs in the engine's unit of work after the person's open orders were closed in it, so the rows it
rewrites are the ones those closes locked; two forgets of one person take turns on the customer's row lock.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from journey.channels import Channel
from journey.model import Consent

from ..privacy import (
    Params,
    Person,
    closing_groups_sql,
    event_statement,
    export_statements,
    exported,
    forget_statements,
    inactive_sql,
    scrubbed_events,
)
from ..rows import at, dt, ts
from .base import PgRepo

# the customer and everyone merged into them, however long the chain of links
_MERGED = ("WITH RECURSIVE person(id) AS (SELECT $1::text UNION SELECT c.id FROM customers c"
           " JOIN person p ON c.merged_into = p.id)")


class PgPrivacy(PgRepo):
    async def add_consent(self, customer_id: str, consent: Consent) -> None:
        await self._write("INSERT INTO consents (customer_id, version, given_at, channel) VALUES ($1, $2, $3, $4)",
                          customer_id, consent.version, ts(consent.given_at), consent.channel)

    async def consent(self, customer_id: str) -> Consent | None:
        r = await self._c.fetchrow(f"{_MERGED} SELECT k.version, k.given_at, k.channel FROM consents k"
                                   " JOIN person p ON p.id = k.customer_id ORDER BY k.given_at DESC, k.id DESC"
                                   " LIMIT 1", customer_id)
        return Consent(r[0], at(r[1]), r[2]) if r else None

    async def person(self, customer_id: str) -> list[str]:
        if self._writable:  # forgetting: one forget of this person at a time
            await self._c.execute(f"SELECT id FROM customers WHERE id = $1{self._lock}", customer_id)
        found = [r[0] for r in await self._c.fetch(f"{_MERGED} SELECT id FROM person", customer_id)]
        return [customer_id, *sorted(i for i in found if i != customer_id)]

    async def hold(self, customer_id: str, channel: Channel, external_id: str) -> bool:
        if self._writable:  # the row lock a forget takes in ``person``: one after the other
            await self._c.execute(f"SELECT id FROM customers WHERE id = $1{self._lock}", customer_id)
        return await self._c.fetchval("SELECT 1 FROM accounts a JOIN customers c ON c.id = a.customer_id"
                                      " WHERE a.channel = $1 AND a.external_id = $2",
                                      channel.value, external_id) is not None

    async def export(self, person: Sequence[str], accounts: Sequence[str]) -> dict[str, list[dict[str, object]]]:
        who = Person(person, accounts)
        found: dict[str, list[dict[str, object]]] = {}
        for table, sql, params in export_statements(who, "postgres"):
            records = await self._c.fetch(sql, *params)
            columns = list(records[0].keys()) if records else []
            found[table] = exported(table, columns, [tuple(r) for r in records], who)
        return found

    async def forget(self, person: Sequence[str], accounts: Sequence[str], now: datetime) -> None:
        who = Person(person, accounts)
        sql, params = event_statement(who, "postgres")
        events = [(r[0], r[1]) for r in await self._c.fetch(sql, *params)]
        changed = scrubbed_events(events, who)
        if changed:
            await self._write_many("UPDATE outbox SET data = $1 WHERE id = $2", changed)
        for sql, params in forget_statements(who, now, "postgres"):
            await self._write(sql, *params)

    async def open_orders(self, person: Sequence[str]) -> list[str]:
        p = Params("postgres")
        return [r[0] for r in await self._c.fetch(
            f"SELECT id FROM orders WHERE {p.among('customer_id', person)}"
            " AND status IN ('placed', 'accepted', 'ready') ORDER BY created_at, id", *p.values)]

    async def open_groups(self, person: Sequence[str]) -> list[str]:
        p = Params("postgres")
        return [r[0] for r in await self._c.fetch(
            f"SELECT id FROM group_orders WHERE {p.among('organiser_id', person)} AND status = 'open'"
            " ORDER BY created_at, id", *p.values)]

    async def closing_groups(self, person: Sequence[str]) -> list[str]:
        p = Params("postgres")
        return [r[0] for r in await self._c.fetch(closing_groups_sql(p, person), *p.values)]

    async def seen(self, customer_id: str) -> datetime | None:
        return dt(await self._c.fetchval("SELECT COALESCE(seen_at, created_at) FROM customers WHERE id = $1",
                                         customer_id))

    async def touch(self, customer_id: str, at: datetime) -> None:
        await self._write("UPDATE customers SET seen_at = $1 WHERE id = $2", ts(at), customer_id)

    async def inactive(self, before: datetime, limit: int) -> list[str]:
        p = Params("postgres")
        return [r[0] for r in await self._c.fetch(inactive_sql(p, before, limit), *p.values)]
