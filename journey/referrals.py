"""Referrals: a friend who came by a customer's link, rewarded once, on their first pickup.

Attribution happens wherever the customer is identified (``customers.find_or_create``), at creation and
later too while the customer is still new (no inviter yet, never invited before, no order placed), so a
link seen after the Mini App's first ``GET /api/me`` still counts. The invitee is the key: one invitation
per person. Linking two accounts (one person) voids an invitation between them and takes back what it
paid, as far as the balance allows.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .channels import Channel, CustomerRef
from .deeplinks import DeepLink, LinkKind
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .ids import new_id
from .model import Customer, LedgerEntry, Order, ShopRules
from .notices import Recipient
from .states import OrderStatus

if TYPE_CHECKING:
    from .engine import Engine
    from .ports import UnitOfWork


class ReferralStatus(str, Enum):
    PENDING = "pending"  # the friend came; their first pickup is ahead
    REWARDED = "rewarded"  # both got the bonus
    CAPPED = "capped"  # the friend got the bonus; the inviter had reached the month's cap
    VOID = "void"  # not a new person after all: the same person as the inviter, invited twice, not a first pickup


REFERRAL_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.PENDING: frozenset({ReferralStatus.REWARDED, ReferralStatus.CAPPED, ReferralStatus.VOID}),
    ReferralStatus.REWARDED: frozenset({ReferralStatus.VOID}),
    ReferralStatus.CAPPED: frozenset({ReferralStatus.VOID}),
    ReferralStatus.VOID: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Referral:
    id: str
    invitee_id: str
    referrer_id: str
    code: str
    status: ReferralStatus
    created_at: datetime
    updated_at: datetime
    order_id: str | None = None  # the friend's first picked-up order, which paid the reward
    invitee_points: int = 0  # what the friend got
    referrer_points: int = 0  # what the inviter got (0 when capped)
    rewarded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Friend:
    name: str  # the first name only
    joined_at: datetime
    status: ReferralStatus
    points: int  # what the inviter got for this friend


@dataclass(frozen=True, slots=True)
class ReferralSummary:
    code: str
    bonus: int
    monthly_cap: int  # 0: no cap
    left_this_month: int | None  # None: no cap
    friends: list[Friend]
    invited: int  # friends not voided
    rewarded: int  # friends who brought the inviter points
    points: int  # points the inviter got for friends
    invitation: ReferralStatus | None = None  # how the customer's own invitation by a friend stands


def _change(referral: Referral, status: ReferralStatus, now: datetime, **fields: object) -> Referral:
    if status not in REFERRAL_TRANSITIONS[referral.status]:
        raise DomainError(ErrorCode.INVALID_TRANSITION, f"referral {referral.status.value} -> {status.value}")
    return replace(referral, status=status, updated_at=now, **fields)  # type: ignore[arg-type]


def _live(found: list[Referral]) -> Referral | None:
    return next((r for r in found if r.status is not ReferralStatus.VOID), None)


async def _inviter(uow: UnitOfWork, customer: Customer, link: DeepLink | None) -> Customer | None:
    """Who invited ``customer`` by ``link``, if the invitation counts (read-only)."""
    if link is None or link.kind is not LinkKind.REFERRAL or not link.code or customer.referred_by:
        return None
    if link.code == customer.referral_code or await uow.referrals.for_invitee(customer.id):
        return None
    referrer = await uow.customers.by_referral_code(link.code)
    if referrer is None or referrer.id == customer.id:
        return None
    theirs = _live(await uow.referrals.for_invitee(referrer.id))
    if theirs is not None and theirs.referrer_id == customer.id:  # two people inviting each other
        return None
    if await uow.orders.for_customer(customer.id, limit=1):
        return None
    return referrer


async def may_attribute(uow: UnitOfWork, customer: Customer, link: DeepLink | None) -> bool:
    """Whether ``attribute`` would record anything: read-only, so the write lock is taken only then."""
    return await _inviter(uow, customer, link) is not None


async def attribute(engine: Engine, uow: UnitOfWork, customer: Customer, link: DeepLink | None) -> Referral | None:
    """Record that ``customer`` came by a friend's link, if they are new and the friend is someone else.

    New: no inviter yet, never invited before (a voided invitation counts), no order ever placed. The
    customer's own code, or one of an account linked to them (the same customer), is never accepted, nor
    the code of someone they invited themselves."""
    referrer = await _inviter(uow, customer, link)
    if referrer is None or link is None or link.code is None:
        return None
    now = engine.now()
    referral = Referral(new_id("ref"), customer.id, referrer.id, link.code, ReferralStatus.PENDING, now, now)
    await uow.referrals.add(referral)
    await uow.customers.update(replace(customer, referred_by=referrer.id))
    await engine.emit(uow, DomainEvent(EventType.REFERRAL_JOINED, {
        "referral_id": referral.id, "customer_id": referrer.id, "invitee_id": customer.id,
        "invitee_name": first_name(customer.name), "code": link.code}, now))
    return referral


def first_name(name: str) -> str:
    return (name or "").strip().split(" ")[0][:32]


def month_start(now: datetime, timezone: str) -> datetime:
    """The first moment of this calendar month in the shop's time zone."""
    try:
        zone = ZoneInfo(timezone)
    except Exception:  # a zone the system does not know: the shop's month in UTC
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def reward(engine: Engine, uow: UnitOfWork, order: Order, now: datetime, rules: ShopRules) -> None:
    """The friend's first order is picked up: both get the bonus, the inviter only within the month's cap."""
    referral = _live(await uow.referrals.for_invitee(order.customer_id))
    if referral is None or referral.status is not ReferralStatus.PENDING or not rules.referral_bonus:
        return
    if await uow.orders.count_for_customer(order.customer_id, OrderStatus.PICKED_UP) != 1:
        # an account with earlier pickups was linked in: this person is not new
        await _void(engine, uow, referral, now, "not_first", 0)
        return
    cap = rules.referral_monthly_cap
    capped = bool(cap) and await uow.referrals.rewarded_since(
        referral.referrer_id, month_start(now, rules.timezone)) >= cap
    bonus = rules.referral_bonus
    status = ReferralStatus.CAPPED if capped else ReferralStatus.REWARDED
    referral = _change(referral, status, now, order_id=order.id, invitee_points=bonus,
                       referrer_points=0 if capped else bonus, rewarded_at=now)
    await uow.referrals.update(referral)
    await uow.loyalty.add(LedgerEntry(referral.invitee_id, bonus, "referral", order.id, now))
    if not capped:
        await uow.loyalty.add(LedgerEntry(referral.referrer_id, bonus, "referral", order.id, now))
    invitee = await uow.customers.get(referral.invitee_id)
    await engine.emit(uow, DomainEvent(EventType.REFERRAL_REWARDED, {
        "referral_id": referral.id, "customer_id": referral.referrer_id, "invitee_id": referral.invitee_id,
        "account": order.account,  # the friend is told where they ordered from
        "invitee_name": first_name(invitee.name if invitee else ""), "order_id": order.id,
        "status": status.value, "invitee_points": bonus, "referrer_points": referral.referrer_points,
        "monthly_cap": cap}, now))


async def _void(engine: Engine, uow: UnitOfWork, referral: Referral, now: datetime, reason: str,
                taken: int) -> Referral:
    referral = _change(referral, ReferralStatus.VOID, now)
    await uow.referrals.update(referral)
    await engine.emit(uow, DomainEvent(EventType.REFERRAL_VOIDED, {
        "referral_id": referral.id, "customer_id": referral.referrer_id, "invitee_id": referral.invitee_id,
        "reason": reason, "points_taken": taken}, now))
    return referral


async def merged(engine: Engine, uow: UnitOfWork, source_id: str, target_id: str) -> None:
    """Two customers became one (``source_id`` into ``target_id``): an invitation between them is void and
    what it paid is taken back; a person invited on both accounts keeps the earlier invitation (the later
    one's bonus to them is taken back too). The balance never goes below zero."""
    now = engine.now()
    found = await uow.referrals.for_invitee(source_id) + await uow.referrals.for_invitee(target_id)
    live = sorted((r for r in found if r.status is not ReferralStatus.VOID), key=lambda r: r.created_at)
    owed: list[tuple[Referral, str, int]] = []
    kept: Referral | None = None
    for r in live:
        if {r.invitee_id, r.referrer_id} == {source_id, target_id}:
            owed.append((r, "self", r.invitee_points + r.referrer_points))
        elif kept is None:
            kept = r
        else:
            owed.append((r, "twice", r.invitee_points))
    balance = await uow.loyalty.balance(target_id)  # the ledgers are one already
    for r, reason, paid in owed:
        taken = min(paid, max(balance, 0))
        balance -= taken
        if taken:
            await uow.loyalty.add(LedgerEntry(target_id, -taken, "referral_void", r.order_id, now))
        await _void(engine, uow, replace(r, invitee_id=target_id, referrer_id=(
            target_id if r.referrer_id == source_id else r.referrer_id)), now, reason, taken)
    await uow.referrals.reassign(source_id, target_id)  # after voiding: one live invitation per person
    target = await uow.customers.get(target_id)
    if target is not None:
        referred_by = kept.referrer_id if kept is not None else None
        if referred_by == source_id:
            referred_by = None
        if target.referred_by != referred_by:
            await uow.customers.update(replace(target, referred_by=referred_by))


async def referral_summary(self: Engine, ref: CustomerRef) -> ReferralSummary:
    """The inviter's view: their code, the bonus, the cap and what is left of it, their friends."""
    customer = (await self.profile(ref)).customer
    async with self.read() as uow:
        rules = await self.rules(uow)
        mine = await uow.referrals.of_referrer(customer.id)
        used = await uow.referrals.rewarded_since(customer.id, month_start(self.now(), rules.timezone))
        own = _live(await uow.referrals.for_invitee(customer.id))
        friends = []
        for r in mine:
            friend = await uow.customers.get(r.invitee_id)
            friends.append(Friend(first_name(friend.name if friend else ""), r.created_at, r.status,
                                  r.referrer_points))
    cap = rules.referral_monthly_cap
    counted = [f for f in friends if f.status is not ReferralStatus.VOID]
    return ReferralSummary(customer.referral_code, rules.referral_bonus, cap,
                           max(cap - used, 0) if cap else None, friends, len(counted),
                           sum(1 for f in counted if f.points), sum(f.points for f in counted),
                           own.status if own is not None else None)


async def recipient_of(self: Engine, customer_id: str, account: str = "") -> Recipient | None:
    """Where to tell a customer about their invitations: ``account`` when given, else one of their chat
    accounts (Telegram first); None when they turned unsolicited messages off or have no chat account."""
    async with self.read() as uow:
        customer = await uow.customers.get(customer_id)
        accounts = await uow.customers.accounts(customer_id) if customer is not None else []
    if customer is None or not customer.consent:
        return None
    try:
        given = CustomerRef.parse(account) if account else None
    except ValueError:
        given = None
    if given is not None and given.channel != Channel.WEB:  # a browser has no chat to write to
        return Recipient(given, customer.language)
    chats = sorted((a for a in accounts if a.channel != Channel.WEB), key=lambda a: a.channel != Channel.TELEGRAM)
    if not chats:
        return None
    return Recipient(CustomerRef(chats[0].channel, chats[0].external_id, chats[0].name), customer.language)
