"""Points packs sold for Telegram Stars: the shop's digital goods, which Telegram sells only for Stars.

The owner sets the packs as a rule (``/shop packs 500:50,2000:180``: points for Stars). A customer in
Telegram buys one; the bot's pre-checkout checks the purchase, and ``successful_payment`` credits the points
once per Telegram charge, whatever Telegram repeats. A second charge for one purchase is refunded at once;
the owner may refund a purchase whose points are still unspent (``refundStarPayment``). Reconcile reads the
bot's Star transactions, so a lost ``successful_payment`` still credits the points.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from .audit import require_owner
from .channels import Channel, CustomerRef, InvoicePayment
from .customers import find_or_create
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .ids import new_id
from .model import LedgerEntry, PackPurchase
from .ports import PaymentUnavailable, UnitOfWork
from .states import PackStatus, ensure_transition

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)
PREFIX = "pack_"  # the payload of a pack's invoice: the purchase id
MAX_PACKS = 6
LOOK_BACK = timedelta(days=8)  # how far reconcile reads the bot's Star transactions


@dataclass(frozen=True, slots=True)
class PointsPack:
    points: int
    stars: int

    @property
    def id(self) -> str:
        return f"{self.points}x{self.stars}"


def parse_packs(text: str) -> tuple[PointsPack, ...]:
    """``500:50, 2000:180`` (points:stars) -> the packs; ``-`` or empty: none. ``ValueError`` says what is wrong."""
    text = text.strip()
    if text in ("", "-"):
        return ()
    packs = []
    for part in text.split(","):
        points, sep, stars = part.strip().partition(":")
        if not sep or not points.strip().isdigit() or not stars.strip().isdigit():
            raise ValueError(f"{part.strip()!r}: expected points:stars, e.g. 500:50")
        pack = PointsPack(int(points), int(stars))
        if not (1 <= pack.points <= 10_000_000 and 1 <= pack.stars <= 10_000):
            raise ValueError(f"{part.strip()!r}: 1 to 10000000 points for 1 to 10000 Stars")
        packs.append(pack)
    if len(packs) > MAX_PACKS or len({p.id for p in packs}) != len(packs):
        raise ValueError(f"at most {MAX_PACKS} different packs")
    return tuple(packs)


def _offered(text: str) -> tuple[PointsPack, ...]:
    try:
        return parse_packs(text)
    except ValueError:  # stored before it was checked: nothing is sold rather than something wrong
        return ()


async def points_packs(self: Engine) -> tuple[PointsPack, ...]:
    """The packs on sale: none without Telegram Stars configured."""
    if self.stars is None:
        return ()
    async with self.read() as uow:
        return _offered((await self.rules(uow)).stars_packs)


async def buy_pack(self: Engine, ref: CustomerRef, pack_id: str) -> PackPurchase:
    """A purchase waiting for its Stars; its id is the invoice's payload."""
    if self.stars is None or ref.channel != Channel.TELEGRAM:
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_UNKNOWN, "points packs are sold for Telegram Stars, in Telegram")
    from . import privacy

    await privacy.require_consent(self, ref)  # personal data: a purchase
    now = self.now()
    async with self.uow() as uow:
        pack = next((p for p in _offered((await self.rules(uow)).stars_packs) if p.id == pack_id), None)
        if pack is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"no points pack {pack_id}")
        customer = await find_or_create(self, uow, ref)
        purchase = PackPurchase(new_id("pack"), customer.id, ref.key, pack.points, pack.stars, PackStatus.PENDING,
                                "", now, now)
        await uow.packs.add(purchase)
    return purchase


async def pack_invoice_link(self: Engine, ref: CustomerRef, pack_id: str, title: str,
                            description: str) -> tuple[PackPurchase, str]:
    """The Mini App's way to buy a pack: a new purchase and its Stars invoice link (``openInvoice``)."""
    purchase = await buy_pack(self, ref, pack_id)
    try:
        assert self.stars is not None  # buy_pack refused otherwise
        return purchase, await self.stars.invoice_link(title, description, purchase.id, purchase.stars)
    except PaymentUnavailable as e:
        raise DomainError(ErrorCode.PAYMENT_FAILED, str(e)) from None


async def check_pack(self: Engine, payment: InvoicePayment) -> None:
    async with self.read() as uow:
        purchase = await uow.packs.get(payment.payload)
    if purchase is None:
        raise DomainError(ErrorCode.NOT_FOUND, "unknown invoice")
    if (payment.currency, payment.total) != ("XTR", purchase.stars):
        raise DomainError(ErrorCode.PAYMENT_FAILED, f"wrong amount: {payment.total} {payment.currency}, "
                                                    f"the pack costs {purchase.stars} XTR")
    if purchase.status is not PackStatus.PENDING:
        raise DomainError(ErrorCode.INVALID_TRANSITION, f"the purchase is {purchase.status.value}")


async def pack_paid(self: Engine, payer: CustomerRef, payment: InvoicePayment) -> PackPurchase | None:
    """Credit the pack's points once per charge. Stars taken for a purchase already paid (or for none we
    know) are given back at once."""
    async with self.uow() as uow:
        if (done := await uow.packs.by_charge_id(payment.charge_id)) is not None:
            return done  # Telegram said it again
        purchase = await uow.packs.get(payment.payload)
        if purchase is not None and purchase.status is PackStatus.PENDING:
            ensure_transition(purchase.status, PackStatus.PAID)
            now = self.now()
            purchase = dataclasses.replace(purchase, status=PackStatus.PAID, charge_id=payment.charge_id,
                                           updated_at=now)
            await uow.packs.update(purchase)
            await _points(self, uow, purchase, purchase.points, "stars", EventType.POINTS_BOUGHT)
            return purchase
    log.warning("Stars charge %s for %s that is not waiting: refunded", payment.charge_id, payment.payload)
    if self.stars is not None and payer.channel == Channel.TELEGRAM and payer.external_id.isdigit():
        await self.stars.refund(int(payer.external_id), payment.charge_id)
    return purchase


async def _points(engine: Engine, uow: UnitOfWork, purchase: PackPurchase, delta: int, reason: str,
                  kind: EventType) -> None:
    now = engine.now()
    await uow.loyalty.add(LedgerEntry(purchase.customer_id, delta, reason, purchase.id, now))
    await engine.emit(uow, DomainEvent(kind, {"customer_id": purchase.customer_id, "account": purchase.account,
                                              "purchase_id": purchase.id, "points": abs(delta),
                                              "stars": purchase.stars}, now))


async def refund_pack(self: Engine, actor: CustomerRef, purchase_id: str) -> PackPurchase:
    """Give the Stars back and take the points back: only while the customer still has them. Owners only."""
    require_owner(self, actor)
    if self.stars is None:
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_UNKNOWN, "Telegram Stars are not configured")
    async with self.read() as uow:
        purchase = await uow.packs.get(purchase_id)
        if purchase is None:
            raise DomainError(ErrorCode.NOT_FOUND, purchase_id)
        ensure_transition(purchase.status, PackStatus.REFUNDED)
        if await uow.loyalty.balance(purchase.customer_id) < purchase.points:
            raise DomainError(ErrorCode.POINTS_INSUFFICIENT, "the customer has spent the pack's points")
    user = CustomerRef.parse(purchase.account)
    if not await self.stars.refund(int(user.external_id), purchase.charge_id):
        raise DomainError(ErrorCode.PAYMENT_FAILED, "Telegram refused the refund")
    async with self.uow() as uow:
        current = await uow.packs.get(purchase_id)
        if current is None or current.status is not PackStatus.PAID:
            return current or purchase  # refunded meanwhile (a second command): Telegram refunds once
        purchase = dataclasses.replace(current, status=PackStatus.REFUNDED, updated_at=self.now())
        await uow.packs.update(purchase)
        await _points(self, uow, purchase, -purchase.points, "stars_refund", EventType.POINTS_REFUNDED)
    return purchase


async def reconcile_stars(self: Engine) -> int:
    """Credit packs whose ``successful_payment`` never arrived, from the bot's Star transactions."""
    if self.stars is None:
        return 0
    credited = 0
    for paid in await self.stars.incoming(self.now() - LOOK_BACK):
        if not paid.payload.startswith(PREFIX):
            continue
        async with self.read() as uow:
            known = await uow.packs.by_charge_id(paid.charge_id)
            purchase = await uow.packs.get(paid.payload)
        if known is None and purchase is not None and purchase.status is PackStatus.PENDING:
            await pack_paid(self, CustomerRef(Channel.TELEGRAM, str(paid.user_id)),
                            InvoicePayment(paid.payload, "XTR", paid.amount, paid.charge_id))
            credited += 1
    return credited
