"""SQLite storage of personal data (journey/privacy.py): consents, last seen, export and forgetting; the SQL
of ``PERSONAL_DATA`` is shared with PostgreSQL (storage/privacy.py)."""
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
from .repositories import _Repo

# the customer and everyone merged into them, however long the chain of links
_MERGED = ("WITH RECURSIVE person(id) AS (SELECT ? UNION SELECT c.id FROM customers c"
           " JOIN person p ON c.merged_into = p.id)")


class SqlitePrivacy(_Repo):
    async def add_consent(self, customer_id: str, consent: Consent) -> None:
        self._write("INSERT INTO consents (customer_id, version, given_at, channel) VALUES (?, ?, ?, ?)",
                    (customer_id, consent.version, ts(consent.given_at), consent.channel))

    async def consent(self, customer_id: str) -> Consent | None:
        r = self._c.execute(f"{_MERGED} SELECT k.version, k.given_at, k.channel FROM consents k"
                            " JOIN person p ON p.id = k.customer_id ORDER BY k.given_at DESC, k.id DESC LIMIT 1",
                            (customer_id,)).fetchone()
        return Consent(r[0], at(r[1]), r[2]) if r else None

    async def person(self, customer_id: str) -> list[str]:
        found = [r[0] for r in self._c.execute(f"{_MERGED} SELECT id FROM person", (customer_id,))]
        return [customer_id, *sorted(i for i in found if i != customer_id)]

    async def hold(self, customer_id: str, channel: Channel, external_id: str) -> bool:
        # one transaction saw the account (the caller read it in this unit of work): a writing one holds the
        # database's one write lock since its BEGIN IMMEDIATE, so no forget came in between, and a reading one
        # reads one snapshot; the account is still there either way, and nothing needs reading to hold the person
        return True

    async def export(self, person: Sequence[str], accounts: Sequence[str]) -> dict[str, list[dict[str, object]]]:
        who = Person(person, accounts)
        found: dict[str, list[dict[str, object]]] = {}
        for table, sql, params in export_statements(who, "sqlite"):
            cur = self._c.execute(sql, params)
            columns = [d[0] for d in cur.description]
            found[table] = exported(table, columns, cur.fetchall(), who)
        return found

    async def forget(self, person: Sequence[str], accounts: Sequence[str], now: datetime) -> None:
        who = Person(person, accounts)
        sql, params = event_statement(who, "sqlite")
        for data, event_id in scrubbed_events(self._c.execute(sql, params).fetchall(), who):
            self._write("UPDATE outbox SET data = ? WHERE id = ?", (data, event_id))
        for sql, params in forget_statements(who, now, "sqlite"):
            self._write(sql, params)

    async def open_orders(self, person: Sequence[str]) -> list[str]:
        p = Params("sqlite")
        return [r[0] for r in self._c.execute(
            f"SELECT id FROM orders WHERE {p.among('customer_id', person)}"
            " AND status IN ('placed', 'accepted', 'ready') ORDER BY created_at, id", p.values)]

    async def open_groups(self, person: Sequence[str]) -> list[str]:
        p = Params("sqlite")
        return [r[0] for r in self._c.execute(
            f"SELECT id FROM group_orders WHERE {p.among('organiser_id', person)} AND status = 'open'"
            " ORDER BY created_at, id", p.values)]

    async def closing_groups(self, person: Sequence[str]) -> list[str]:
        p = Params("sqlite")
        return [r[0] for r in self._c.execute(closing_groups_sql(p, person), p.values)]

    async def seen(self, customer_id: str) -> datetime | None:
        r = self._c.execute("SELECT COALESCE(seen_at, created_at) FROM customers WHERE id = ?",
                            (customer_id,)).fetchone()
        return dt(r[0]) if r else None

    async def touch(self, customer_id: str, at: datetime) -> None:
        self._write("UPDATE customers SET seen_at = ? WHERE id = ?", (ts(at), customer_id))

    async def inactive(self, before: datetime, limit: int) -> list[str]:
        p = Params("sqlite")
        return [r[0] for r in self._c.execute(inactive_sql(p, before, limit), p.values)]
