"""Engine values -> the answers of docs/API.md. Pure functions: no I/O, no requests.

Every answer is built as its model in ``answers`` (which the OpenAPI document is generated from) and
handed to the views as JSON-ready data; the element builders (``_item``, ``_order``...) return models.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from journey.catalog import Category, Item, PickupPoint
from journey.customers import Profile
from journey.deeplinks import DeepLink
from journey.groups import GroupView
from journey.groups import link as group_link
from journey.model import CartLine, Consent, LinkCode, OrderLine, PaymentIntent, Quote, Review, ShopRules
from journey.money import Money
from journey.order_views import OrderDetails
from journey.ordering import PickupTimes
from journey.packs import PointsPack
from journey.ports import MiniApp
from journey.states import PaymentStatus

from . import answers as a

Json = dict[str, Any]


def _json(answer: a.Answer) -> Json:
    return answer.model_dump(mode="json")


def _rating(average: float | None) -> float | None:
    return round(average, 2) if average is not None else None


def _money(value: Money) -> a.Money:
    return a.Money(amount=value.amount, currency=value.currency, text=value.format())


def _item(i: Item, stock: Mapping[str, int | None], ratings: Mapping[str, tuple[float, int]]) -> a.Item:
    left = stock.get(i.id)
    average, count = ratings.get(i.id, (None, 0))
    return a.Item(
        id=i.id, category=i.category_id, name=i.name, description=i.description, photo=i.photo,
        price=_money(i.price),
        options=[a.OptionGroup(id=g.id, name=g.name, required=g.required, multiple=g.multiple,
                               options=[a.Option(id=o.id, name=o.name,
                                                 price_delta=_money(Money(o.price_delta, i.price.currency)))
                                        for o in g.options])
                 for g in i.option_groups],
        tags=list(i.tags), stock=left, sold_out=left is not None and left <= 0,
        rating=a.Rating(average=_rating(average), count=count))


def _point(p: PickupPoint, now: datetime, zone: ZoneInfo) -> a.Point:
    return a.Point(id=p.id, name=p.name, address=p.address, lat=p.lat, lon=p.lon, hours=p.hours.format(),
                   prep_minutes=p.prep_minutes, open_now=p.hours.is_open(now.astimezone(zone)))


def _line(l: OrderLine) -> a.OrderLine:
    return a.OrderLine(item=l.item_id, name=l.name, options=list(l.options), quantity=l.quantity,
                       unit_price=_money(l.unit_price), total=_money(l.total))


def _payment(p: PaymentIntent | None, provider: str, link: str) -> a.Payment:
    """Where to pay shows only while the payment waits for the customer."""
    waiting = p is not None and p.status is PaymentStatus.PENDING and bool(p.link)
    return a.Payment(
        provider=p.provider if p else provider, status=p.status if p else None,
        confirmation_url=p.link if waiting and p and link == "confirmation_url" else None,
        invoice_link=p.link if waiting and p and link == "invoice_link" else None,
        refunded=_money(Money(p.refunded, p.amount.currency)) if p and p.refunded else None)


def _order(d: OrderDetails, pickup_token: str, staff: bool) -> a.Order:
    o = d.order
    return a.Order(
        id=o.id, number=o.short_code, status=o.status,
        point=a.OrderPoint(id=o.point_id, name=d.point.name if d.point else o.point_id,
                           address=d.point.address if d.point else ""),
        table=d.table or None,
        lines=[_line(l) for l in o.lines],
        subtotal=_money(o.subtotal), discount=_money(o.discount), points=o.points_spent, total=_money(o.total),
        promo=o.promo_code, pickup_at=o.pickup_at, late_minutes=d.late_minutes, created_at=o.created_at,
        short_code=o.short_code, pickup_token=pickup_token,
        history=[a.StatusChange(status=s, at=at) for s, at in o.history],
        payment=_payment(d.payment, o.payment_provider, d.link_kind),
        qr=f"/api/orders/{o.id}/qr.svg",
        customer=a.OrderCustomer(name=d.customer_name) if staff else None)


def _review(r: Review) -> a.Review:
    return a.Review(rating=r.rating, text=r.text, author=r.author, created_at=r.created_at)


def config(demo: bool, shop: str, rules: ShopRules, mini_apps: Iterable[MiniApp], public_url: str,
           payments: Sequence[str], receipt_email: bool, privacy: Json) -> Json:
    return _json(a.Config(
        demo=demo, shop=shop, currency=rules.currency, timezone=rules.timezone,
        channels={m.channel.value: a.ChannelConfig(scheme=m.scheme, **m.public()) for m in mini_apps},
        public_url=public_url, payments=list(payments), receipt_email=receipt_email,
        group=a.GroupRules(min_people=rules.group_min_people, percent=rules.group_percent,  # group orders
                           minutes=rules.group_window_minutes),
        privacy=a.PrivacyConfig.model_validate(privacy)))  # personal data


# personal data
def privacy_config(url: str, version: str, required: bool) -> Json:
    return _json(a.PrivacyConfig(url=url, version=version, required=required))


def _consent(c: Consent | None) -> a.Consent | None:
    return a.Consent(version=c.version, given_at=c.given_at) if c is not None else None


def consent(c: Consent) -> Json:
    return _json(a.Consent(version=c.version, given_at=c.given_at))


def forgotten() -> Json:
    return _json(a.Forgotten(deleted=True))


def me(p: Profile, base_url: str, given: Consent | None = None) -> Json:
    c = p.customer
    return _json(a.Me(
        id=c.id, name=c.name,
        channels=[a.Account(channel=acc.channel.value, id=acc.external_id) for acc in p.accounts],
        points=p.points, language="en" if c.language == "en" else "ru",
        is_staff=p.is_staff, staff_points=sorted(p.staff_points),
        referral_code=c.referral_code, referral_link=f"{base_url}/go/r{c.referral_code}",
        consent=_consent(given)))  # personal data


def packs(found: Iterable[PointsPack]) -> Json:
    return _json(a.Packs(packs=[a.Pack(id=p.id, points=p.points, stars=p.stars) for p in found]))


def pack_invoice(purchase: str, link: str) -> Json:
    return _json(a.PackInvoice(purchase=purchase, invoice_link=link))


def messages(allowed: bool) -> Json:
    return _json(a.Messages(allowed=allowed))


def visit(link: DeepLink) -> Json:
    return _json(a.Visit(kind=link.kind, source=link.label))


def points(found: Iterable[PickupPoint], now: datetime, timezone: str) -> Json:
    zone = ZoneInfo(timezone)
    return _json(a.Points(points=[_point(p, now, zone) for p in found]))


def menu(point_id: str | None, categories: Iterable[Category], items: Iterable[Item],
         stock: Mapping[str, int | None], ratings: Mapping[str, tuple[float, int]]) -> Json:
    """``a.Menu`` as JSON: its fields in order, each item as ``a.Item`` dumps it (``_item_json``)."""
    return {"point": point_id, "categories": [_json(a.Category(id=c.id, name=c.name)) for c in categories],
            "items": [_item_json(i, stock.get(i.id), *ratings.get(i.id, (None, 0))) for i in items]}


@functools.lru_cache(maxsize=4096)
def _item_json(i: Item, left: int | None, average: float | None, count: int) -> Json:
    """A menu item as JSON, kept per item (its value), stock and rating: the menu is built again with each
    change of what it shows (an item's stock most often), and the items that did not change are not
    validated and dumped again (most of a build's time: webapp/menu_cache.py). Read only, never changed."""
    return _json(_item(i, {i.id: left}, {i.id: (average, count)}))  # type: ignore[dict-item]


def reviews(found: Iterable[Review], average: float | None, count: int) -> Json:
    return _json(a.Reviews(reviews=[_review(r) for r in found], average=_rating(average), count=count))


def review(r: Review) -> Json:
    return _json(_review(r))


def quote(q: Quote, balance: int) -> Json:
    return _json(a.Quote(lines=[_line(l) for l in q.lines], subtotal=_money(q.subtotal),
                         discount=_money(q.discount), points=q.points_spent, total=_money(q.total),
                         points_cap=q.points_cap, balance=balance, promo=q.promo_code,
                         birthday=_money(Money(q.birthday, q.total.currency)) if q.birthday else None))


def order(d: OrderDetails, pickup_token: str, *, staff: bool = False) -> Json:
    return _json(_order(d, pickup_token, staff))


def orders(found: Iterable[OrderDetails]) -> Json:
    """Each as its caller may see it: ``OrderDetails`` carries the token and whether the view is staff's."""
    return _json(a.Orders(orders=[_order(d, d.pickup_token, d.staff) for d in found]))


def staff_board(found: Iterable[OrderDetails], next_page: str | None) -> Json:
    return _json(a.StaffBoard(orders=[_order(d, d.pickup_token, d.staff) for d in found], next=next_page))


def pickup_times(times: PickupTimes) -> Json:
    return _json(a.PickupTimes(point=times.point_id, asap=times.asap, opens_at=times.opens_at,
                               slots=list(times.slots)))


def repeat(lines: Sequence[CartLine], skipped: int) -> Json:
    return _json(a.Repeat(
        lines=[a.CartLine(item=l.item_id, quantity=l.quantity,
                          options={group: list(ids) for group, ids in l.options.items()}) for l in lines],
        skipped=skipped))


def link_code(code: LinkCode) -> Json:
    return _json(a.LinkCode(code=code.code, expires_at=code.expires_at))


def error(code: str, message: str, detail: str = "") -> Json:
    return _json(a.Error(error=code, message=message, detail=detail or None))


# group orders
def group(v: GroupView, base_url: str) -> Json:
    g = v.group
    start = group_link(g).raw
    members = [a.GroupMember(name=m.member.name, me=m.member.customer_id == v.caller_id, organiser=m.organiser,
                             lines=[_line(l) for l in m.quote.lines] if m.quote else [],
                             subtotal=_money(m.quote.subtotal) if m.quote else None,
                             discount=_money(m.quote.discount) if m.quote else None,
                             total=_money(m.quote.total) if m.quote else None) for m in v.members]
    return _json(a.Group(
        code=g.code, start=start, link=f"{base_url}/go/{start}", status=g.status.value, reason=g.reason,
        point=a.OrderPoint(id=v.point.id, name=v.point.name, address=v.point.address), pickup_at=g.pickup_at,
        payer=g.payer.value, payment=g.payment, min_people=g.min_people, percent=g.percent, joined=v.joined,
        reached=v.reached, joinable=v.joinable, closes_at=g.closes_at,
        seconds_left=max(0, int((g.closes_at - v.now).total_seconds())) if v.joinable else 0,
        organiser=v.is_organiser, member=bool(v.my_lines), members=members, my_order=v.my_order))
