"""Points beyond earn and spend: tiers by spending, expiry, the history, and the birthday offer.

- **Tiers.** The rule ``tiers`` ("0:5,10000:7,30000:10": rubles paid for picked-up orders in the last 365 days :
  the earn percent) replaces ``earn_percent`` when set. A pickup earns at the tier the customer is in when it
  is handed over (the order's own money counts from the next one); what was paid is added to a per-day
  aggregate at pickup, so reading a tier sums at most 366 small rows.
- **Expiry.** Points expire ``points_expire_days`` after they were credited (0: never), oldest first: every
  debit (a spend, a take-back, an earlier expiry) uses the oldest points left, and what is left of a credit when
  it comes due is written off by an ``expire`` ledger entry. The balance stays the sum of the ledger and cannot
  go below zero, since only what is left is written off.
- **Birthday.** A customer may give a day and month; within ``birthday_days`` of it (before or after), once per
  birthday's year, an order gets ``birthday_percent`` off, priced on the server like any discount.
"""
from __future__ import annotations

import calendar
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .channels import CustomerRef
from .customers import find_or_create
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .model import LedgerEntry, Order, ShopRules
from .money import parse_rubles

if TYPE_CHECKING:
    from .engine import Engine
    from .ports import UnitOfWork

MAX_TIERS = 5
TIER_NAMES = {"ru": ("Базовый", "Серебряный", "Золотой", "Платиновый", "Бриллиантовый"),
              "en": ("Base", "Silver", "Gold", "Platinum", "Diamond")}
SPEND_DAYS = 365
SOON = timedelta(days=7)  # "expiring soon" in the profile
HISTORY_PAGE = 20
EXPIRE_STEP = timedelta(minutes=10)  # the expiry sweep runs every half minute; it writes at most this often
WATERMARK = "loyalty.expired_through"  # credits at or before this time have been settled
WARNED = "loyalty.warned_through"  # credits at or before this time have been warned about
GREETED = "loyalty.greeted_on"  # the last day (shop's clock) birthday greetings were sent


# --- tiers ------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Tier:
    level: int  # 1 = the first
    threshold: int  # minor units paid in the last 365 days
    percent: int


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """``0:5,10000:7,30000:10`` -> tiers; "" or "-" -> none. Raises ValueError saying what is wrong."""
    text = str(text).strip()
    if text in ("", "-"):
        return ()
    tiers: list[Tier] = []
    for n, part in enumerate(text.split(","), 1):
        rubles, sep, percent = part.strip().partition(":")
        try:
            threshold = parse_rubles(rubles.strip())
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not rubles:percent") from None
        if not sep or not percent.strip().isdigit() or not 0 <= int(percent) <= 100:
            raise ValueError(f"{part.strip()!r}: the percent is a whole number from 0 to 100")
        if threshold > 1_000_000_000:
            raise ValueError(f"{part.strip()!r}: at most 10000000 rubles")
        tiers.append(Tier(n, threshold, int(percent)))
    if len(tiers) > MAX_TIERS:
        raise ValueError(f"at most {MAX_TIERS} tiers")
    if tiers[0].threshold != 0:
        raise ValueError("the first tier starts at 0")
    for lower, higher in pairwise(tiers):
        if higher.threshold <= lower.threshold:
            raise ValueError("the thresholds grow from tier to tier")
        if higher.percent < lower.percent:
            raise ValueError("a higher tier earns no less than a lower one")
    return tuple(tiers)


def tiers_of(rules: ShopRules) -> tuple[Tier, ...]:
    """The shop's tiers; without the rule, one tier earning ``earn_percent``. A value stored before it was
    checked (there is none: setup checks it) would fall back the same way rather than stop pickups."""
    try:
        return parse_tiers(rules.tiers) or (Tier(1, 0, rules.earn_percent),)
    except ValueError:
        return (Tier(1, 0, rules.earn_percent),)


def tier_for(tiers: Sequence[Tier], spent: int) -> Tier:
    return [t for t in tiers if t.threshold <= spent][-1]


def tier_name(tier: Tier, language: str) -> str:
    names = TIER_NAMES["en" if language == "en" else "ru"]
    return names[min(tier.level, len(names)) - 1]


def shop_day(at: datetime, rules: ShopRules) -> date:
    return at.astimezone(ZoneInfo(rules.timezone)).date()


def spend_since(today: date) -> date:
    """The first day that still counts: the last 365 days, today included."""
    return today - timedelta(days=SPEND_DAYS - 1)


async def earned_at_pickup(engine: Engine, uow: UnitOfWork, order: Order, now: datetime, rules: ShopRules) -> int:
    """Points the order earns at the customer's tier; then counts its money toward the tier. Called once,
    inside the hand-over."""
    today = shop_day(now, rules)
    tiers = tiers_of(rules)
    # one tier from the first minor unit (no tiers set): the year's spending cannot change it, so it is not read
    spent = 0 if len(tiers) == 1 and tiers[0].threshold <= 0 else await uow.points.spent(
        order.customer_id, spend_since(today))
    tier = tier_for(tiers, spent)
    await uow.points.add_spend(order.customer_id, today, order.total.amount)
    return order.total.amount * tier.percent // 100  # a reward rounds down


# --- expiry -----------------------------------------------------------------------------------------------

def credits_left(entries: Iterable[tuple[int, datetime]]) -> list[tuple[datetime, int]]:
    """What is left of each credit, oldest first, once every debit has used the oldest points left."""
    lots: deque[list] = deque()
    for delta, at in entries:
        if delta > 0:
            lots.append([at, delta])
            continue
        owed = -delta
        while owed and lots:
            used = min(owed, lots[0][1])
            lots[0][1] -= used
            owed -= used
            if not lots[0][1]:
                lots.popleft()
    return [(at, left) for at, left in lots]


def due(entries: Iterable[tuple[int, datetime]], cutoff: datetime) -> int:
    """Points credited at or before ``cutoff`` and still unused: what expires now."""
    return sum(left for at, left in credits_left(entries) if at <= cutoff)


async def expire_points(self: Engine) -> int:
    """Write off what came due since the last run (FIFO, per customer); returns the points written off.

    Only customers credited between the last cutoff and this one are read (an index on the ledger's credits),
    so a run costs what came due since the previous one, not the whole ledger."""
    now = self.now()
    async with self.read() as uow:  # most runs have nothing to do: they take no write lock
        rules = await self.rules(uow)
        stored = await uow.settings.get(WATERMARK)
    if not rules.points_expire_days:
        return 0  # never: the watermark stays where it was, so turning expiry on later catches up
    cutoff = now - timedelta(days=rules.points_expire_days)
    if stored and cutoff < datetime.fromisoformat(stored) + EXPIRE_STEP:
        return 0
    async with self.uow() as uow:
        stored = await uow.settings.get(WATERMARK)  # again, under the write lock: another run may have moved it
        since = datetime.fromisoformat(stored) if stored else None
        if since is not None and cutoff < since + EXPIRE_STEP:
            return 0
        total = 0
        for customer_id in await uow.points.credited_between(since, cutoff):
            amount = due(await uow.points.ledger(customer_id), cutoff)
            if amount > 0:
                await uow.loyalty.add(LedgerEntry(customer_id, -amount, "expire", None, now))
                await self.emit(uow, DomainEvent(EventType.POINTS_EXPIRED, {
                    "customer_id": customer_id, "points": amount}, now))
                total += amount
        await uow.settings.set(WATERMARK, cutoff.isoformat())
    return total


async def warn_expiring(self: Engine) -> int:
    """Tell customers a week ahead which points will expire: each credit once, as it comes within the week
    (the same watermark scheme as ``expire_points``). Returns the points warned about."""
    now = self.now()
    async with self.read() as uow:
        rules = await self.rules(uow)
        stored = await uow.settings.get(WARNED)
    if not rules.points_expire_days:
        return 0
    life = timedelta(days=rules.points_expire_days)
    cutoff = now - life + SOON
    if stored and cutoff < datetime.fromisoformat(stored) + EXPIRE_STEP:
        return 0
    async with self.uow() as uow:
        stored = await uow.settings.get(WARNED)
        since = datetime.fromisoformat(stored) if stored else None
        if since is not None and cutoff < since + EXPIRE_STEP:
            return 0
        total = 0
        for customer_id in await uow.points.credited_between(since, cutoff):
            coming = [(at, left) for at, left in credits_left(await uow.points.ledger(customer_id))
                      if (since is None or at > since) and at <= cutoff]
            amount = sum(left for _, left in coming)
            if amount > 0:
                await self.emit(uow, DomainEvent(EventType.POINTS_EXPIRING, {
                    "customer_id": customer_id, "points": amount,
                    "expires_at": max(coming[0][0] + life, now).isoformat()}, now))
                total += amount
        await uow.settings.set(WARNED, cutoff.isoformat())
    return total


# --- the profile --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PointsMove:
    """One ledger entry as the profile lists it."""

    id: int
    delta: int
    reason: str  # earn, spend, refund, referral, expire, bought, ...
    at: datetime
    order_id: str | None = None
    short_code: str = ""


@dataclass(frozen=True, slots=True)
class PointsSummary:
    balance: int
    tier: Tier
    tier_name: str
    spent: int  # minor units paid in the last 365 days
    next_tier: Tier | None
    next_tier_name: str
    to_next: int  # minor units left to the next tier (0: the top one)
    tiers: tuple[Tier, ...]
    expiring: int  # points that expire within a week
    expiring_at: datetime | None  # when the first of them does
    expire_days: int
    history: list[PointsMove]
    more: int | None  # the id to pass as ``before`` for the next page, None when this page is the last
    birthday: tuple[int, int] | None  # (day, month)
    birthday_percent: int
    birthday_days: int


async def points_summary(self: Engine, ref: CustomerRef, *, before: int | None = None,
                         limit: int = HISTORY_PAGE) -> PointsSummary:
    """Balance, tier and what is left to the next, points expiring soon, and a page of history, newest first."""
    now = self.now()
    limit = max(1, min(limit, 100))
    async with self.read() as uow:
        rules = await self.rules(uow)
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        cid = customer.id if customer else ""
        language = customer.language if customer else ref.language
        tiers = tiers_of(rules)
        spent = await uow.points.spent(cid, spend_since(shop_day(now, rules))) if cid else 0
        tier = tier_for(tiers, spent)
        upper = [t for t in tiers if t.threshold > spent]
        balance = await uow.loyalty.balance(cid) if cid else 0
        expiring, expiring_at = 0, None
        if cid and rules.points_expire_days:
            life = timedelta(days=rules.points_expire_days)
            for at, left in credits_left(await uow.points.ledger(cid)):
                if at + life <= now + SOON:
                    expiring += left
                    expiring_at = expiring_at or max(at + life, now)
        page = await uow.points.history(cid, before, limit + 1) if cid else []
        birthday = await uow.points.birthday(cid) if cid else None
    nxt = upper[0] if upper else None
    return PointsSummary(balance, tier, tier_name(tier, language), spent, nxt,
                         tier_name(nxt, language) if nxt else "", nxt.threshold - spent if nxt else 0, tiers,
                         expiring, expiring_at, rules.points_expire_days, page[:limit],
                         page[limit - 1].id if len(page) > limit else None, birthday, rules.birthday_percent,
                         rules.birthday_days)


async def tier_of(self: Engine, ref: CustomerRef) -> tuple[str, int]:
    """The customer's tier name and earn percent, for the chat's balance answer."""
    summary = await points_summary(self, ref, limit=1)
    return summary.tier_name, summary.tier.percent


# --- birthday -------------------------------------------------------------------------------------------------

def check_birthday(day: int, month: int) -> tuple[int, int]:
    """A day that exists in some year: 29 February is one, 31 April is not."""
    if not (isinstance(day, int) and isinstance(month, int) and 1 <= month <= 12
            and 1 <= day <= calendar.monthrange(2000, month)[1]):  # 2000: a leap year
        raise DomainError(ErrorCode.BIRTHDAY_INVALID, f"{day}.{month}")
    return day, month


def birthday_in(year: int, day: int, month: int) -> date:
    """The birthday in a given year; 29 February is kept on the 28th when the year has none."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        day = 28
    return date(year, month, day)


def birthday_year(today: date, day: int, month: int, window: int) -> int | None:
    """The year of the birthday whose window (``window`` days before to ``window`` after) holds ``today``;
    a window across New Year belongs to the birthday's own year."""
    for year in (today.year - 1, today.year, today.year + 1):
        if abs((today - birthday_in(year, day, month)).days) <= window:
            return year
    return None


async def set_birthday(self: Engine, ref: CustomerRef, day: int | None, month: int | None) -> tuple[int, int] | None:
    """Give (or, with None, withdraw) the birthday: day and month, never the year."""
    wanted = None if day is None and month is None else check_birthday(day or 0, month or 0)
    async with self.uow() as uow:
        customer = await find_or_create(self, uow, ref)
        await uow.points.set_birthday(customer.id, wanted, self.now())
    return wanted


async def birthday_percent(engine: Engine, uow: UnitOfWork, customer_id: str, rules: ShopRules) -> int:
    """The birthday discount an order placed now would get: within the window, the year's first live use."""
    if not customer_id or not rules.birthday_percent:
        return 0
    birthday = await uow.points.birthday(customer_id)
    if birthday is None:
        return 0
    year = birthday_year(shop_day(engine.now(), rules), *birthday, rules.birthday_days)
    if year is None or await uow.points.birthday_used(customer_id, year):
        return 0
    return rules.birthday_percent


async def birthday_used(engine: Engine, uow: UnitOfWork, customer_id: str, order_id: str, rules: ShopRules) -> None:
    """Record the order that took this year's birthday discount (a cancelled one gives it back)."""
    birthday = await uow.points.birthday(customer_id)
    now = engine.now()
    year = birthday_year(shop_day(now, rules), *birthday, rules.birthday_days) if birthday else None
    if year is not None:
        await uow.points.use_birthday(customer_id, year, order_id, now)


async def greet_birthdays(self: Engine) -> int:
    """Once a day (shop's clock): a greeting event for each customer whose birthday it is and who allows the
    shop's messages, at most once per year whatever runs twice. Returns how many were greeted."""
    now = self.now()
    async with self.read() as uow:  # most runs have nothing to do: they take no write lock
        rules = await self.rules(uow)
        today = shop_day(now, rules)
        if not rules.birthday_percent or await uow.settings.get(GREETED) == today.isoformat():
            return 0
    async with self.uow() as uow:
        if await uow.settings.get(GREETED) == today.isoformat():
            return 0
        dates = [(today.day, today.month)]
        if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
            dates.append((29, 2))
        greeted = 0
        for day, month in dates:
            for customer_id in await uow.points.born_on(day, month):
                customer = await uow.customers.get(customer_id)
                if customer is None or not customer.consent:
                    continue
                if await uow.points.greet(customer_id, today.year, now):
                    await self.emit(uow, DomainEvent(EventType.BIRTHDAY_GREETING, {
                        "customer_id": customer_id, "percent": rules.birthday_percent,
                        "days": rules.birthday_days}, now))
                    greeted += 1
        await uow.settings.set(GREETED, today.isoformat())
    return greeted


async def sweep(self: Engine) -> None:
    """What the expiry sweep does for points: write off what came due, warn of what comes due within a week,
    greet today's birthdays."""
    await expire_points(self)
    await warn_expiring(self)
    await greet_birthdays(self)
