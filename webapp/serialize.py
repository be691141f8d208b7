"""Engine values -> the JSON shapes of docs/API.md. Pure functions: no I/O, no requests."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from journey.catalog import Category, Item, PickupPoint
from journey.customers import Profile
from journey.model import LinkCode, OrderLine, Quote, Review
from journey.money import Money
from journey.order_views import OrderDetails

Json = dict[str, Any]


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def money(value: Money) -> Json:
    return {"amount": value.amount, "currency": value.currency, "text": value.format()}


def category(c: Category) -> Json:
    return {"id": c.id, "name": c.name}


def item(i: Item, stock: Mapping[str, int | None], ratings: Mapping[str, tuple[float, int]]) -> Json:
    left = stock.get(i.id)
    average, count = ratings.get(i.id, (None, 0))
    return {
        "id": i.id, "category": i.category_id, "name": i.name, "description": i.description, "photo": i.photo,
        "price": money(i.price),
        "options": [{"id": g.id, "name": g.name, "required": g.required, "multiple": g.multiple,
                     "options": [{"id": o.id, "name": o.name, "price_delta": money(Money(o.price_delta, i.price.currency))}
                                 for o in g.options]} for g in i.option_groups],
        "tags": list(i.tags),
        "stock": left,
        "sold_out": left is not None and left <= 0,
        "rating": {"average": round(average, 2) if average is not None else None, "count": count},
    }


def point(p: PickupPoint, now: datetime, timezone: str) -> Json:
    return {"id": p.id, "name": p.name, "address": p.address, "lat": p.lat, "lon": p.lon,
            "hours": p.hours.format(), "prep_minutes": p.prep_minutes,
            "open_now": p.hours.is_open(now.astimezone(ZoneInfo(timezone)))}


def line(l: OrderLine) -> Json:
    return {"item": l.item_id, "name": l.name, "options": list(l.options), "quantity": l.quantity,
            "unit_price": money(l.unit_price), "total": money(l.total)}


def quote(q: Quote, balance: int) -> Json:
    return {"lines": [line(l) for l in q.lines], "subtotal": money(q.subtotal), "discount": money(q.discount),
            "points": q.points_spent, "total": money(q.total), "points_cap": q.points_cap, "balance": balance,
            "promo": q.promo_code}


def order(d: OrderDetails, pickup_token: str, *, staff: bool = False) -> Json:
    o = d.order
    body: Json = {
        "id": o.id, "number": o.short_code, "status": o.status.value,
        "point": {"id": o.point_id, "name": d.point.name if d.point else o.point_id,
                  "address": d.point.address if d.point else ""},
        "lines": [line(l) for l in o.lines],
        "subtotal": money(o.subtotal), "discount": money(o.discount), "points": o.points_spent,
        "total": money(o.total), "promo": o.promo_code,
        "pickup_at": when(o.pickup_at), "created_at": when(o.created_at),
        "short_code": o.short_code, "pickup_token": pickup_token,
        "history": [{"status": s.value, "at": when(at)} for s, at in o.history],
        "payment": {"provider": d.payment.provider if d.payment else o.payment_provider,
                    "status": d.payment.status.value if d.payment else None},
        "qr": f"/api/orders/{o.id}/qr.svg",
    }
    if staff:
        body["customer"] = {"name": d.customer_name}
    return body


def me(p: Profile, base_url: str) -> Json:
    c = p.customer
    return {
        "id": c.id, "name": c.name,
        "channels": [{"channel": a.channel.value, "id": a.external_id} for a in p.accounts],
        "points": p.points, "language": c.language,
        "is_staff": p.is_staff, "staff_points": sorted(p.staff_points),
        "referral_code": c.referral_code, "referral_link": f"{base_url}/go/r{c.referral_code}",
    }


def review(r: Review) -> Json:
    return {"rating": r.rating, "text": r.text, "author": r.author, "created_at": when(r.created_at)}


def link_code(code: LinkCode) -> Json:
    return {"code": code.code, "expires_at": when(code.expires_at)}
