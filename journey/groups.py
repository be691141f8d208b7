"""Group orders: "get your friends". The data and the state machine: ``group_model``.

An organiser opens a group from the cart for one pickup point and time and says who pays: the organiser
(one order with everyone's lines, paid with any method) or each member (one order each, paid at the
counter). Friends who open the ``j<code>`` link add their lines (ids and quantities; joining again replaces
them) while the group is open and its window lasts. Closing (the organiser, or the window's end through
``close_due_groups``) counts the members with lines once, in the unit of work that closes it: the group's
percent applies to every line when they are at least the goal fixed at opening, never otherwise. The
orders are then placed through ``ordering.place_order`` like any other (prices, stock, limits, payment),
each with a request id made of the group's, so a close repeated after a crash places nothing twice.

Counting is exact under concurrency because every join reads the members and writes its own row in one
unit of work, and units of work that write are serialized; a join after the close (or the window) is
refused with ``group_closed``.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import ordering, pricing, privacy
from .catalog import PickupPoint
from .channels import CustomerRef
from .customers import find_or_create
from .deeplinks import DeepLink, LinkKind
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .group_model import Group, GroupMember, GroupStatus, Payer, ensure_group_transition
from .ids import new_id
from .model import CartLine, Quote
from .ordering import _pickup_time, _point
from .payments import COUNTER, check_method

if TYPE_CHECKING:
    from .engine import Engine
    from .ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class MemberView:
    member: GroupMember
    quote: Quote | None  # None: a line no longer on the menu (said at close, when the order is placed)
    organiser: bool


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group as one caller sees it: everyone's first name and lines, priced with the discount when the
    goal is reached, and the caller's own order once it is placed."""

    group: Group
    point: PickupPoint
    members: tuple[MemberView, ...]
    caller_id: str | None
    now: datetime

    @property
    def joined(self) -> int:
        return len(self.members)

    @property
    def reached(self) -> bool:
        return self.group.discounted if self.group.status is not GroupStatus.OPEN else \
            self.joined >= self.group.min_people

    @property
    def joinable(self) -> bool:
        return self.group.status is GroupStatus.OPEN and self.now < self.group.closes_at

    @property
    def is_organiser(self) -> bool:
        return self.caller_id == self.group.organiser_id

    @property
    def my_order(self) -> str | None:
        if self.group.payer is Payer.ORGANISER:
            return self.group.order_id if self.is_organiser else None
        return next((m.member.order_id for m in self.members if m.member.customer_id == self.caller_id), None)

    @property
    def my_lines(self) -> tuple[CartLine, ...]:
        return next((m.member.lines for m in self.members if m.member.customer_id == self.caller_id), ())


def link(group: Group) -> DeepLink:
    return DeepLink(f"j{group.code}", LinkKind.GROUP, code=group.code)


def _event(kind: EventType, group: Group, at: datetime, **extra: object) -> DomainEvent:
    return DomainEvent(kind, {"group_id": group.id, "code": group.code, "organiser_id": group.organiser_id,
                              "account": group.organiser.key, "point_id": group.point_id,
                              "payer": group.payer.value, "percent": group.percent,
                              "min_people": group.min_people, **extra}, at)


async def _group(uow: UnitOfWork, code: str) -> Group:
    group = await uow.groups.by_code(code) if code else None
    if group is None:
        raise DomainError(ErrorCode.GROUP_NOT_FOUND)
    return group


async def _check_lines(engine: Engine, uow: UnitOfWork, cart: Sequence[CartLine]) -> None:
    """Refuse what could never be ordered (unknown items, bad options or quantities, an empty cart)."""
    items = await uow.catalog.items_by_id(line.item_id for line in cart)
    pricing.quote(items, cart, await engine.rules(uow))


async def _view(engine: Engine, uow: UnitOfWork, group: Group, caller_id: str | None) -> GroupView:
    members = await uow.groups.members(group.id)
    rules = await engine.rules(uow)
    items = await uow.catalog.items_by_id({line.item_id for m in members for line in m.lines})
    reached = group.discounted if group.status is not GroupStatus.OPEN else len(members) >= group.min_people
    percent = group.percent if reached else 0
    views = []
    for m in members:
        try:
            q: Quote | None = pricing.quote(items, m.lines, rules, group_percent=percent)
        except DomainError:
            q = None
        views.append(MemberView(m, q, m.customer_id == group.organiser_id))
    return GroupView(group, await _point(uow, group.point_id), tuple(views), caller_id, engine.now())


def _named(ref: CustomerRef, name: str) -> CustomerRef:
    """The account as members will see it: VK's launch data carries no name, the customer may have one."""
    return ref if ref.name else replace(ref, name=name)


async def _caller_id(uow: UnitOfWork, ref: CustomerRef) -> str | None:
    customer = await uow.customers.by_account(ref.channel, ref.external_id)
    return customer.id if customer else None


async def open_group(self: Engine, ref: CustomerRef, cart: Sequence[CartLine], point_id: str, *,
                     payer: str = "organiser", payment: str = COUNTER, pickup_at: datetime | None = None,
                     email: str = "", return_url: str = "") -> GroupView:
    """Open a group for one pickup; the organiser's own lines (may be none) join it at once."""
    try:
        who_pays = Payer(payer)
    except ValueError:
        raise DomainError(ErrorCode.BAD_INPUT, f"payer: {payer!r}") from None
    if who_pays is Payer.EACH:
        payment = COUNTER  # each member pays their own order at the counter
    provider = check_method(self, ref, payment)
    if provider.needs_email and not email:
        raise DomainError(ErrorCode.EMAIL_REQUIRED)
    await privacy.require_consent(self, ref)  # personal data: the orders it places are the organiser's
    now = self.now()
    async with self.uow() as uow:
        customer = await find_or_create(self, uow, ref)
        point = await _point(uow, point_id)
        rules = await self.rules(uow)
        if pickup_at is not None:
            _pickup_time(point, rules, now, pickup_at)  # a time the point can serve
        if cart:
            await _check_lines(self, uow, cart)
        group = Group(new_id("grp"), secrets.token_urlsafe(9), customer.id, ref, point.id, pickup_at, who_pays,
                      provider.name, rules.group_min_people, rules.group_percent, GroupStatus.OPEN, now,
                      now + timedelta(minutes=rules.group_window_minutes), email=email, return_url=return_url)
        await uow.groups.add(group)
        await self.emit(uow, _event(EventType.GROUP_OPENED, group, now, closes_at=group.closes_at.isoformat()))
        if cart:
            await _save_lines(self, uow, group, customer.id, _named(ref, customer.name), cart, now)
        return await _view(self, uow, group, customer.id)


async def group_view(self: Engine, ref: CustomerRef, code: str) -> GroupView:
    """Anyone with the link may look: it is how a friend decides to join."""
    async with self.read() as uow:
        group = await _group(uow, code)
        return await _view(self, uow, group, await _caller_id(uow, ref))


async def _save_lines(engine: Engine, uow: UnitOfWork, group: Group, customer_id: str, ref: CustomerRef,
                      cart: Sequence[CartLine], now: datetime) -> None:
    members = await uow.groups.members(group.id)
    mine = next((m for m in members if m.customer_id == customer_id), None)
    if group.payer is Payer.ORGANISER:  # everyone's lines make one order: it must stay an order one may place
        others = sum(len(m.lines) for m in members if m is not mine)
        if others + len(cart) > pricing.MAX_LINES:
            raise DomainError(ErrorCode.BAD_QUANTITY, "too many lines for one order")
    await uow.groups.save_member(GroupMember(group.id, customer_id, ref, tuple(cart),
                                             mine.joined_at if mine else now))
    before, after = len(members), len(members) + (0 if mine else 1)
    await engine.emit(uow, _event(EventType.GROUP_JOINED, group, now, customer_id=customer_id, member=ref.key,
                                  name=ref.name, members=after, replaced=mine is not None))
    if before < group.min_people <= after:
        await engine.emit(uow, _event(EventType.GROUP_REACHED, group, now, members=after))


async def join_group(self: Engine, ref: CustomerRef, code: str, cart: Sequence[CartLine]) -> GroupView:
    """Add the caller's lines to an open group, or replace the lines they added before."""
    await privacy.require_consent(self, ref)  # personal data: an order is placed for them when it closes
    async with self.uow() as uow:
        group = await _group(uow, code)
        now = self.now()
        if group.status is not GroupStatus.OPEN or now >= group.closes_at:
            raise DomainError(ErrorCode.GROUP_CLOSED)
        await _check_lines(self, uow, cart)
        customer = await find_or_create(self, uow, ref)
        await _save_lines(self, uow, group, customer.id, _named(ref, customer.name), cart, now)
        return await _view(self, uow, group, customer.id)


async def _organiser(uow: UnitOfWork, ref: CustomerRef, code: str) -> Group:
    group = await _group(uow, code)
    if await _caller_id(uow, ref) != group.organiser_id:
        raise DomainError(ErrorCode.GROUP_NOT_ORGANISER)
    return group


async def cancel_group(self: Engine, ref: CustomerRef, code: str) -> GroupView:
    """The organiser calls it off while it is open: nothing is ordered, everyone is told."""
    async with self.uow() as uow:
        group = await _organiser(uow, ref, code)
        await _end(self, uow, group, GroupStatus.CANCELLED, "organiser")
        return await _view(self, uow, group, group.organiser_id)


async def _end(engine: Engine, uow: UnitOfWork, group: Group, status: GroupStatus, reason: str) -> None:
    ensure_group_transition(group.status, status)
    now = engine.now()
    members = await uow.groups.members(group.id)
    group.status, group.closed_at, group.reason = status, now, reason
    await uow.groups.update(group)
    kind = EventType.GROUP_EXPIRED if status is GroupStatus.EXPIRED else EventType.GROUP_CANCELLED
    await engine.emit(uow, _event(kind, group, now, reason=reason, members=[
        {"customer_id": m.customer_id, "account": m.account.key} for m in members]))


async def close_group(self: Engine, ref: CustomerRef, code: str) -> GroupView:
    """The organiser closes the group (before or after its window): the count decides the discount and
    the orders are placed. A group nobody added lines to is refused (``group_empty``) and stays open."""
    async with self.uow() as uow:
        group = await _organiser(uow, ref, code)
        if group.status is GroupStatus.OPEN and not await uow.groups.members(group.id):
            raise DomainError(ErrorCode.GROUP_EMPTY)
    await _finish(self, group.id)
    async with self.read() as uow:
        group = await _group(uow, code)
        return await _view(self, uow, group, group.organiser_id)


async def close_due_groups(self: Engine) -> list[str]:
    """Groups whose window has ended are closed as their organiser would (one nobody added lines to
    expires), and groups left closed by a crash get their orders: called by the expiry loop."""
    async with self.read() as uow:
        due = await uow.groups.due(self.now())
    done = []
    for group_id in due:
        try:
            await _finish(self, group_id)
        except DomainError:
            continue  # someone else changed it meanwhile: the next round sees what it became
        done.append(group_id)
    return done


async def _finish(engine: Engine, group_id: str) -> None:
    """Close (counting once), place the orders outside that unit of work (an online payment talks to its
    provider between units of work), then record them: ordered, or cancelled when none could be placed."""
    async with engine.uow() as uow:
        group = await uow.groups.get(group_id)
        if group is None:
            raise DomainError(ErrorCode.GROUP_NOT_FOUND)
        members = await uow.groups.members(group.id)
        if group.status is GroupStatus.OPEN:
            if not members:
                await _end(engine, uow, group, GroupStatus.EXPIRED, "empty")
                return
            ensure_group_transition(group.status, GroupStatus.CLOSED)
            now = engine.now()
            group.status, group.closed_at = GroupStatus.CLOSED, now
            group.discounted = group.percent > 0 and len(members) >= group.min_people
            await uow.groups.update(group)
            await engine.emit(uow, _event(EventType.GROUP_CLOSED, group, now, members=len(members),
                                          discounted=group.discounted))
        elif group.status is not GroupStatus.CLOSED:
            raise DomainError(ErrorCode.GROUP_CLOSED)
        rules = await engine.rules(uow)
        point = await _point(uow, group.point_id)
    # the agreed time, or as soon as possible when the group closed too late for it: one time for everyone
    now = engine.now()
    when = group.pickup_at
    if when is not None:
        try:
            _pickup_time(point, rules, now, when)
        except DomainError:
            when = None
    if when is None:
        try:
            when = _pickup_time(point, rules, now, None)
        except DomainError:
            when = None  # the point is closed now: placing says so, and the group is cancelled
    percent = group.percent if group.discounted else 0
    source = link(group).label
    placed: list[tuple[GroupMember | None, str, str]] = []  # (member or None for the organiser's, order, code)
    pickup: datetime | None = None  # when the orders are to be ready (the same point and time for everyone)
    refused: list[tuple[str, str, str]] = []  # (customer id, account, error code)
    if group.payer is Payer.ORGANISER:
        lines = [line for m in members for line in m.lines]
        try:
            # the group's own orders, placed as it closes: the members' joins were limited (journey/limits.py)
            view = await ordering.place_order(
                engine, group.organiser, lines, group.point_id, pickup_at=when, provider=group.payment,
                source=source, request_id=f"group-{group.id}", return_url=group.return_url, email=group.email,
                group_percent=percent, consented=True)  # consent: asked when they opened and joined
            placed.append((None, view.order.id, view.order.short_code))
            pickup = view.order.pickup_at
        except DomainError as e:
            refused.append((group.organiser_id, group.organiser.key, e.code.value))
    else:
        for m in members:
            try:
                view = await ordering.place_order(engine, m.account, m.lines, group.point_id, pickup_at=when,
                                                  source=source, request_id=f"group-{group.id}", group_percent=percent,
                                                  consented=True)
                placed.append((m, view.order.id, view.order.short_code))
                pickup = pickup or view.order.pickup_at
            except DomainError as e:
                refused.append((m.customer_id, m.account.key, e.code.value))
    async with engine.uow() as uow:
        group = await uow.groups.get(group_id) or group
        if group.status is not GroupStatus.CLOSED:
            return  # finished meanwhile by another close of the same group
        if not placed:
            await _end(engine, uow, group, GroupStatus.CANCELLED, refused[0][2] if refused else "empty")
            return
        for member, order_id, _ in placed:
            if member is None:
                group.order_id = order_id
            else:
                await uow.groups.set_member_order(group.id, member.customer_id, order_id)
        ensure_group_transition(group.status, GroupStatus.ORDERED)
        group.status, group.pickup_at = GroupStatus.ORDERED, pickup or group.pickup_at
        await uow.groups.update(group)
        told: list[dict[str, str | None]] = [
            {"customer_id": m.customer_id if m else group.organiser_id,
             "account": m.account.key if m else group.organiser.key, "order_id": o, "short_code": c}
            for m, o, c in placed]
        if group.payer is Payer.ORGANISER:  # the friends hear that the organiser's order carries their lines
            told += [{"customer_id": m.customer_id, "account": m.account.key, "order_id": None, "short_code": c}
                     for m in members if m.customer_id != group.organiser_id for _, _, c in placed]
        await engine.emit(uow, _event(EventType.GROUP_ORDERED, group, engine.now(), discounted=group.discounted,
                                      members=len(members), told=told, pickup_at=pickup.isoformat() if pickup else None,
                                      refused=[{"customer_id": c, "account": a, "error": e} for c, a, e in refused]))
