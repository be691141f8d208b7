"""PostgreSQL repositories of the catalog, customers, orders, payments, points, promos, staff, settings,
visits and reviews.

Where several instances may decide on the same thing at once, the read the engine decides on waits for the
other's transaction (see ``base.PgRepo`` and the notes on each method): an order row is locked by
``orders.get``; a payment by its reads, its order's row first (every path that changes both takes the order
before the payment, so a hand-over and a provider's notice cannot deadlock); counts that guard a limit take a
named lock first. Locks are taken in read-write units of work only.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from journey.catalog import Category, Item, PickupPoint
from journey.channels import Channel, CustomerRef
from journey.errors import DomainError, ErrorCode
from journey.model import (
    Account,
    Customer,
    LedgerEntry,
    LinkCode,
    Order,
    PackPurchase,
    PaymentIntent,
    Promo,
    Review,
    Visit,
)
from journey.ports import BoardRow
from journey.states import OrderStatus, PackStatus, PaymentStatus

from .. import rows
from ..rows import dt, ts
from .base import Conn, PgRepo

# open orders, written as the partial indexes on them write it: a literal the planner proves the index's predicate
# from in a generic plan too (``status = ANY($n)`` is a parameter there, which proves nothing)
_OPEN_SQL = rows.OPEN_SHORT_CODES


class _LockingRepo(PgRepo):
    """A repository that takes each named lock once per unit of work (a repository lives as long as it)."""

    def __init__(self, conn: Conn, *, writable: bool) -> None:
        super().__init__(conn, writable=writable)
        self._held: set[str] = set()

    async def _lock_once(self, key: str) -> None:
        if self._writable and key not in self._held:
            await self._lock_key(key)
            self._held.add(key)


def _tup(record: Any) -> tuple:
    """An asyncpg Record, which indexes and unpacks like the tuple storage/rows.py converts."""
    return record


def _marks(n: int) -> str:
    return ", ".join(f"${i}" for i in range(1, n + 1))


class PgCatalog(PgRepo):
    async def version(self) -> str:
        # the sum of the slots the triggers of migration 0007 move at the commit of every change of what the
        # menu shows (not of orders of items made to order, payments, notifications ...), whichever instance
        # commits: a later snapshot sees every commit an earlier one saw, so the same sum is the same menu data
        return str(await self._c.fetchval("SELECT sum(value) FROM menu_version"))

    async def categories(self) -> list[Category]:
        return [Category(*r) for r in await self._c.fetch("SELECT id, name, position FROM categories"
                                                          " ORDER BY position, name")]

    async def items(self, *, include_unavailable: bool = False) -> list[Item]:
        where = "" if include_unavailable else "WHERE available = 1"
        return [rows.item(_tup(r)) for r in await self._c.fetch(
            f"SELECT {rows.ITEM_COLUMNS} FROM items {where} ORDER BY position, name")]

    async def items_by_id(self, ids: Iterable[str]) -> dict[str, Item]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found = await self._c.fetch(f"SELECT {rows.ITEM_COLUMNS} FROM items WHERE id = ANY($1::text[])", wanted)
        return {r[0]: rows.item(_tup(r)) for r in found}

    async def save_category(self, category: Category) -> None:
        await self._write("INSERT INTO categories (id, name, position) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE"
                          " SET name = excluded.name, position = excluded.position",
                          category.id, category.name, category.position)

    async def save_item(self, item: Item) -> None:
        await self._write(
            f"INSERT INTO items ({rows.ITEM_COLUMNS}) VALUES ({_marks(11)}) ON CONFLICT (id) DO UPDATE SET"
            " category_id = excluded.category_id, name = excluded.name, description = excluded.description,"
            " photo = excluded.photo, price = excluded.price, currency = excluded.currency,"
            " option_groups = excluded.option_groups, tags = excluded.tags, available = excluded.available,"
            " position = excluded.position",
            item.id, item.category_id, item.name, item.description, item.photo, item.price.amount,
            item.price.currency, rows.groups_to_json(item.option_groups),
            json.dumps(list(item.tags), ensure_ascii=False), int(item.available), item.position)

    async def set_available(self, item_id: str, available: bool) -> None:
        await self._write("UPDATE items SET available = $1 WHERE id = $2", int(available), item_id)

    async def points(self) -> list[PickupPoint]:
        found = await self._c.fetch(f"SELECT {rows.POINT_COLUMNS} FROM points ORDER BY id")
        return [rows.point(_tup(r)) for r in found]

    async def point(self, point_id: str) -> PickupPoint | None:
        r = await self._c.fetchrow(f"SELECT {rows.POINT_COLUMNS} FROM points WHERE id = $1", point_id)
        return rows.point(_tup(r)) if r else None

    async def save_point(self, point: PickupPoint) -> None:
        await self._write(
            f"INSERT INTO points ({rows.POINT_COLUMNS}) VALUES ({_marks(7)}) ON CONFLICT (id) DO UPDATE SET"
            " name = excluded.name, address = excluded.address, lat = excluded.lat, lon = excluded.lon,"
            " hours = excluded.hours, prep_minutes = excluded.prep_minutes",
            point.id, point.name, point.address, _float(point.lat), _float(point.lon), point.hours.format(),
            point.prep_minutes)

    async def stock(self, point_id: str) -> dict[str, int | None]:
        # not locked: a sale changes stock with ``change_stock``, whose CHECK (quantity >= 0) refuses the
        # second of two buyers of the last unit (OUT_OF_STOCK) after waiting for the first
        return {r[0]: r[1] for r in await self._c.fetch("SELECT item_id, quantity FROM stock WHERE point_id = $1",
                                                        point_id)}

    async def all_stock(self) -> dict[tuple[str, str], int | None]:
        return {(p, i): q for p, i, q in await self._c.fetch("SELECT point_id, item_id, quantity FROM stock")}

    async def set_stock(self, point_id: str, item_id: str, quantity: int | None) -> None:
        if quantity is None:
            await self._write("DELETE FROM stock WHERE point_id = $1 AND item_id = $2", point_id, item_id)
        else:
            await self._write("INSERT INTO stock (point_id, item_id, quantity) VALUES ($1, $2, $3) ON CONFLICT"
                              " (point_id, item_id) DO UPDATE SET quantity = excluded.quantity",
                              point_id, item_id, quantity)

    async def change_stock(self, point_id: str, item_id: str, delta: int) -> None:
        await self._write("UPDATE stock SET quantity = quantity + $1 WHERE point_id = $2 AND item_id = $3",
                          delta, point_id, item_id)


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


_CUSTOMER_C = ", ".join("c." + c.strip() for c in rows.CUSTOMER_COLUMNS.split(","))


class PgCustomers(PgRepo):
    async def by_account(self, channel: Channel, external_id: str) -> Customer | None:
        sql = (f"SELECT {_CUSTOMER_C} FROM accounts a JOIN customers c ON c.id = a.customer_id"
               " WHERE a.channel = $1 AND a.external_id = $2")
        r = await self._c.fetchrow(sql, channel.value, external_id)
        if r is None and self._writable:
            # not known yet: the engine creates the customer next. Two first contacts of one account at once
            # (two updates on two instances) take turns here, and the second finds the first's customer.
            await self._lock_key(f"account:{channel.value}:{external_id}")
            r = await self._c.fetchrow(sql, channel.value, external_id)
        return rows.customer(_tup(r)) if r else None

    async def get(self, customer_id: str) -> Customer | None:
        r = await self._c.fetchrow(f"SELECT {rows.CUSTOMER_COLUMNS} FROM customers WHERE id = $1", customer_id)
        return rows.customer(_tup(r)) if r else None

    async def by_referral_code(self, code: str) -> Customer | None:
        r = await self._c.fetchrow(f"SELECT {rows.CUSTOMER_COLUMNS} FROM customers WHERE referral_code = $1"
                                   " AND merged_into IS NULL", code)
        return rows.customer(_tup(r)) if r else None

    async def add(self, customer: Customer) -> None:
        await self._write(f"INSERT INTO customers ({rows.CUSTOMER_COLUMNS}) VALUES ({_marks(8)})",
                          customer.id, customer.name, customer.language, customer.source, int(customer.consent),
                          customer.referral_code, customer.referred_by, ts(customer.created_at))

    async def update(self, customer: Customer) -> None:
        await self._write("UPDATE customers SET name = $1, language = $2, source = $3, consent = $4,"
                          " referred_by = $5 WHERE id = $6", customer.name, customer.language, customer.source,
                          int(customer.consent), customer.referred_by, customer.id)

    async def add_account(self, account: Account) -> None:
        await self._write("INSERT INTO accounts (channel, external_id, customer_id, name) VALUES ($1, $2, $3, $4)",
                          account.channel.value, account.external_id, account.customer_id, account.name)

    async def accounts(self, customer_id: str) -> list[Account]:
        found = await self._c.fetch("SELECT channel, external_id, customer_id, name FROM accounts"
                                    " WHERE customer_id = $1 ORDER BY channel, external_id", customer_id)
        return [Account(Channel(c), e, cid, n) for c, e, cid, n in found]

    async def merge(self, source_id: str, target_id: str) -> None:
        for table in ("accounts", "orders", "ledger", "promo_uses", "visits", "link_codes", "reviews"):
            await self._write(f"UPDATE {table} SET customer_id = $1 WHERE customer_id = $2", target_id, source_id)
        await self._write("UPDATE customers SET referred_by = $1 WHERE referred_by = $2", target_id, source_id)
        await self._write("UPDATE customers SET merged_into = $1 WHERE id = $2", target_id, source_id)

    async def add_link_code(self, code: LinkCode) -> None:
        await self._write("INSERT INTO link_codes (code, customer_id, expires_at, used) VALUES ($1, $2, $3, 0)"
                          " ON CONFLICT (code) DO UPDATE SET customer_id = excluded.customer_id,"
                          " expires_at = excluded.expires_at, used = 0", code.code, code.customer_id,
                          ts(code.expires_at))

    async def link_code(self, code: str) -> LinkCode | None:
        # locked: two accounts entering one code at once take turns, the second finds it used
        r = await self._c.fetchrow("SELECT code, customer_id, expires_at, used FROM link_codes WHERE code = $1"
                                   + self._lock, code)
        return LinkCode(r[0], r[1], rows.at(r[2]), bool(r[3])) if r else None

    async def use_link_code(self, code: str) -> None:
        await self._write("UPDATE link_codes SET used = 1 WHERE code = $1", code)

    async def record_link_failure(self, account: str, at: datetime) -> None:
        await self._write("INSERT INTO link_failures (account, at) VALUES ($1, $2)", account, ts(at))

    async def link_failures(self, account: str, since: datetime) -> int:
        return await self._c.fetchval("SELECT COUNT(*) FROM link_failures WHERE account = $1 AND at >= $2",
                                      account, ts(since))

    async def prune_link_failures(self, before: datetime) -> int:
        return await self._write("DELETE FROM link_failures WHERE at < $1", ts(before))


class PgOrders(_LockingRepo):
    async def add(self, order: Order) -> bool:
        # the open short codes' unique index is the conflict target, so a code drawn by another instance at the
        # same moment leaves this transaction usable for a second draw
        added = await self._write(
            f"INSERT INTO orders ({rows.ORDER_COLUMNS}) VALUES ({_marks(18)})"
            f" ON CONFLICT (point_id, short_code) WHERE {rows.OPEN_SHORT_CODES} DO NOTHING",
            order.id, order.customer_id, order.point_id, order.status.value, rows.lines_to_json(order.lines),
            order.total.currency, order.subtotal.amount, order.discount.amount, order.points_spent,
            order.total.amount, order.promo_code, order.source, order.payment_provider, order.account,
            order.short_code, ts(order.pickup_at), ts(order.created_at), ts(order.updated_at))
        if not added:
            return False
        await self._write("INSERT INTO order_history (order_id, status, at) VALUES ($1, $2, $3)",
                          order.id, order.status.value, ts(order.created_at))
        return True

    async def get(self, order_id: str) -> Order | None:
        # locked: the engine decides on the status it reads (hand over, accept, cancel, pay), so two instances
        # acting on one order take turns and the second sees the first's status
        # the history in the same round trip, in the order written: by time, then by place in the table (the
        # history is only ever appended to), as one JSON array beside the row
        r = await self._c.fetchrow(
            f"SELECT {rows.ORDER_COLUMNS}, (SELECT json_agg(json_build_array(h.status, h.at) ORDER BY h.at, h.ctid)"
            " FROM order_history h WHERE h.order_id = $1) FROM orders WHERE id = $1" + self._lock, order_id)
        if not r:
            return None
        order = rows.order(_tup(r)[:-1])
        order.history = rows.history_from_json(r[-1])
        return order

    async def set_status(self, order_id: str, status: OrderStatus, at: datetime) -> None:
        await self._write("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3",
                          status.value, ts(at), order_id)
        await self._write("INSERT INTO order_history (order_id, status, at) VALUES ($1, $2, $3)",
                          order_id, status.value, ts(at))

    async def for_customer(self, customer_id: str, limit: int = 20) -> list[Order]:
        return [rows.order(_tup(r)) for r in await self._c.fetch(
            f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2",
            customer_id, limit)]

    async def open_at(self, point_id: str) -> list[Order]:
        return [rows.order(_tup(r)) for r in await self._c.fetch(
            f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE point_id = $1 AND {_OPEN_SQL}"
            " ORDER BY pickup_at, created_at", point_id)]

    async def by_short_code(self, point_id: str | None, short_code: str) -> list[Order]:
        sql = f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE short_code = $1 AND {_OPEN_SQL}"
        args: list[object] = [short_code]
        if point_id is not None:
            sql += " AND point_id = $2"
            args.append(point_id)
        return [rows.order(_tup(r)) for r in await self._c.fetch(sql, *args)]

    async def last_with_short_code(self, point_id: str | None, short_code: str, since: datetime) -> Order | None:
        sql = f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE short_code = $1 AND updated_at >= $2"
        args: list[object] = [short_code, ts(since)]
        if point_id is not None:
            sql += " AND point_id = $3"
            args.append(point_id)
        r = await self._c.fetchrow(sql + " ORDER BY updated_at DESC LIMIT 1", *args)
        return rows.order(_tup(r)) if r else None

    async def short_codes_in_use(self, point_id: str) -> set[str]:
        # two orders placed at once may draw the same free code: the unique index on open codes refuses the
        # second (CONFLICT), which is retried like any busy moment
        return {r[0] for r in await self._c.fetch(
            f"SELECT short_code FROM orders WHERE point_id = $1 AND {_OPEN_SQL}", point_id)}

    async def count_for_customer(self, customer_id: str, status: OrderStatus) -> int:
        # the open-orders limit counts before it adds: one customer's orders placed at once take turns
        await self._lock_once(f"orders-of:{customer_id}")
        return await self._c.fetchval("SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND status = $2",
                                      customer_id, status.value)

    async def count_open_for_customer(self, customer_id: str) -> int:
        await self._lock_once(f"orders-of:{customer_id}")  # as count_for_customer: one customer's orders take turns
        return await self._c.fetchval(f"SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND {_OPEN_SQL}",
                                      customer_id)

    async def ids_in_status(self, status: OrderStatus, *, before: datetime | None = None) -> list[str]:
        if before is None:
            found = await self._c.fetch("SELECT id FROM orders WHERE status = $1", status.value)
        else:
            found = await self._c.fetch("SELECT id FROM orders WHERE status = $1 AND created_at < $2",
                                        status.value, ts(before))
        return [r[0] for r in found]

    async def board(self, point_ids: Sequence[str], *, shown_pending: Sequence[str], after: str | None,
                    limit: int) -> list[BoardRow]:
        if not point_ids:
            return []
        # one point: its open orders in the board's order (orders_board_point); several: the open orders of
        # those points (orders_board walked in order, or the points' rows sorted: the planner's choice)
        args: list[object] = [point_ids[0] if len(point_ids) == 1 else list(point_ids), list(shown_pending), limit]
        sql = _BOARD.format(points="o.point_id = $1" if len(point_ids) == 1 else "o.point_id = ANY($1::text[])")
        if after is not None:
            # the cursor's place read first and passed as values (as on SQLite): a row compared with them is
            # one range of the index
            place = await self._c.fetchrow("SELECT pickup_at, created_at, id FROM orders WHERE id = $1", after)
            if place is None:
                return []
            sql += " AND (o.pickup_at, o.created_at, o.id) > ($4, $5, $6)"
            args += list(place)
        found = []
        for r in await self._c.fetch(sql + " ORDER BY o.pickup_at, o.created_at, o.id LIMIT $3", *args):
            order = rows.order(_tup(r[:18]))
            order.history = [(OrderStatus(s), rows.at(at)) for s, at in json.loads(r[35] or "[]")]
            found.append(BoardRow(order, rows.payment(_tup(r[19:35])) if r[19] is not None else None, r[18] or ""))
        return found

    async def expiry_candidates(self, placed_before: datetime) -> list[tuple[Order, PaymentIntent | None]]:
        found = await self._c.fetch(_CANDIDATES, ts(placed_before))
        return [(rows.order(_tup(r[:18])), rows.payment(_tup(r[18:])) if r[18] is not None else None)
                for r in found]


_BOARD = (
    f"SELECT {', '.join('o.' + c.strip() for c in rows.ORDER_COLUMNS.split(','))},"
    # the customer's name looked up per order of the page (a join may be planned as a pass over every customer)
    " (SELECT name FROM customers c WHERE c.id = o.customer_id),"
    f" {', '.join('p.' + c.strip() for c in rows.PAYMENT_COLUMNS.split(','))},"
    # the history in the order written (as ``get`` reads it)
    " (SELECT json_agg(json_build_array(h.status, h.at) ORDER BY h.at, h.ctid) FROM order_history h"
    "  WHERE h.order_id = o.id)::text"
    " FROM orders o"
    # the newest payment (as ``payments.for_order`` reads it); no row locks: the board only shows
    f" LEFT JOIN LATERAL (SELECT {rows.PAYMENT_COLUMNS} FROM payments WHERE order_id = o.id"
    "  ORDER BY created_at DESC LIMIT 1) p ON true"
    f" WHERE o.{_OPEN_SQL} AND {{points}}"
    " AND (p.id IS NULL OR p.status <> 'pending' OR p.provider = ANY($2::text[]))")


_CANDIDATES = (
    f"SELECT {', '.join('o.' + c.strip() for c in rows.ORDER_COLUMNS.split(','))},"
    f" {', '.join('p.' + c.strip() for c in rows.PAYMENT_COLUMNS.split(','))}"
    " FROM orders o"
    f" LEFT JOIN LATERAL (SELECT {rows.PAYMENT_COLUMNS} FROM payments WHERE order_id = o.id"
    "  ORDER BY created_at DESC LIMIT 1) p ON true"
    " WHERE (o.status = 'placed' AND o.created_at < $1) OR o.status = 'ready'")


class PgPayments(PgRepo):
    async def add(self, intent: PaymentIntent) -> None:
        await self._write(f"INSERT INTO payments ({rows.PAYMENT_COLUMNS}) VALUES ({_marks(16)})",
                          intent.id, intent.order_id, intent.provider, intent.amount.amount, intent.amount.currency,
                          intent.status.value, intent.idempotency_key, intent.provider_ref, ts(intent.created_at),
                          ts(intent.updated_at), intent.link, intent.refunded, intent.charge_id,
                          intent.provider_charge_id, intent.manual_refund, int(intent.settled))

    async def set_status(self, payment_id: str, status: PaymentStatus, at: datetime,
                         provider_ref: str | None = None) -> None:
        await self._write("UPDATE payments SET status = $1, updated_at = $2,"
                          " provider_ref = COALESCE($3, provider_ref) WHERE id = $4",
                          status.value, ts(at), provider_ref, payment_id)

    async def update(self, intent: PaymentIntent) -> None:
        await self._write("UPDATE payments SET status = $1, provider_ref = $2, updated_at = $3, link = $4,"
                          " refunded = $5, charge_id = $6, provider_charge_id = $7, manual_refund = $8, settled = $9"
                          " WHERE id = $10",
                          intent.status.value, intent.provider_ref, ts(intent.updated_at), intent.link,
                          intent.refunded, intent.charge_id, intent.provider_charge_id, intent.manual_refund,
                          int(intent.settled), intent.id)

    async def _one(self, where: str, *args: object) -> PaymentIntent | None:
        """The payment found by ``where``; in a read-write unit of work locked, its order's row first (the
        order every use case that changes both takes), so a capture, a provider's notice and a refund of
        one payment take turns and the second sees the first's status."""
        sql = f"SELECT {rows.PAYMENT_COLUMNS} FROM payments WHERE {where}"
        r = await self._c.fetchrow(sql, *args)
        if r is None or not self._writable:
            return rows.payment(_tup(r)) if r else None
        await self._c.execute("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", r[1])
        r = await self._c.fetchrow(f"SELECT {rows.PAYMENT_COLUMNS} FROM payments WHERE id = $1 FOR UPDATE", r[0])
        return rows.payment(_tup(r)) if r else None

    async def get(self, payment_id: str) -> PaymentIntent | None:
        return await self._one("id = $1", payment_id)

    async def for_order(self, order_id: str) -> PaymentIntent | None:
        if self._writable:  # the order's row first, then the newest payment as it is after any wait
            await self._c.execute("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", order_id)
            r = await self._c.fetchrow(f"SELECT {rows.PAYMENT_COLUMNS} FROM payments WHERE order_id = $1"
                                       " ORDER BY created_at DESC LIMIT 1 FOR UPDATE", order_id)
            return rows.payment(_tup(r)) if r else None
        return await self._one("order_id = $1 ORDER BY created_at DESC LIMIT 1", order_id)

    async def capture_pending(self, order_id: str, at: datetime) -> PaymentIntent | None:
        # the order's row is the caller's, locked (orders.get); the payment's row is locked by the update
        found = await self._c.fetch(f"UPDATE payments SET status = $1, updated_at = $2 WHERE order_id = $3"
                                    f" AND status = $4 RETURNING {rows.PAYMENT_COLUMNS}", PaymentStatus.CAPTURED.value,
                                    ts(at), order_id, PaymentStatus.PENDING.value)
        return rows.payment(_tup(found[0])) if found else None

    async def by_idempotency_key(self, key: str) -> PaymentIntent | None:
        # a request retried on another instance while the first is placing its order waits for it and
        # finds its payment (rather than placing a second order)
        await self._lock_key(f"payment-key:{key}")
        r = await self._c.fetchrow(f"SELECT {rows.PAYMENT_COLUMNS} FROM payments WHERE idempotency_key = $1", key)
        return rows.payment(_tup(r)) if r else None

    async def by_provider_ref(self, provider: str, provider_ref: str) -> PaymentIntent | None:
        return await self._one("provider = $1 AND provider_ref = $2 AND provider_ref != ''", provider, provider_ref)

    async def by_charge_id(self, charge_id: str) -> PaymentIntent | None:
        return await self._one("charge_id = $1 AND charge_id != ''", charge_id)

    async def unsettled(self, providers: Sequence[str]) -> list[PaymentIntent]:
        # not locked: the use cases going through them load each order (and its payment) locked
        if not providers:
            return []
        return [rows.payment(_tup(r)) for r in await self._c.fetch(
            f"SELECT {rows.PAYMENT_COLUMNS} FROM payments WHERE settled = 0 AND provider = ANY($1::text[])"
            " ORDER BY created_at, id", list(providers))]


class PgPacks(PgRepo):
    COLUMNS = "id, customer_id, account, points, stars, status, charge_id, created_at, updated_at"

    async def add(self, p: PackPurchase) -> None:
        await self._write(f"INSERT INTO pack_purchases ({self.COLUMNS}) VALUES ({_marks(9)})",
                          p.id, p.customer_id, p.account, p.points, p.stars, p.status.value, p.charge_id,
                          ts(p.created_at), ts(p.updated_at))

    async def _one(self, where: str, arg: str) -> PackPurchase | None:
        r = await self._c.fetchrow(f"SELECT {self.COLUMNS} FROM pack_purchases WHERE {where}" + self._lock, arg)
        if r is None:
            return None
        id_, customer_id, account, points, stars, status, charge_id, created, updated = r
        return PackPurchase(id_, customer_id, account, points, stars, PackStatus(status), charge_id, dt(created),
                            dt(updated))

    async def get(self, purchase_id: str) -> PackPurchase | None:
        # locked: crediting a purchase decides on its status
        return await self._one("id = $1", purchase_id)

    async def by_charge_id(self, charge_id: str) -> PackPurchase | None:
        # one charge told twice at once (two instances): the second waits here and finds it credited, rather
        # than finding the purchase paid and giving the Stars back
        await self._lock_key(f"pack-charge:{charge_id}")
        return await self._one("charge_id = $1 AND charge_id != ''", charge_id)

    async def update(self, p: PackPurchase) -> None:
        await self._write("UPDATE pack_purchases SET status = $1, charge_id = $2, updated_at = $3 WHERE id = $4",
                          p.status.value, p.charge_id, ts(p.updated_at), p.id)


class PgLoyalty(_LockingRepo):
    async def balance(self, customer_id: str) -> int:
        # In a read-write unit of work the engine decides on the balance (how much may be spent, whether a
        # pack can be refunded): the customer's ledger lock first, the one the ledger's trigger takes before
        # it refuses a balance below zero, so one customer's spends take turns from here and each decides on
        # the balance the other left (refused as on SQLite, by the engine, before anything else is checked).
        # The balance is the sum of the ledger kept by its trigger (migration 0005), which takes the same lock
        # before it changes the balance's row.
        await self._lock_once(f"ledger:{customer_id}")
        points = await self._c.fetchval("SELECT points FROM balances WHERE customer_id = $1", customer_id)
        return points or 0

    async def add(self, entry: LedgerEntry) -> None:
        await self._write("INSERT INTO ledger (customer_id, delta, reason, order_id, at) VALUES ($1, $2, $3, $4, $5)",
                          entry.customer_id, entry.delta, entry.reason, entry.order_id, ts(entry.at))

    async def entries(self, customer_id: str, limit: int = 50) -> list[LedgerEntry]:
        found = await self._c.fetch("SELECT customer_id, delta, reason, order_id, at FROM ledger"
                                    " WHERE customer_id = $1 ORDER BY id DESC LIMIT $2", customer_id, limit)
        return [LedgerEntry(c, d, r, o, rows.at(a)) for c, d, r, o, a in found]


class PgPromos(PgRepo):
    async def get(self, code: str) -> Promo | None:
        # not locked: placing an order reads its promo before it takes the stock, cancelling gives the stock
        # back before the promo use; a lock here would take them in opposite orders. ``record_use`` keeps the
        # limits instead, on the promo's row, after the stock.
        r = await self._c.fetchrow(f"SELECT {rows.PROMO_COLUMNS} FROM promos WHERE code = $1", code.upper())
        return rows.promo(_tup(r)) if r else None

    async def all(self) -> list[Promo]:
        found = await self._c.fetch(f"SELECT {rows.PROMO_COLUMNS} FROM promos ORDER BY code")
        return [rows.promo(_tup(r)) for r in found]

    async def save(self, promo: Promo) -> None:
        await self._write(
            f"INSERT INTO promos ({rows.PROMO_COLUMNS}) VALUES ({_marks(8)}) ON CONFLICT (code) DO UPDATE SET"
            " kind = excluded.kind, value = excluded.value, expires_at = excluded.expires_at,"
            " max_uses = excluded.max_uses, once_per_customer = excluded.once_per_customer, active = excluded.active",
            promo.code.upper(), promo.kind.value, promo.value, ts(promo.expires_at), promo.max_uses, promo.used,
            int(promo.once_per_customer), int(promo.active))

    async def uses_by(self, code: str, customer_id: str) -> int:
        return await self._c.fetchval("SELECT COUNT(*) FROM promo_uses WHERE code = $1 AND customer_id = $2",
                                      code.upper(), customer_id)

    async def record_use(self, code: str, customer_id: str, order_id: str) -> None:
        """The engine checked the promo (``pricing.check_promo``) on what it read; another instance may have
        used it since. The count goes up on the promo's row, which waits for any other use in flight and
        then sees it: the last use is taken once (PROMO_EXHAUSTED for the other), a promo once per customer
        once (PROMO_ALREADY_USED), as one writer at a time gives on SQLite."""
        code = code.upper()
        r = await self._c.fetchrow("UPDATE promos SET used = used + 1 WHERE code = $1"
                                   " AND (max_uses IS NULL OR used < max_uses) RETURNING once_per_customer", code)
        if r is None:
            if await self._c.fetchval("SELECT 1 FROM promos WHERE code = $1", code) is None:
                raise DomainError(ErrorCode.PROMO_UNKNOWN, code)
            raise DomainError(ErrorCode.PROMO_EXHAUSTED, code)
        if r[0] and await self.uses_by(code, customer_id):
            raise DomainError(ErrorCode.PROMO_ALREADY_USED, code)
        await self._write("INSERT INTO promo_uses (code, customer_id, order_id) VALUES ($1, $2, $3)",
                          code, customer_id, order_id)

    async def release_use(self, code: str, order_id: str) -> None:
        if await self._write("DELETE FROM promo_uses WHERE code = $1 AND order_id = $2", code.upper(), order_id):
            await self._write("UPDATE promos SET used = used - 1 WHERE code = $1", code.upper())


class PgStaff(PgRepo):
    async def add(self, account: CustomerRef, point_id: str) -> None:
        await self._write("INSERT INTO staff (channel, external_id, point_id) VALUES ($1, $2, $3)"
                          " ON CONFLICT DO NOTHING", account.channel.value, account.external_id, point_id)

    async def remove(self, account: CustomerRef, point_id: str | None = None) -> int:
        sql = "DELETE FROM staff WHERE channel = $1 AND external_id = $2"
        args: list[object] = [account.channel.value, account.external_id]
        if point_id is not None:
            sql += " AND point_id = $3"
            args.append(point_id)
        return await self._write(sql, *args)

    async def list(self) -> list[tuple[CustomerRef, str]]:
        found = await self._c.fetch("SELECT channel, external_id, point_id FROM staff"
                                    " ORDER BY point_id, channel, external_id")
        return [(CustomerRef(Channel(c), e), p) for c, e, p in found]

    async def points_of(self, accounts: Sequence[CustomerRef]) -> set[str]:
        if not accounts:
            return set()
        found = await self._c.fetch(
            "SELECT s.point_id FROM staff s JOIN unnest($1::text[], $2::text[]) AS a(channel, external_id)"
            " ON s.channel = a.channel AND s.external_id = a.external_id",
            [a.channel.value for a in accounts], [a.external_id for a in accounts])
        return {r[0] for r in found}


class PgSettings(PgRepo):
    async def get(self, key: str) -> str | None:
        return await self._c.fetchval("SELECT value FROM meta WHERE key = $1", key)

    async def set(self, key: str, value: str) -> None:
        await self._write("INSERT INTO meta (key, value) VALUES ($1, $2)"
                          " ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)

    async def all(self) -> dict[str, str]:
        return {r[0]: r[1] for r in await self._c.fetch("SELECT key, value FROM meta")}

    async def setdefault(self, key: str, value: str) -> str:
        # the insert waits for another instance's insert of the same key, then reads the value that won
        await self._write("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, value)
        return await self._c.fetchval("SELECT value FROM meta WHERE key = $1", key)


class PgVisits(PgRepo):
    async def add(self, visit: Visit) -> None:
        await self._write("INSERT INTO visits (param, kind, channel, customer_id, at) VALUES ($1, $2, $3, $4, $5)",
                          visit.param, visit.kind, visit.channel, visit.customer_id, ts(visit.at))

    async def count(self, param: str | None = None) -> int:
        if param is None:
            return await self._c.fetchval("SELECT COUNT(*) FROM visits")
        return await self._c.fetchval("SELECT COUNT(*) FROM visits WHERE param = $1", param)


class PgReviews(PgRepo):
    async def add(self, review: Review) -> None:
        await self._write("INSERT INTO reviews (order_id, item_id, customer_id, rating, text, author, created_at)"
                          " VALUES ($1, $2, $3, $4, $5, $6, $7)", review.order_id, review.item_id,
                          review.customer_id, review.rating, review.text, review.author, ts(review.created_at))

    async def exists(self, order_id: str, item_id: str) -> bool:
        # the engine reads the order (locked) before it looks here: two reviews of one order take turns
        return await self._c.fetchval("SELECT 1 FROM reviews WHERE order_id = $1 AND item_id = $2",
                                      order_id, item_id) is not None

    async def for_item(self, item_id: str, limit: int = 20) -> list[Review]:
        found = await self._c.fetch("SELECT order_id, item_id, customer_id, rating, text, author, created_at"
                                    " FROM reviews WHERE item_id = $1 ORDER BY created_at DESC LIMIT $2",
                                    item_id, limit)
        return [Review(order_id, item, customer_id, rating, text, author, rows.at(created))
                for order_id, item, customer_id, rating, text, author, created in found]

    async def ratings(self) -> dict[str, tuple[float, int]]:
        # one row per item reviewed, kept by the reviews' trigger (migration 0005), not a GROUP BY of them all
        found = await self._c.fetch("SELECT item_id, total, reviews FROM item_ratings WHERE reviews > 0")
        return {i: (round(total / n, 2), n) for i, total, n in found}
