"""Conversions between rows and the journey's dataclasses, shared by both backends (the same columns and
representations: times as ISO text in UTC, JSON as text, flags as 0/1)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from journey.catalog import Item, OpeningHours, Option, OptionGroup, PickupPoint
from journey.channels import Channel
from journey.model import Customer, Order, OrderLine, PaymentIntent, Promo, PromoKind
from journey.money import Money
from journey.states import OrderStatus, PaymentStatus


def ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def at(value: str) -> datetime:
    """A ``NOT NULL`` time column."""
    return datetime.fromisoformat(value)


def groups_to_json(groups: tuple[OptionGroup, ...]) -> str:
    return json.dumps([
        {"id": g.id, "name": g.name, "required": g.required, "multiple": g.multiple,
         "options": [[o.id, o.name, o.price_delta] for o in g.options]}
        for g in groups
    ], ensure_ascii=False, separators=(",", ":"))


def groups_from_json(text: str) -> tuple[OptionGroup, ...]:
    return tuple(
        OptionGroup(g["id"], g["name"], tuple(Option(*o) for o in g["options"]), g["required"], g["multiple"])
        for g in json.loads(text)
    )


ITEM_COLUMNS = "id, category_id, name, description, photo, price, currency, option_groups, tags, available, position"


def item(row: tuple) -> Item:
    (id_, category_id, name, description, photo, price, currency, groups, tags, available, position) = row
    return Item(id_, category_id, name, Money(price, currency), description, photo,
                groups_from_json(groups), tuple(json.loads(tags)), bool(available), position)


POINT_COLUMNS = "id, name, address, lat, lon, hours, prep_minutes"


def point(row: tuple) -> PickupPoint:
    id_, name, address, lat, lon, hours, prep = row
    return PickupPoint(id_, name, address, lat, lon, OpeningHours.parse(hours), prep)


CUSTOMER_COLUMNS = "id, name, language, source, consent, referral_code, referred_by, created_at"


def customer(row: tuple) -> Customer:
    id_, name, language, source, consent, referral, referred_by, created = row
    return Customer(id_, name, language, source, bool(consent), referral, referred_by, dt(created))


ORDER_COLUMNS = ("id, customer_id, point_id, status, lines, currency, subtotal, discount, points_spent, total,"
                 " promo_code, source, payment_provider, account, short_code, pickup_at, created_at, updated_at")


def lines_to_json(lines: tuple[OrderLine, ...]) -> str:
    return json.dumps([
        {"item": l.item_id, "name": l.name, "options": list(l.options),
         "option_ids": {k: list(v) for k, v in l.option_ids.items()}, "qty": l.quantity,
         "price": l.unit_price.amount}
        for l in lines
    ], ensure_ascii=False, separators=(",", ":"))


def order(row: tuple) -> Order:
    (id_, customer_id, point_id, status, lines, currency, subtotal, discount, points, total, promo, source,
     provider, account, short_code, pickup_at, created, updated) = row
    parsed = tuple(
        OrderLine(l["item"], l["name"], tuple(l["options"]), {k: tuple(v) for k, v in l["option_ids"].items()},
                  l["qty"], Money(l["price"], currency))
        for l in json.loads(lines)
    )
    return Order(id_, customer_id, point_id, OrderStatus(status), parsed, Money(subtotal, currency),
                 Money(discount, currency), points, Money(total, currency), at(pickup_at), short_code,
                 at(created), at(updated), promo, source, provider, account)


PAYMENT_COLUMNS = ("id, order_id, provider, amount, currency, status, idempotency_key, provider_ref, created_at,"
                   " updated_at, link, refunded, charge_id, provider_charge_id, manual_refund, settled")


def payment(row: tuple) -> PaymentIntent:
    (id_, order_id, provider, amount, currency, status, key, ref, created, updated, link, refunded, charge_id,
     provider_charge_id, manual_refund, settled) = row
    return PaymentIntent(id_, order_id, provider, Money(amount, currency), PaymentStatus(status), key, ref,
                         dt(created), dt(updated), link, refunded, charge_id, provider_charge_id, manual_refund,
                         bool(settled))


PROMO_COLUMNS = "code, kind, value, expires_at, max_uses, used, once_per_customer, active"


def promo(row: tuple) -> Promo:
    code, kind, value, expires, max_uses, used, once, active = row
    return Promo(code, PromoKind(kind), value, dt(expires), max_uses, used, bool(once), bool(active))


def channel(value: str) -> Channel:
    return Channel(value)
