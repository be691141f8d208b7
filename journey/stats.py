"""The owner's numbers: the funnel by channel and by source, repeat customers, the average check, the top
items and the orders of each day; and the orders and customers ``vitrina stats --csv`` exports.

A period of ``days`` days is today and the ``days - 1`` days before it in the shop's time zone: from local
midnight then until now. The database adds everything up (``ports.StatsQueries``) in one read snapshot,
so a year of orders is never loaded into Python. What each number means (docs/OWNER.md, "Numbers"):

- visits: recorded visits, someone coming through a QR code, an invitation or a campaign link, counted in
  the channel it was opened in (the QR landing page counts as ``web``);
- orders: placed in the period, in the channel of the account that placed them; picked up: of those, the
  ones handed over; reviewed: of those, the ones with at least one review;
- shares: made in the period, by kind (a Telegram story or inline card, a VK story or wall post, a link),
  and the visits of the period that came by a shared link, by how it was shared (journey/sharing.py);
- repeat rate: of the customers with a picked-up order of the period, those with two or more;
- average check: the mean total of the picked-up orders in the shop's currency, to the kopeck;
- top items: by quantity in the picked-up orders.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .audit import require_owner
from .channels import CustomerRef
from .deeplinks import LinkKind, parse_start
from .errors import DomainError, ErrorCode
from .model import Order
from .money import Money
from .sharing import KIND_OF_VIA, ShareCount, ShareKind, ViaCount  # sharing

if TYPE_CHECKING:
    from .engine import Engine

DEFAULT_DAYS = 7
MAX_DAYS = 365
TOP_ITEMS = 5
EXPORT_PAGE = 500
# every invitation, gift or unreadable link is one person's own: counted together, one row each
POOLED = {LinkKind.REFERRAL.value: "ref", LinkKind.GIFT.value: "gift", LinkKind.UNKNOWN.value: "unknown"}
POOLED[LinkKind.GROUP.value] = "group"  # group orders: every group's j<code> link, and the orders it placed


@dataclass(frozen=True, slots=True)
class Funnel:
    visits: int = 0
    orders: int = 0
    picked_up: int = 0
    reviewed: int = 0

    def __add__(self, other: Funnel) -> Funnel:
        return Funnel(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def steps(self) -> tuple[int, int, int, int]:
        """visits -> orders -> picked up -> reviewed."""
        return self.visits, self.orders, self.picked_up, self.reviewed


def percent(part: int, whole: int) -> int | None:
    """``part`` as a whole percent of ``whole``, rounded half up; None when ``whole`` is nothing."""
    return (200 * part + whole) // (2 * whole) if whole else None


def source_group(label: str) -> str:
    """The row a visit's or an order's source (``DeepLink.label``) is counted in: invitations, gifts and
    unreadable links pooled by kind, a table's QR code with its point's tables (``table:center``), a
    counter's QR code (``qr:center``) and a campaign (``2gis``) as they are; ``""`` for no link at all."""
    kind, _, rest = label.partition(":")
    if kind in POOLED.values():
        return kind
    if kind == "table":
        return f"table:{rest.partition(':')[0]}"
    return label


def visit_source(kind: str, param: str) -> str:
    """The source row of a visit stored as its link's kind and parameter (the storage pools ``POOLED``)."""
    if kind in POOLED:
        return POOLED[kind]
    link = parse_start(param)
    return source_group(link.label) if link is not None else ""


# --- what the storage adds up ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class VisitCount:
    channel: str
    kind: str  # ``LinkKind`` value
    param: str  # the start parameter; "" for the kinds in ``POOLED``
    count: int


@dataclass(frozen=True, slots=True)
class OrderCount:
    """Orders placed in a period from one channel with one source (``source_group`` of its label, the
    ``POOLED`` kinds already pooled), and how far they went."""

    channel: str  # of the account that placed them; "" for an order stored without one
    source: str
    placed: int
    picked_up: int
    reviewed: int
    revenue: int  # minor units: the picked-up orders in the shop's currency
    paid: int  # how many picked-up orders ``revenue`` adds up


@dataclass(frozen=True, slots=True)
class TopItem:
    item_id: str
    name: str  # as the menu names it now, or as it was sold if it is gone
    quantity: int


@dataclass(frozen=True, slots=True)
class CustomerTotal:
    """One customer for the export: picked-up orders and what they came to, in the shop's currency."""

    id: str
    first_seen: datetime
    source: str
    channels: tuple[str, ...]
    orders: int
    spent: int  # minor units


# --- the answer ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    orders: int


@dataclass(frozen=True, slots=True)
class Stats:
    days: int
    first_day: date
    last_day: date
    total: Funnel
    by_channel: tuple[tuple[str, Funnel], ...]  # most visits and orders first
    by_source: tuple[tuple[str, Funnel], ...]  # ``source_group`` rows, most visits and orders first
    customers: int  # with at least one picked-up order
    repeat_customers: int  # with two or more
    revenue: Money  # of the picked-up orders
    average_check: Money | None  # None: nothing was picked up
    top_items: tuple[TopItem, ...]
    per_day: tuple[DayCount, ...]  # orders placed each day, oldest first
    # sharing (journey/sharing.py): shares made by kind, and the visits shared links brought by their tag
    shares: tuple[tuple[str, int], ...] = ()  # ``ShareKind`` value, count; in ``ShareKind`` order
    share_visits: tuple[tuple[str, int], ...] = ()  # ``ShareKind`` value of the tag, visits

    @property
    def repeat_rate(self) -> int | None:
        return percent(self.repeat_customers, self.customers)

    @property
    def empty(self) -> bool:
        return not (self.total.visits or self.total.orders)


@dataclass(frozen=True, slots=True)
class StatsChart:
    """What the stats picture shows, its words in the owner's language; a ``ports.ChartRenderer`` draws it."""

    title: str
    steps: tuple[str, ...]  # the funnel's steps, in order: the legend
    groups: tuple[tuple[str, tuple[int, ...]], ...]  # a channel's name and its count at each step
    daily_title: str
    days: tuple[str, ...]  # each day's label, "18.11"
    daily: tuple[int, ...]  # orders placed that day


def period(now: datetime, zone: ZoneInfo, days: int) -> list[datetime]:
    """The start of each of the last ``days`` local days (UTC), then tomorrow's: ``days + 1`` bounds, so what
    happened this very moment is counted."""
    today = now.astimezone(zone).date()
    return [datetime.combine(today - timedelta(days=n), time(), zone).astimezone(UTC)
            for n in range(days - 1, -2, -1)]


def _ranked(rows: dict[str, Funnel]) -> tuple[tuple[str, Funnel], ...]:
    return tuple(sorted(rows.items(), key=lambda kv: (-kv[1].visits - kv[1].orders, kv[0])))


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise DomainError(ErrorCode.BAD_INPUT, f"days is a whole number from 1 to {MAX_DAYS}, got {days!r}")


# --- use cases ----------------------------------------------------------------------------------------

async def stats(self: Engine, actor: CustomerRef, days: int = DEFAULT_DAYS) -> Stats:
    """The numbers of the last ``days`` days (owners only), from one read snapshot."""
    require_owner(self, actor)
    _check_days(days)
    async with self.read() as uow:
        rules = await self.rules(uow)
        bounds = period(self.now(), ZoneInfo(rules.timezone), days)
        since, until = bounds[0], bounds[-1]
        visits = await uow.stats.visits(since, until)
        orders = await uow.stats.orders(since, until, rules.currency)
        customers, repeat = await uow.stats.repeat_customers(since, until)
        top = await uow.stats.top_items(since, until, TOP_ITEMS)
        daily = await uow.stats.orders_per_day(bounds)
        shared = await uow.sharing.shares(since, until)  # sharing
        shared_visits = await uow.sharing.visits_by_via(since, until)
    by_channel: dict[str, Funnel] = {}
    by_source: dict[str, Funnel] = {}
    for v in visits:
        row = Funnel(visits=v.count)
        _add(by_channel, v.channel, row)
        _add(by_source, visit_source(v.kind, v.param), row)
    revenue = paid = 0
    for o in orders:
        row = Funnel(0, o.placed, o.picked_up, o.reviewed)
        _add(by_channel, o.channel, row)
        _add(by_source, source_group(o.source), row)
        revenue, paid = revenue + o.revenue, paid + o.paid
    total = sum(by_channel.values(), Funnel())
    zone = ZoneInfo(rules.timezone)
    first, last = bounds[0].astimezone(zone).date(), self.now().astimezone(zone).date()
    check = Money((2 * revenue + paid) // (2 * paid), rules.currency) if paid else None
    return Stats(days, first, last, total, _ranked(by_channel), _ranked(by_source), customers, repeat,
                 Money(revenue, rules.currency), check, tuple(top),
                 tuple(DayCount(first + timedelta(days=i), n) for i, n in enumerate(daily)),
                 *_sharing(shared, shared_visits))


def _sharing(shares: list[ShareCount], visits: list[ViaCount]) -> tuple[tuple[tuple[str, int], ...], ...]:
    """Shares and the visits they brought, by kind, in ``ShareKind`` order; kinds with neither left out."""
    made = {s.kind: s.count for s in shares}
    came = {KIND_OF_VIA[v.via].value: v.count for v in visits if v.via in KIND_OF_VIA}
    kinds = [k.value for k in ShareKind]
    return (tuple((k, made[k]) for k in kinds if k in made), tuple((k, came[k]) for k in kinds if k in came))


def _add(rows: dict[str, Funnel], key: str, row: Funnel) -> None:
    rows[key] = rows.get(key, Funnel()) + row


async def export_orders(self: Engine, actor: CustomerRef, days: int | None = None) -> AsyncIterator[Order]:
    """Every order, oldest first, or those placed in the last ``days`` days (owners only); read a page at a
    time, each page its own snapshot, so a long export holds nothing up."""
    require_owner(self, actor)
    since: datetime | None = None
    if days is not None:
        _check_days(days)
        async with self.read() as uow:
            zone = ZoneInfo((await self.rules(uow)).timezone)
        since = period(self.now(), zone, days)[0]
    after: tuple[datetime, str] | None = None
    while True:
        async with self.read() as uow:
            page = await uow.stats.orders_page(since, after, EXPORT_PAGE)
        for order in page:
            yield order
        if len(page) < EXPORT_PAGE:
            return
        after = (page[-1].created_at, page[-1].id)


async def export_customers(self: Engine, actor: CustomerRef) -> AsyncIterator[CustomerTotal]:
    """Every customer (accounts merged into another count as that one), first seen first, with their
    picked-up orders and what they came to (owners only)."""
    require_owner(self, actor)
    after: tuple[datetime, str] | None = None
    while True:
        async with self.read() as uow:
            currency = (await self.rules(uow)).currency
            page = await uow.stats.customers_page(after, EXPORT_PAGE, currency)
        for customer in page:
            yield customer
        if len(page) < EXPORT_PAGE:
            return
        after = (page[-1].first_seen, page[-1].id)


def channel_of(order: Order) -> str:
    """The channel the order was placed in (``telegram`` of ``telegram:123``), "" when it was not stored."""
    channel, sep, _ = order.account.partition(":")
    return channel if sep else ""

