"""SQLite repositories. Each works on the connection of its unit of work, inside its transaction."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

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

# open orders, written as the partial indexes on them write it (one fixed text, whatever the order a set of the
# statuses iterates in), so the planner always knows the index covers the query
_OPEN_SQL = rows.OPEN_SHORT_CODES


def integrity_error(e: sqlite3.IntegrityError) -> DomainError:
    """A constraint the engine should have kept itself: say which, as a domain refusal."""
    text = str(e)
    if "points_insufficient" in text:
        return DomainError(ErrorCode.POINTS_INSUFFICIENT)
    if "quantity >= 0" in text:
        return DomainError(ErrorCode.OUT_OF_STOCK)
    return DomainError(ErrorCode.CONFLICT, text)


class _Repo:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def _write(self, sql: str, params: Sequence | dict = ()) -> sqlite3.Cursor:
        try:
            return self._c.execute(sql, params)
        except sqlite3.IntegrityError as e:
            raise integrity_error(e) from e


class SqliteCatalog(_Repo):
    async def version(self) -> str:
        # a counter the triggers of migration 0021 move with every change of what the menu shows, in the
        # transaction that makes it, whichever connection or process writes
        return str(self._c.execute("SELECT value FROM versions WHERE name = 'menu'").fetchone()[0])

    async def categories(self) -> list[Category]:
        cur = self._c.execute("SELECT id, name, position FROM categories ORDER BY position, name")
        return [Category(*r) for r in cur]

    async def items(self, *, include_unavailable: bool = False) -> list[Item]:
        where = "" if include_unavailable else "WHERE available = 1"
        sql = f"SELECT {rows.ITEM_COLUMNS} FROM items {where} ORDER BY position, name"
        return [rows.item(r) for r in self._c.execute(sql)]

    async def items_by_id(self, ids: Iterable[str]) -> dict[str, Item]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        cur = self._c.execute(f"SELECT {rows.ITEM_COLUMNS} FROM items WHERE id IN ({marks})", ids)
        return {r[0]: rows.item(r) for r in cur}

    async def save_category(self, category: Category) -> None:
        self._write("INSERT INTO categories (id, name, position) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE"
                    " SET name = excluded.name, position = excluded.position",
                    (category.id, category.name, category.position))

    async def save_item(self, item: Item) -> None:
        self._write(
            f"INSERT INTO items ({rows.ITEM_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET"
            " category_id = excluded.category_id, name = excluded.name, description = excluded.description,"
            " photo = excluded.photo, price = excluded.price, currency = excluded.currency,"
            " option_groups = excluded.option_groups, tags = excluded.tags, available = excluded.available,"
            " position = excluded.position",
            (item.id, item.category_id, item.name, item.description, item.photo, item.price.amount,
             item.price.currency, rows.groups_to_json(item.option_groups),
             json.dumps(list(item.tags), ensure_ascii=False), int(item.available), item.position))

    async def set_available(self, item_id: str, available: bool) -> None:
        self._write("UPDATE items SET available = ? WHERE id = ?", (int(available), item_id))

    async def points(self) -> list[PickupPoint]:
        return [rows.point(r) for r in self._c.execute(f"SELECT {rows.POINT_COLUMNS} FROM points ORDER BY id")]

    async def point(self, point_id: str) -> PickupPoint | None:
        r = self._c.execute(f"SELECT {rows.POINT_COLUMNS} FROM points WHERE id = ?", (point_id,)).fetchone()
        return rows.point(r) if r else None

    async def save_point(self, point: PickupPoint) -> None:
        self._write(
            f"INSERT INTO points ({rows.POINT_COLUMNS}) VALUES (?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET"
            " name = excluded.name, address = excluded.address, lat = excluded.lat, lon = excluded.lon,"
            " hours = excluded.hours, prep_minutes = excluded.prep_minutes",
            (point.id, point.name, point.address, point.lat, point.lon, point.hours.format(), point.prep_minutes))

    async def stock(self, point_id: str) -> dict[str, int | None]:
        return dict(self._c.execute("SELECT item_id, quantity FROM stock WHERE point_id = ?", (point_id,)).fetchall())

    async def all_stock(self) -> dict[tuple[str, str], int | None]:
        return {(p, i): q for p, i, q in self._c.execute("SELECT point_id, item_id, quantity FROM stock")}

    async def set_stock(self, point_id: str, item_id: str, quantity: int | None) -> None:
        if quantity is None:
            self._write("DELETE FROM stock WHERE point_id = ? AND item_id = ?", (point_id, item_id))
        else:
            self._write("INSERT INTO stock (point_id, item_id, quantity) VALUES (?, ?, ?) ON CONFLICT"
                        " (point_id, item_id) DO UPDATE SET quantity = excluded.quantity",
                        (point_id, item_id, quantity))

    async def change_stock(self, point_id: str, item_id: str, delta: int) -> None:
        self._write("UPDATE stock SET quantity = quantity + ? WHERE point_id = ? AND item_id = ?",
                    (delta, point_id, item_id))


class SqliteCustomers(_Repo):
    async def by_account(self, channel: Channel, external_id: str) -> Customer | None:
        r = self._c.execute(
            f"SELECT {', '.join('c.' + c.strip() for c in rows.CUSTOMER_COLUMNS.split(','))} FROM accounts a"
            " JOIN customers c ON c.id = a.customer_id WHERE a.channel = ? AND a.external_id = ?",
            (channel.value, external_id)).fetchone()
        return rows.customer(r) if r else None

    async def get(self, customer_id: str) -> Customer | None:
        r = self._c.execute(f"SELECT {rows.CUSTOMER_COLUMNS} FROM customers WHERE id = ?", (customer_id,)).fetchone()
        return rows.customer(r) if r else None

    async def by_referral_code(self, code: str) -> Customer | None:
        r = self._c.execute(f"SELECT {rows.CUSTOMER_COLUMNS} FROM customers WHERE referral_code = ?"
                            " AND merged_into IS NULL", (code,)).fetchone()
        return rows.customer(r) if r else None

    async def add(self, customer: Customer) -> None:
        self._write(f"INSERT INTO customers ({rows.CUSTOMER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                    (customer.id, customer.name, customer.language, customer.source, int(customer.consent),
                     customer.referral_code, customer.referred_by, ts(customer.created_at)))

    async def update(self, customer: Customer) -> None:
        self._write("UPDATE customers SET name = ?, language = ?, source = ?, consent = ?, referred_by = ?"
                    " WHERE id = ?", (customer.name, customer.language, customer.source, int(customer.consent),
                                      customer.referred_by, customer.id))

    async def add_account(self, account: Account) -> None:
        self._write("INSERT INTO accounts (channel, external_id, customer_id, name) VALUES (?, ?, ?, ?)",
                    (account.channel.value, account.external_id, account.customer_id, account.name))

    async def accounts(self, customer_id: str) -> list[Account]:
        cur = self._c.execute("SELECT channel, external_id, customer_id, name FROM accounts WHERE customer_id = ?"
                              " ORDER BY channel, external_id", (customer_id,))
        return [Account(Channel(c), e, cid, n) for c, e, cid, n in cur]

    async def merge(self, source_id: str, target_id: str) -> None:
        for table in ("accounts", "orders", "ledger", "promo_uses", "visits", "link_codes", "reviews"):
            self._write(f"UPDATE {table} SET customer_id = ? WHERE customer_id = ?", (target_id, source_id))
        self._write("UPDATE customers SET referred_by = ? WHERE referred_by = ?", (target_id, source_id))
        self._write("UPDATE customers SET merged_into = ? WHERE id = ?", (target_id, source_id))

    async def add_link_code(self, code: LinkCode) -> None:
        self._write("INSERT INTO link_codes (code, customer_id, expires_at, used) VALUES (?, ?, ?, 0)"
                    " ON CONFLICT (code) DO UPDATE SET customer_id = excluded.customer_id,"
                    " expires_at = excluded.expires_at, used = 0", (code.code, code.customer_id, ts(code.expires_at)))

    async def link_code(self, code: str) -> LinkCode | None:
        r = self._c.execute("SELECT code, customer_id, expires_at, used FROM link_codes WHERE code = ?",
                            (code,)).fetchone()
        return LinkCode(r[0], r[1], rows.at(r[2]), bool(r[3])) if r else None

    async def use_link_code(self, code: str) -> None:
        self._write("UPDATE link_codes SET used = 1 WHERE code = ?", (code,))

    async def record_link_failure(self, account: str, at: datetime) -> None:
        self._write("INSERT INTO link_failures (account, at) VALUES (?, ?)", (account, ts(at)))

    async def link_failures(self, account: str, since: datetime) -> int:
        return self._c.execute("SELECT COUNT(*) FROM link_failures WHERE account = ? AND at >= ?",
                               (account, ts(since))).fetchone()[0]

    async def prune_link_failures(self, before: datetime) -> int:
        return self._write("DELETE FROM link_failures WHERE at < ?", (ts(before),)).rowcount


class SqliteOrders(_Repo):
    async def add(self, order: Order) -> bool:
        cur = self._write(
            f"INSERT INTO orders ({rows.ORDER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            f" ON CONFLICT (point_id, short_code) WHERE {rows.OPEN_SHORT_CODES} DO NOTHING",
            (order.id, order.customer_id, order.point_id, order.status.value, rows.lines_to_json(order.lines),
             order.total.currency, order.subtotal.amount, order.discount.amount, order.points_spent,
             order.total.amount, order.promo_code, order.source, order.payment_provider, order.account,
             order.short_code,
             ts(order.pickup_at), ts(order.created_at), ts(order.updated_at)))
        if cur.rowcount != 1:  # another process's order took the code (one writer at a time: only a stale draw)
            return False
        self._write("INSERT INTO order_history (order_id, status, at) VALUES (?, ?, ?)",
                    (order.id, order.status.value, ts(order.created_at)))
        return True

    async def get(self, order_id: str) -> Order | None:
        # the order and its history in one statement: the history in the order written (by rowid, as its index
        # on order_id hands the rows out), as one JSON array beside the row
        r = self._c.execute(f"SELECT {rows.ORDER_COLUMNS}, (SELECT json_group_array(json_array(status, at)) FROM"
                            " (SELECT status, at FROM order_history WHERE order_id = ? ORDER BY rowid))"
                            " FROM orders WHERE id = ?", (order_id, order_id)).fetchone()
        if not r:
            return None
        order = rows.order(r[:-1])
        order.history = rows.history_from_json(r[-1])
        return order

    async def set_status(self, order_id: str, status: OrderStatus, at: datetime) -> None:
        self._write("UPDATE orders SET status = ?, updated_at = ? WHERE id = ?", (status.value, ts(at), order_id))
        self._write("INSERT INTO order_history (order_id, status, at) VALUES (?, ?, ?)",
                    (order_id, status.value, ts(at)))

    async def for_customer(self, customer_id: str, limit: int = 20) -> list[Order]:
        cur = self._c.execute(f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE customer_id = ?"
                              " ORDER BY created_at DESC LIMIT ?", (customer_id, limit))
        return [rows.order(r) for r in cur]

    async def open_at(self, point_id: str) -> list[Order]:
        cur = self._c.execute(f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE point_id = ? AND {_OPEN_SQL}"
                              " ORDER BY pickup_at, created_at", (point_id,))
        return [rows.order(r) for r in cur]

    async def by_short_code(self, point_id: str | None, short_code: str) -> list[Order]:
        sql = f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE short_code = ? AND {_OPEN_SQL}"
        params: tuple = (short_code,)
        if point_id is not None:
            sql += " AND point_id = ?"
            params += (point_id,)
        return [rows.order(r) for r in self._c.execute(sql, params)]

    async def last_with_short_code(self, point_id: str | None, short_code: str, since: datetime) -> Order | None:
        sql = f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE short_code = ? AND updated_at >= ?"
        params: tuple = (short_code, ts(since))
        if point_id is not None:
            sql += " AND point_id = ?"
            params += (point_id,)
        r = self._c.execute(sql + " ORDER BY updated_at DESC LIMIT 1", params).fetchone()
        return rows.order(r) if r else None

    async def short_codes_in_use(self, point_id: str) -> set[str]:
        cur = self._c.execute(f"SELECT short_code FROM orders WHERE point_id = ? AND {_OPEN_SQL}",
                              (point_id,))
        return {r[0] for r in cur}

    async def count_for_customer(self, customer_id: str, status: OrderStatus) -> int:
        return self._c.execute("SELECT COUNT(*) FROM orders WHERE customer_id = ? AND status = ?",
                               (customer_id, status.value)).fetchone()[0]

    async def count_open_for_customer(self, customer_id: str) -> int:
        return self._c.execute(f"SELECT COUNT(*) FROM orders WHERE customer_id = ? AND {_OPEN_SQL}",
                               (customer_id,)).fetchone()[0]

    async def ids_in_status(self, status: OrderStatus, *, before: datetime | None = None) -> list[str]:
        if before is None:
            cur = self._c.execute("SELECT id FROM orders WHERE status = ?", (status.value,))
        else:
            cur = self._c.execute("SELECT id FROM orders WHERE status = ? AND created_at < ?",
                                  (status.value, ts(before)))
        return [r[0] for r in cur]

    async def board(self, point_ids: Sequence[str], *, shown_pending: Sequence[str], after: str | None,
                    limit: int) -> list[BoardRow]:
        if not point_ids:
            return []
        # one point: its open orders in the board's order (orders_board_point); several: every open order in
        # that order, the other points' skipped (orders_board), so a page reads about its own rows either way
        # rather than sorting every open order of the points for each page
        params: list[object] = list(point_ids)
        if len(point_ids) == 1:
            sql = _BOARD.format(index="", points="o.point_id = ?")
        else:
            sql = _BOARD.format(index="INDEXED BY orders_board",
                                points=f"o.point_id IN ({','.join('?' * len(point_ids))})")
        if after is not None:
            # the cursor's place read first and passed as values: compared with a subquery, SQLite ranges the
            # index on the pickup time only and walks every order due at that time before the page
            place = self._c.execute("SELECT pickup_at, created_at, id FROM orders WHERE id = ?", (after,)).fetchone()
            if place is None:
                return []
            sql += " AND (o.pickup_at, o.created_at, o.id) > (?, ?, ?)"
            params += place
        sql += (f" AND (p.id IS NULL OR p.status <> 'pending' OR p.provider IN ({','.join('?' * len(shown_pending))}))"
                " ORDER BY o.pickup_at, o.created_at, o.id LIMIT ?")
        params += [*shown_pending, limit]
        found = []
        for r in self._c.execute(sql, params):
            order = rows.order(r[:18])
            order.history = [(OrderStatus(s), rows.at(at)) for s, at in json.loads(r[35])]
            found.append(BoardRow(order, rows.payment(r[19:35]) if r[19] is not None else None, r[18] or ""))
        return found

    async def expiry_candidates(self, placed_before: datetime) -> list[tuple[Order, PaymentIntent | None]]:
        cur = self._c.execute(_CANDIDATES, (ts(placed_before),))
        return [(rows.order(r[:18]), rows.payment(r[18:]) if r[18] is not None else None) for r in cur]


_BOARD = (
    f"SELECT {', '.join('o.' + c.strip() for c in rows.ORDER_COLUMNS.split(','))},"
    # the customer's name looked up per order of the page (a join may be planned as a pass over every customer)
    " (SELECT name FROM customers c WHERE c.id = o.customer_id),"
    f" {', '.join('p.' + c.strip() for c in rows.PAYMENT_COLUMNS.split(','))},"
    # the history in the order written (as ``get`` reads it)
    " (SELECT json_group_array(json_array(status, at)) FROM"
    "  (SELECT status, at FROM order_history h WHERE h.order_id = o.id ORDER BY h.rowid))"
    " FROM orders o {index}"
    # the newest payment (as ``payments.for_order`` reads it)
    " LEFT JOIN payments p ON p.id = (SELECT id FROM payments WHERE order_id = o.id ORDER BY created_at DESC LIMIT 1)"
    f" WHERE o.{_OPEN_SQL} AND {{points}}")


_CANDIDATES = (
    f"SELECT {', '.join('o.' + c.strip() for c in rows.ORDER_COLUMNS.split(','))},"
    f" {', '.join('p.' + c.strip() for c in rows.PAYMENT_COLUMNS.split(','))}"
    " FROM orders o"
    " LEFT JOIN payments p ON p.id = (SELECT id FROM payments WHERE order_id = o.id ORDER BY created_at DESC LIMIT 1)"
    " WHERE (o.status = 'placed' AND o.created_at < ?) OR o.status = 'ready'")


class SqlitePayments(_Repo):
    async def add(self, intent: PaymentIntent) -> None:
        self._write(f"INSERT INTO payments ({rows.PAYMENT_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                    (intent.id, intent.order_id, intent.provider, intent.amount.amount, intent.amount.currency,
                     intent.status.value, intent.idempotency_key, intent.provider_ref, ts(intent.created_at),
                     ts(intent.updated_at), intent.link, intent.refunded, intent.charge_id,
                     intent.provider_charge_id, intent.manual_refund, int(intent.settled)))

    async def set_status(self, payment_id: str, status: PaymentStatus, at: datetime,
                         provider_ref: str | None = None) -> None:
        self._write("UPDATE payments SET status = ?, updated_at = ?, provider_ref = COALESCE(?, provider_ref)"
                    " WHERE id = ?", (status.value, ts(at), provider_ref, payment_id))

    async def update(self, intent: PaymentIntent) -> None:
        self._write("UPDATE payments SET status = ?, provider_ref = ?, updated_at = ?, link = ?, refunded = ?,"
                    " charge_id = ?, provider_charge_id = ?, manual_refund = ?, settled = ? WHERE id = ?",
                    (intent.status.value, intent.provider_ref, ts(intent.updated_at), intent.link, intent.refunded,
                     intent.charge_id, intent.provider_charge_id, intent.manual_refund, int(intent.settled),
                     intent.id))

    def _one(self, where: str, *args: object) -> PaymentIntent | None:
        r = self._c.execute(f"SELECT {rows.PAYMENT_COLUMNS} FROM payments WHERE {where}", args).fetchone()
        return rows.payment(r) if r else None

    async def get(self, payment_id: str) -> PaymentIntent | None:
        return self._one("id = ?", payment_id)

    async def for_order(self, order_id: str) -> PaymentIntent | None:
        return self._one("order_id = ? ORDER BY created_at DESC LIMIT 1", order_id)

    async def capture_pending(self, order_id: str, at: datetime) -> PaymentIntent | None:
        found = self._write(f"UPDATE payments SET status = ?, updated_at = ? WHERE order_id = ? AND status = ?"
                            f" RETURNING {rows.PAYMENT_COLUMNS}", (PaymentStatus.CAPTURED.value, ts(at), order_id,
                                                                   PaymentStatus.PENDING.value)).fetchall()
        return rows.payment(found[0]) if found else None

    async def by_idempotency_key(self, key: str) -> PaymentIntent | None:
        return self._one("idempotency_key = ?", key)

    async def by_provider_ref(self, provider: str, provider_ref: str) -> PaymentIntent | None:
        return self._one("provider = ? AND provider_ref = ? AND provider_ref != ''", provider, provider_ref)

    async def by_charge_id(self, charge_id: str) -> PaymentIntent | None:
        return self._one("charge_id = ? AND charge_id != ''", charge_id)

    async def unsettled(self, providers: Sequence[str]) -> list[PaymentIntent]:
        if not providers:
            return []
        marks = ", ".join("?" * len(providers))
        cur = self._c.execute(f"SELECT {rows.PAYMENT_COLUMNS} FROM payments WHERE settled = 0 AND provider IN"
                              f" ({marks}) ORDER BY created_at, id", tuple(providers))
        return [rows.payment(r) for r in cur]


class SqlitePacks(_Repo):
    COLUMNS = "id, customer_id, account, points, stars, status, charge_id, created_at, updated_at"

    async def add(self, p: PackPurchase) -> None:
        self._write(f"INSERT INTO pack_purchases ({self.COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                    (p.id, p.customer_id, p.account, p.points, p.stars, p.status.value, p.charge_id,
                     ts(p.created_at), ts(p.updated_at)))

    def _one(self, where: str, arg: str) -> PackPurchase | None:
        r = self._c.execute(f"SELECT {self.COLUMNS} FROM pack_purchases WHERE {where}", (arg,)).fetchone()
        if r is None:
            return None
        id_, customer_id, account, points, stars, status, charge_id, created, updated = r
        return PackPurchase(id_, customer_id, account, points, stars, PackStatus(status), charge_id, dt(created),
                            dt(updated))

    async def get(self, purchase_id: str) -> PackPurchase | None:
        return self._one("id = ?", purchase_id)

    async def by_charge_id(self, charge_id: str) -> PackPurchase | None:
        return self._one("charge_id = ? AND charge_id != ''", charge_id)

    async def update(self, p: PackPurchase) -> None:
        self._write("UPDATE pack_purchases SET status = ?, charge_id = ?, updated_at = ? WHERE id = ?",
                    (p.status.value, p.charge_id, ts(p.updated_at), p.id))


class SqliteLoyalty(_Repo):
    async def balance(self, customer_id: str) -> int:
        # the sum of the customer's ledger, kept by the ledger's triggers (migration 0019)
        r = self._c.execute("SELECT points FROM balances WHERE customer_id = ?", (customer_id,)).fetchone()
        return r[0] if r else 0

    async def add(self, entry: LedgerEntry) -> None:
        self._write("INSERT INTO ledger (customer_id, delta, reason, order_id, at) VALUES (?, ?, ?, ?, ?)",
                    (entry.customer_id, entry.delta, entry.reason, entry.order_id, ts(entry.at)))

    async def entries(self, customer_id: str, limit: int = 50) -> list[LedgerEntry]:
        cur = self._c.execute("SELECT customer_id, delta, reason, order_id, at FROM ledger WHERE customer_id = ?"
                              " ORDER BY id DESC LIMIT ?", (customer_id, limit))
        return [LedgerEntry(c, d, r, o, dt(a)) for c, d, r, o, a in cur]


class SqlitePromos(_Repo):
    async def get(self, code: str) -> Promo | None:
        r = self._c.execute(f"SELECT {rows.PROMO_COLUMNS} FROM promos WHERE code = ?", (code.upper(),)).fetchone()
        return rows.promo(r) if r else None

    async def all(self) -> list[Promo]:
        return [rows.promo(r) for r in self._c.execute(f"SELECT {rows.PROMO_COLUMNS} FROM promos ORDER BY code")]

    async def save(self, promo: Promo) -> None:
        self._write(
            f"INSERT INTO promos ({rows.PROMO_COLUMNS}) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (code) DO UPDATE SET"
            " kind = excluded.kind, value = excluded.value, expires_at = excluded.expires_at,"
            " max_uses = excluded.max_uses, once_per_customer = excluded.once_per_customer, active = excluded.active",
            (promo.code.upper(), promo.kind.value, promo.value, ts(promo.expires_at), promo.max_uses, promo.used,
             int(promo.once_per_customer), int(promo.active)))

    async def uses_by(self, code: str, customer_id: str) -> int:
        return self._c.execute("SELECT COUNT(*) FROM promo_uses WHERE code = ? AND customer_id = ?",
                               (code.upper(), customer_id)).fetchone()[0]

    async def record_use(self, code: str, customer_id: str, order_id: str) -> None:
        self._write("INSERT INTO promo_uses (code, customer_id, order_id) VALUES (?, ?, ?)",
                    (code.upper(), customer_id, order_id))
        self._write("UPDATE promos SET used = used + 1 WHERE code = ?", (code.upper(),))

    async def release_use(self, code: str, order_id: str) -> None:
        if self._write("DELETE FROM promo_uses WHERE code = ? AND order_id = ?", (code.upper(), order_id)).rowcount:
            self._write("UPDATE promos SET used = used - 1 WHERE code = ?", (code.upper(),))


class SqliteStaff(_Repo):
    async def add(self, account: CustomerRef, point_id: str) -> None:
        self._write("INSERT OR IGNORE INTO staff (channel, external_id, point_id) VALUES (?, ?, ?)",
                    (account.channel.value, account.external_id, point_id))

    async def remove(self, account: CustomerRef, point_id: str | None = None) -> int:
        sql, params = "DELETE FROM staff WHERE channel = ? AND external_id = ?", [account.channel.value,
                                                                                 account.external_id]
        if point_id is not None:
            sql += " AND point_id = ?"
            params.append(point_id)
        return self._write(sql, params).rowcount

    async def list(self) -> list[tuple[CustomerRef, str]]:
        cur = self._c.execute("SELECT channel, external_id, point_id FROM staff"
                              " ORDER BY point_id, channel, external_id")
        return [(CustomerRef(Channel(c), e), p) for c, e, p in cur]

    async def points_of(self, accounts: Sequence[CustomerRef]) -> set[str]:
        found: set[str] = set()
        for a in accounts:
            found.update(r[0] for r in self._c.execute(
                "SELECT point_id FROM staff WHERE channel = ? AND external_id = ?", (a.channel.value, a.external_id)))
        return found


class SqliteSettings(_Repo):
    async def get(self, key: str) -> str | None:
        r = self._c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return r[0] if r else None

    async def set(self, key: str, value: str) -> None:
        self._write("INSERT INTO meta (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    async def all(self) -> dict[str, str]:
        return dict(self._c.execute("SELECT key, value FROM meta").fetchall())

    async def setdefault(self, key: str, value: str) -> str:
        self._write("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value))
        return self._c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]


class SqliteVisits(_Repo):
    async def add(self, visit: Visit) -> None:
        self._write("INSERT INTO visits (param, kind, channel, customer_id, at) VALUES (?, ?, ?, ?, ?)",
                    (visit.param, visit.kind, visit.channel, visit.customer_id, ts(visit.at)))

    async def count(self, param: str | None = None) -> int:
        if param is None:
            return self._c.execute("SELECT COUNT(*) FROM visits").fetchone()[0]
        return self._c.execute("SELECT COUNT(*) FROM visits WHERE param = ?", (param,)).fetchone()[0]


class SqliteReviews(_Repo):
    async def add(self, review: Review) -> None:
        self._write("INSERT INTO reviews (order_id, item_id, customer_id, rating, text, author, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)", (review.order_id, review.item_id, review.customer_id,
                                                      review.rating, review.text, review.author, ts(review.created_at)))

    async def exists(self, order_id: str, item_id: str) -> bool:
        return self._c.execute("SELECT 1 FROM reviews WHERE order_id = ? AND item_id = ?",
                               (order_id, item_id)).fetchone() is not None

    async def for_item(self, item_id: str, limit: int = 20) -> list[Review]:
        cur = self._c.execute("SELECT order_id, item_id, customer_id, rating, text, author, created_at FROM reviews"
                              " WHERE item_id = ? ORDER BY created_at DESC LIMIT ?", (item_id, limit))
        return [Review(order_id, item, customer_id, rating, text, author, dt(created))
                for order_id, item, customer_id, rating, text, author, created in cur]

    async def ratings(self) -> dict[str, tuple[float, int]]:
        # one row per item reviewed, kept by the reviews' triggers (migration 0019), not a GROUP BY of them all
        cur = self._c.execute("SELECT item_id, total, reviews FROM item_ratings WHERE reviews > 0")
        return {i: (round(total / n, 2), n) for i, total, n in cur}
