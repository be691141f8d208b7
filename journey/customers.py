"""Customers: one person across channels, first-touch source, language, consent, account linking."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from . import delivery, privacy, referrals
from .channels import Channel, CustomerRef, UpdateBusy
from .deeplinks import DeepLink, LinkKind
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .ids import new_id
from .model import Account, Customer, LinkCode, Visit
from .ports import UnitOfWork

if TYPE_CHECKING:
    from .engine import Engine

LINK_CODE_TTL = timedelta(minutes=10)
LINK_MAX_FAILURES = 5  # wrong codes per account within LINK_CODE_TTL: guessing one of a million takes ages
LANGUAGES = ("ru", "en")


def language_of(code: str | None) -> str:
    """Russian by default, English when the user's language is English."""
    return "en" if (code or "").lower().startswith("en") else "ru"


@dataclass(frozen=True, slots=True)
class Profile:
    customer: Customer
    accounts: list[Account]
    points: int
    is_staff: bool
    staff_points: frozenset[str]


async def find_or_create(engine: Engine, uow: UnitOfWork, ref: CustomerRef, link: DeepLink | None = None) -> Customer:
    """The customer behind an account, created on first contact with its first-touch source; a friend's
    referral link is recorded with it, or later while the customer is still new (journey/referrals.py)."""
    customer = await uow.customers.by_account(ref.channel, ref.external_id)
    if customer is not None:
        if link is not None and link.kind is LinkKind.REFERRAL:
            referral = await referrals.attribute(engine, uow, customer, link)
            if referral is not None:
                customer = replace(customer, referred_by=referral.referrer_id)
        return customer
    now = engine.now()
    customer = Customer(new_id("c"), ref.name, language_of(ref.language), link.label if link else "",
                        True, secrets.token_urlsafe(6).replace("-", "x").replace("_", "y"), None, now)
    await uow.customers.add(customer)
    await uow.customers.add_account(Account(ref.channel, ref.external_id, customer.id, ref.name))
    await engine.emit(uow, DomainEvent(EventType.CUSTOMER_CREATED, {
        "customer_id": customer.id, "channel": ref.channel.value, "source": customer.source}, now))
    referral = await referrals.attribute(engine, uow, customer, link)
    return replace(customer, referred_by=referral.referrer_id) if referral is not None else customer


async def identify(self: Engine, ref: CustomerRef, link: DeepLink | None = None) -> Customer:
    async with self.uow() as uow:
        return await find_or_create(self, uow, ref, link)


async def record_visit(self: Engine, link: DeepLink, channel: Channel,
                       ref: CustomerRef | None = None) -> Customer | None:
    """Record where a visit came from; creates the customer (first touch) when we know who it is."""
    async with self.uow() as uow:
        customer = await find_or_create(self, uow, ref, link) if ref is not None else None
        now = self.now()
        await uow.visits.add(Visit(link.raw, link.kind.value, channel.value, customer.id if customer else None, now))
        await self.emit(uow, DomainEvent(EventType.VISIT_RECORDED, {
            "param": link.raw, "kind": link.kind.value, "label": link.label, "channel": channel.value,
            "customer_id": customer.id if customer else None}, now))
        return customer


async def profile(self: Engine, ref: CustomerRef, link: DeepLink | None = None) -> Profile:
    """Who this is, with linked accounts, points and staff rights; the customer is created on first contact
    (only then is the write lock taken: most messages come from people we know). ``link`` is what the Mini
    App was opened with: a friend's referral is recorded with the customer (journey/referrals.py)."""
    found: Profile | None = None
    unreachable = stale = False
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        if customer is not None:
            unreachable = bool(await uow.reachability.unreachable([ref.key]))
            stale = await privacy.seen(self, uow, customer.id)  # the retention period counts from here
            if not await referrals.may_attribute(uow, customer, link):
                found = await _profile(self, uow, customer)
    if unreachable:  # they wrote or opened the Mini App: they may be told things again
        await delivery.clear_unreachable(self, ref)
    if stale and customer is not None:  # personal data: last seen, written at most once a day
        async with self.uow() as uow:
            await uow.privacy.touch(customer.id, self.now())
    if found is not None:
        return found
    async with self.uow() as uow:
        return await _profile(self, uow, await find_or_create(self, uow, ref, link))


async def _profile(engine: Engine, uow: UnitOfWork, customer: Customer) -> Profile:
    accounts = await uow.customers.accounts(customer.id)
    points = await uow.loyalty.balance(customer.id)
    staff = await _staff_points(engine, uow, accounts)
    return Profile(customer, accounts, points, bool(staff), frozenset(staff))


async def set_language(self: Engine, ref: CustomerRef, language: str) -> Customer:
    if language not in LANGUAGES:
        raise DomainError(ErrorCode.BAD_INPUT, f"language {language!r}")
    async with self.uow() as uow:
        customer = replace(await find_or_create(self, uow, ref), language=language)
        await uow.customers.update(customer)
    return customer


async def set_consent(self: Engine, ref: CustomerRef, consent: bool) -> Customer:
    async with self.uow() as uow:
        customer = replace(await find_or_create(self, uow, ref), consent=consent)
        await uow.customers.update(customer)
    return customer


async def issue_link_code(self: Engine, ref: CustomerRef) -> LinkCode:
    """A one-time 6-digit code, valid 10 minutes, to be entered from the other account. A staff or owner
    account gets none (``link_staff_account``, see ``_redeem``)."""
    async with self.uow() as uow:
        customer = await find_or_create(self, uow, ref)
        await _not_staff(self, uow, customer)
        now = self.now()
        for _ in range(20):
            code = f"{secrets.randbelow(10**6):06d}"
            existing = await uow.customers.link_code(code)
            if existing is None or existing.used or existing.expires_at <= now:
                break
        link = LinkCode(code, customer.id, now + LINK_CODE_TTL)
        await uow.customers.add_link_code(link)
    return link


async def redeem_link_code(self: Engine, ref: CustomerRef, code: str) -> Customer:
    """Merge the entering account's customer into the code's customer: one history, one balance.

    A wrong code is counted against the entering account; after a few, every code is refused for a while.
    """
    try:
        return await _redeem(self, ref, str(code).strip())
    except DomainError as e:
        if e.code is ErrorCode.LINK_CODE_INVALID:  # recorded after the refused unit of work rolled back
            async with self.uow() as uow:
                await uow.customers.record_link_failure(ref.key, self.now())
        raise


async def _redeem(self: Engine, ref: CustomerRef, code: str) -> Customer:
    async with self.uow() as uow:
        if await uow.customers.link_failures(ref.key, self.now() - LINK_CODE_TTL) >= LINK_MAX_FAILURES:
            raise DomainError(ErrorCode.LINK_TOO_MANY_ATTEMPTS)
        link = await uow.customers.link_code(code) if code.isdigit() and len(code) == 6 else None
        now = self.now()
        if link is None or link.used or link.expires_at <= now:
            raise DomainError(ErrorCode.LINK_CODE_INVALID)
        target = await uow.customers.get(link.customer_id)
        source = await find_or_create(self, uow, ref)
        if target is None:
            raise DomainError(ErrorCode.LINK_CODE_INVALID)
        if source.id == target.id:
            raise DomainError(ErrorCode.LINK_SAME_CUSTOMER)
        # Staff rights belong to the account the owner named, and a customer's rights are those of all their
        # linked accounts: a merge with a staff (or owner) account, either way round, would hand the rights to
        # the other account (a customer who gets a barista to enter "their code" could hand orders over). So a
        # staff or owner account is never merged: a shop expects the barista's work account to stay the work
        # account, and the barista orders for themselves from a personal one. Checked only for a valid code,
        # so the refusal tells nothing to someone guessing codes.
        await _not_staff(self, uow, source)
        await _not_staff(self, uow, target)
        await uow.customers.merge(source.id, target.id)
        await uow.points.merge(source.id, target.id)  # suggestions and points: habits, spending, birthday
        await referrals.merged(self, uow, source.id, target.id)  # no inviting oneself through a second account
        await uow.customers.use_link_code(code)
        await self.emit(uow, DomainEvent(EventType.CUSTOMERS_LINKED, {
            "customer_id": target.id, "merged": source.id, "channel": ref.channel.value}, now))
    return target


async def _not_staff(engine: Engine, uow: UnitOfWork, customer: Customer) -> None:
    """Refuse linking for a customer one of whose accounts is staff somewhere or an owner."""
    if await _staff_points(engine, uow, await uow.customers.accounts(customer.id)):
        raise DomainError(ErrorCode.LINK_STAFF_ACCOUNT)


async def claim_update(self: Engine, channel: Channel, update_id: str) -> bool:
    """True the first time a channel's update id is seen, so a redelivered update is handled once."""
    async with self.uow() as uow:
        return await uow.updates.claim(channel.value, str(update_id))


# How long an instance's hold on an update it is handling keeps the others off it. An instance killed
# mid-way leaves its lease, and the platform's repeat is taken over once the lease is older than this: longer
# than any handling takes (an owner's photo: up to 30 s of download).
UPDATE_LEASE_SECONDS = 60.0


async def begin_update(self: Engine, channel: Channel, update_id: str) -> bool:
    """Take an update to handle now under a lease (then ``finish_update`` or ``release_update``): True,
    or False when it was handled before. ``UpdateBusy`` while another instance is handling it."""
    async with self.uow() as uow:
        got = await uow.updates.begin(channel.value, str(update_id), UPDATE_LEASE_SECONDS)
    if got == "busy":
        raise UpdateBusy(f"{channel.value} update {update_id} is being handled by another instance")
    return got == "taken"


async def finish_update(self: Engine, channel: Channel, update_id: str) -> None:
    """The update taken by ``begin_update`` is handled: its repeats are skipped from now on."""
    async with self.uow() as uow:
        await uow.updates.finish(channel.value, str(update_id))


async def release_update(self: Engine, channel: Channel, update_id: str) -> None:
    """Give up an update taken by ``begin_update`` whose handling failed: the channel is told so (a 5xx to
    its webhook) and sends it again, to this instance or another, which then handles it."""
    async with self.uow() as uow:
        await uow.updates.release(channel.value, str(update_id))


def is_owner(self: Engine, ref: CustomerRef) -> bool:
    return CustomerRef(ref.channel, ref.external_id) in self.owners


async def _staff_points(engine: Engine, uow: UnitOfWork, accounts: list[Account]) -> set[str]:
    refs = [CustomerRef(a.channel, a.external_id) for a in accounts]
    if any(is_owner(engine, r) for r in refs):
        return {"*"}
    return await uow.staff.points_of(refs)


async def staff_points(self: Engine, uow: UnitOfWork, ref: CustomerRef) -> set[str]:
    """Points where this account (or an account linked to it) is staff; ``{"*"}`` means everywhere."""
    if is_owner(self, ref):
        return {"*"}
    customer = await uow.customers.by_account(ref.channel, ref.external_id)
    if customer is None:
        return await uow.staff.points_of([ref])
    return await _staff_points(self, uow, await uow.customers.accounts(customer.id))


def serves(points: set[str], point_id: str) -> bool:
    """Whether staff of ``points`` (``staff_points``) serve ``point_id``."""
    return "*" in points or point_id in points


async def require_staff(engine: Engine, uow: UnitOfWork, ref: CustomerRef, point_id: str) -> None:
    if not serves(await staff_points(engine, uow, ref), point_id):
        raise DomainError(ErrorCode.NOT_STAFF)
