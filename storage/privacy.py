"""The SQL of personal data (journey/privacy.py) written once for both backends: which rows of a table are a
person's, how ``PERSONAL_DATA`` deletes or scrubs them, and the outbox events that name them. The backends
differ only in placeholders (``?`` against ``$n``, a list expanded against an array); ``Params`` writes them."""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from journey.privacy import EVENT_PERSONAL_KEYS, NOW, PERSONAL_DATA, Expr, Keyed, PersonalTable, Treatment

from .rows import ts

Style = Literal["sqlite", "postgres"]

# columns holding JSON text, parsed in an export
JSON_COLUMNS = {("orders", "lines"), ("group_members", "lines"), ("dialogs", "state"), ("outbox", "data"),
                ("audit_log", "before"), ("audit_log", "after")}


@dataclass
class Params:
    style: Style
    values: list[Any] = field(default_factory=list)

    def one(self, value: Any) -> str:
        self.values.append(value)
        return f"?{len(self.values)}" if self.style == "sqlite" else f"${len(self.values)}"  # reusable

    def among(self, column: str, values: Sequence[str]) -> str:
        """``column`` is one of ``values`` (never true for none)."""
        if not values:
            return "1 = 0"
        if self.style == "postgres":
            self.values.append(list(values))
            return f"{column} = ANY(${len(self.values)}::text[])"
        return f"{column} IN ({', '.join(self.one(v) for v in values)})"


@dataclass(frozen=True)
class Person:
    ids: Sequence[str]  # the customer and everyone merged into them
    accounts: Sequence[str]  # channel:id

    @property
    def externals(self) -> list[tuple[str, str]]:
        return [(a.partition(":")[0], a.partition(":")[2]) for a in self.accounts]


def condition(entry: PersonalTable, person: Person, p: Params) -> str:
    """The rows of ``entry.table`` that are the person's (outbox events: a superset, see ``names_person``)."""
    cols = entry.columns
    if entry.keyed is Keyed.CUSTOMER:
        return p.among(cols[0], person.ids)
    if entry.keyed is Keyed.ACCOUNT:
        return p.among(cols[0], person.accounts)
    if entry.keyed is Keyed.EXTERNAL:
        pairs = [f"({cols[0]} = {p.one(c)} AND {cols[1]} = {p.one(e)})" for c, e in person.externals]
        return f"({' OR '.join(pairs)})" if pairs else "1 = 0"
    if entry.keyed is Keyed.ORDER:
        return f"{cols[0]} IN (SELECT id FROM orders WHERE {p.among('customer_id', person.ids)})"
    if entry.keyed is Keyed.UPDATE:  # a message's update id without the platform's: m<chat>:<message>
        found = []
        for channel, external in person.externals:
            prefix = f"m{external}:"
            found.append(f"({cols[0]} = {p.one(channel)} AND substr({cols[1]}, 1, {len(prefix)}) = {p.one(prefix)})")
        return f"({' OR '.join(found)})" if found else "1 = 0"
    if entry.keyed is Keyed.EVENT:
        likes = [f"{cols[0]} LIKE {p.one('%' + v + '%')}" for v in (*person.ids, *person.accounts)]
        # "_" in an id matches any character: a superset, checked again in Python (``names_person``)
        return f"({' OR '.join(likes)})" if likes else "1 = 0"
    raise ValueError(entry.keyed)


def export_statements(person: Person, style: Style) -> list[tuple[str, str, list[Any]]]:
    """(table, SELECT, parameters) per table of ``PERSONAL_DATA``: a table keyed several ways is read once."""
    by_table: dict[str, list[PersonalTable]] = {}
    for entry in PERSONAL_DATA:
        by_table.setdefault(entry.table, []).append(entry)
    found = []
    for table, entries in by_table.items():
        p = Params(style)
        conds = []
        for entry in entries:
            c = condition(entry, person, p)
            if c not in conds:
                conds.append(c)
        order = " ORDER BY id" if table in _ORDERED else ""
        found.append((table, f"SELECT * FROM {table} WHERE {' OR '.join(conds)}{order}", p.values))
    return found


_ORDERED = {"customers", "consents", "ledger", "visits", "outbox", "audit_log", "broadcasts", "orders"}


def forget_statements(person: Person, now: datetime, style: Style) -> list[tuple[str, list[Any]]]:
    """The DELETEs and UPDATEs of ``PERSONAL_DATA`` in its order (outbox events are scrubbed in Python)."""
    found = []
    for entry in PERSONAL_DATA:
        if entry.treatment is Treatment.KEEP or entry.keyed is Keyed.EVENT:
            continue
        p = Params(style)
        if entry.treatment is Treatment.DELETE:
            sql = f"DELETE FROM {entry.table}"
        else:
            sets = []
            for column, value in entry.scrub.items():
                if value is NOW:
                    sets.append(f"{column} = {p.one(ts(now))}")
                elif isinstance(value, Expr):
                    sets.append(f"{column} = {value}")
                elif value is None:
                    sets.append(f"{column} = NULL")
                else:
                    sets.append(f"{column} = {p.one(value)}")
            sql = f"UPDATE {entry.table} SET {', '.join(sets)}"
        where = condition(entry, person, p)
        if entry.where:
            where = f"({where}) AND {entry.where}"
        found.append((f"{sql} WHERE {where}", p.values))
    return found


def event_statement(person: Person, style: Style) -> tuple[str, list[Any]]:
    entry = next(e for e in PERSONAL_DATA if e.keyed is Keyed.EVENT)
    p = Params(style)
    return f"SELECT id, data FROM outbox WHERE {condition(entry, person, p)} ORDER BY id", p.values


def names_person(data: Any, person: Person) -> bool:
    wanted = {*person.ids, *person.accounts}
    return any(s in wanted for s in _strings(data))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def scrub_event(data: Any, person: Person) -> Any:
    """The event's data with the person's accounts blanked wherever they are, and in every object that names
    the person (by customer id or account) the names, texts, e-mails and chat ids blanked too."""
    ids, accounts = set(person.ids), set(person.accounts)
    if isinstance(data, str):
        return "" if data in accounts else data
    if isinstance(data, list):
        return [scrub_event(v, person) for v in data]
    if isinstance(data, dict):
        theirs = any(isinstance(v, str) and (v in ids or v in accounts) for v in data.values())
        return {k: ("" if theirs and k in EVENT_PERSONAL_KEYS and isinstance(v, str) else scrub_event(v, person))
                for k, v in data.items()}
    return data


def scrubbed_events(found: Iterable[tuple[int, str]], person: Person) -> list[tuple[str, int]]:
    """(new data, id) for the outbox rows read by ``event_statement`` that name the person."""
    changed = []
    for event_id, text in found:
        data = json.loads(text)
        if not names_person(data, person):
            continue
        new = json.dumps(scrub_event(data, person), ensure_ascii=False, separators=(",", ":"))
        if new != text:
            changed.append((new, event_id))
    return changed


def exported(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], person: Person) -> list[dict]:
    """Rows as dicts, JSON columns parsed; outbox rows only when they do name the person."""
    found = []
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        for column in columns:
            if (table, column) in JSON_COLUMNS and isinstance(record[column], str):
                with contextlib.suppress(ValueError):  # not JSON after all: kept as the text it is
                    record[column] = json.loads(record[column])
        if table == "outbox":
            if not names_person(record.get("data"), person):
                continue
            record["data"] = _others_hidden(record["data"], set(person.accounts))
        for column, owner in _OTHER_PARTY.get(table, ()):  # the other side of a gift or a group
            if record.get(owner) not in person.ids and column in record:
                record[column] = ""
        found.append(record)
    return found


# a row of one person that names another's account: (column, the column saying whose it is)
_OTHER_PARTY = {"gifts": (("giver_external", "giver_id"), ("friend_external", "friend_id")),
                "group_orders": (("organiser_external", "organiser_id"), ("email", "organiser_id"))}
_ACCOUNT_KEYS = frozenset({"account", "by", "actor"})


def _others_hidden(data: Any, accounts: set[str]) -> Any:
    """An event in someone's export without other people's accounts (the barista who accepted the order,
    the other members of a group)."""
    if isinstance(data, list):
        return [_others_hidden(v, accounts) for v in data]
    if isinstance(data, dict):
        return {k: ("" if k in _ACCOUNT_KEYS and isinstance(v, str) and v not in accounts
                    else _others_hidden(v, accounts)) for k, v in data.items()}
    return data


def inactive_sql(p: Params, before: datetime, limit: int) -> str:
    """Customers with nothing since ``before`` (see ``PrivacyRepository.inactive``)."""
    b = p.one(ts(before))
    return (
        "SELECT c.id FROM customers c"
        f" WHERE c.merged_into IS NULL AND c.forgotten_at IS NULL AND COALESCE(c.seen_at, c.created_at) < {b}"
        f" AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.updated_at >= {b})"
        f" AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.customer_id = c.id AND v.at >= {b})"
        f" AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.customer_id = c.id AND l.at >= {b})"
        f" AND NOT EXISTS (SELECT 1 FROM consents k WHERE k.customer_id = c.id AND k.given_at >= {b})"
        " AND NOT EXISTS (SELECT 1 FROM accounts a JOIN staff s ON s.channel = a.channel"
        "  AND s.external_id = a.external_id WHERE a.customer_id = c.id)"
        f" ORDER BY c.created_at, c.id LIMIT {p.one(limit)}")


def closing_groups_sql(p: Params, person: Sequence[str]) -> str:
    """Groups closed whose orders are not all placed, that the person organises or is waiting in."""
    return ("SELECT g.id FROM group_orders g WHERE g.status = 'closed'"
            f" AND ({p.among('g.organiser_id', person)} OR EXISTS (SELECT 1 FROM group_members m"
            f"  WHERE m.group_id = g.id AND m.order_id IS NULL AND {p.among('m.customer_id', person)}))"
            " ORDER BY g.created_at, g.id")
