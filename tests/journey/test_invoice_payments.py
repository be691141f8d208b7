"""Payments collected inside Telegram, in the engine: invoices for orders (RUB through the bot's payment
provider, taken at once) and points packs for Stars.

The pre-checkout re-checks the order (still waiting, its amount, its goods); a charge is fulfilled once
per charge id; money taken for an order that closed meanwhile goes back, through the provider when it
can refund and by the owner's hand when it cannot; a pack's points are credited once and refunded only
while unspent; reconcile credits a pack whose successful_payment was lost.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from journey_support import BARISTA, OWNER, balance, customer, event_types, refused, status, stock_of

from journey.channels import Channel, CustomerRef, InvoicePayment
from journey.engine import Engine
from journey.errors import ErrorCode
from journey.model import CartLine, PaymentIntent
from journey.money import Money
from journey.ports import Checkout, PaymentResult, StarPayment
from journey.states import OrderStatus, PackStatus, PaymentStatus

GUEST = customer(7)
CROISSANTS = [CartLine("croissant", 2)]


class FakeInvoices:
    """A Telegram invoice provider: the link is made up; refunds go through a YooKassa-like delegate when
    ``can_refund``, otherwise the owner must refund by hand."""

    name = "telegram"
    online = True
    two_stage = False
    link = "invoice_link"
    needs_email = False

    def __init__(self) -> None:
        self.can_refund = False
        self.refunds: list[int] = []

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        return PaymentResult(PaymentStatus.PENDING, confirmation_url=f"https://t.me/$invoice-{intent.id}")

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(intent.status, refunded=intent.refunded)

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(intent.status, error="" if intent.status is PaymentStatus.CAPTURED else "not paid")

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(PaymentStatus.VOIDED)

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        if not self.can_refund:
            return PaymentResult(intent.status, error="manual")
        self.refunds.append(amount.amount)
        refunded = intent.refunded + amount.amount
        return PaymentResult(PaymentStatus.REFUNDED if refunded >= intent.amount.amount else PaymentStatus.CAPTURED,
                             refunded=refunded)


class FakeStars:
    def __init__(self) -> None:
        self.refunded: list[tuple[int, str]] = []
        self.transactions: list[StarPayment] = []

    async def invoice_link(self, title: str, description: str, payload: str, amount: int) -> str:
        return f"https://t.me/$stars-{payload}"

    async def refund(self, user_id: int, charge_id: str) -> bool:
        self.refunded.append((user_id, charge_id))
        return True

    async def incoming(self, since: datetime | None) -> list[StarPayment]:
        return list(self.transactions)


@pytest.fixture
def invoices() -> FakeInvoices:
    return FakeInvoices()


@pytest.fixture
def stars() -> FakeStars:
    return FakeStars()


@pytest.fixture
def shop(db, clock, engine, invoices, stars) -> Engine:
    return Engine(db.uow, secret=engine.secret, owners=[OWNER], clock=clock, providers={"telegram": invoices},
                  stars=stars, reader=db.reading)


async def _invoice_order(shop: Engine) -> tuple[str, PaymentIntent]:
    view = await shop.place_order(GUEST, CROISSANTS, "center", provider="telegram")
    assert view.payment is not None
    return view.order.id, view.payment


def _paid(intent: PaymentIntent, charge: str = "tg-charge-1", total: int | None = None) -> InvoicePayment:
    return InvoicePayment(intent.id, "RUB", intent.amount.amount if total is None else total, charge, f"yk-{charge}")


async def test_an_invoice_order_waits_hidden_then_is_fulfilled_once(shop, invoices):
    order_id, intent = await _invoice_order(shop)
    details = await shop.order_details(GUEST, order_id)
    assert details.payment.link.startswith("https://t.me/$") and details.link_kind == "invoice_link"
    assert [d.order.id for d in await shop.staff_board(BARISTA)] == []  # not the staff's until paid

    await shop.check_invoice(_paid(intent))  # pre-checkout approves
    for _ in range(3):  # Telegram repeats successful_payment
        await shop.invoice_paid(_paid(intent))
    assert await status(shop, order_id) == (OrderStatus.PLACED, PaymentStatus.CAPTURED)
    assert [d.order.id for d in await shop.staff_board(BARISTA)] == [order_id]
    events = await event_types(shop)
    assert events.count("order.paid") == 1 and events.count("payment.captured") == 1
    paid = await shop.order_details(GUEST, order_id)
    assert (paid.payment.charge_id, paid.payment.provider_charge_id) == ("tg-charge-1", "yk-tg-charge-1")


async def test_the_pre_checkout_refuses_a_wrong_amount_and_a_closed_order(shop, clock):
    order_id, intent = await _invoice_order(shop)
    with refused(ErrorCode.PAYMENT_FAILED) as wrong:
        await shop.check_invoice(_paid(intent, total=intent.amount.amount - 100))
    assert "wrong amount" in wrong.value.detail
    with refused(ErrorCode.PAYMENT_FAILED):
        await shop.check_invoice(InvoicePayment(intent.id, "XTR", intent.amount.amount))
    with refused(ErrorCode.ORDER_NOT_FOUND):
        await shop.check_invoice(InvoicePayment("pay_forged", "RUB", intent.amount.amount))
    await shop.cancel(GUEST, order_id)
    with refused(ErrorCode.INVALID_TRANSITION):
        await shop.check_invoice(_paid(intent))


async def test_a_hidden_item_is_refused_at_pre_checkout(shop):
    order_id, intent = await _invoice_order(shop)
    await shop.set_available("croissant", False)
    with refused(ErrorCode.ITEM_UNAVAILABLE):
        await shop.check_invoice(_paid(intent))
    assert await status(shop, order_id) == (OrderStatus.PLACED, PaymentStatus.PENDING)


async def test_an_approved_pre_checkout_holds_off_expiry_until_the_money_comes(shop, clock):
    order_id, intent = await _invoice_order(shop)
    clock.advance(minutes=14, seconds=30)
    await shop.check_invoice(_paid(intent))
    clock.advance(minutes=1)  # past the unpaid timeout, seconds after the approval
    assert await shop.expire_due() == []
    await shop.invoice_paid(_paid(intent))
    assert await status(shop, order_id) == (OrderStatus.PLACED, PaymentStatus.CAPTURED)


async def test_money_taken_after_the_order_closed_goes_back_or_to_the_owner(shop, invoices, clock):
    order_id, intent = await _invoice_order(shop)
    clock.advance(minutes=16)
    assert await shop.expire_due() == [order_id]
    left = await stock_of(shop)
    await shop.invoice_paid(_paid(intent))  # Telegram took the money anyway
    details = await shop.order_details(GUEST, order_id)
    assert details.order.status is OrderStatus.EXPIRED and details.payment.manual_refund == intent.amount.amount
    assert "payment.refund_manual" in await event_types(shop)
    assert await stock_of(shop) == left  # nothing was given out for it

    invoices.can_refund = True
    order_id, intent = await _invoice_order(shop)
    await shop.cancel(GUEST, order_id)
    await shop.invoice_paid(_paid(intent, "tg-charge-2"))
    details = await shop.order_details(GUEST, order_id)
    assert invoices.refunds == [intent.amount.amount] and details.payment.refunded == intent.amount.amount
    assert details.payment.manual_refund == 0


async def test_the_owner_refunds_part_of_a_captured_payment(shop, invoices):
    invoices.can_refund = True
    order_id, intent = await _invoice_order(shop)
    await shop.invoice_paid(_paid(intent))
    with refused(ErrorCode.NOT_OWNER):
        await shop.refund(GUEST, order_id, Money(100))
    with refused(ErrorCode.BAD_INPUT):
        await shop.refund(OWNER, order_id, Money(intent.amount.amount + 1))
    after = await shop.refund(OWNER, order_id, Money(5000))
    assert (after.status, after.refunded) == (PaymentStatus.CAPTURED, 5000)
    after = await shop.refund(OWNER, order_id)  # the rest
    assert (after.status, after.refunded) == (PaymentStatus.REFUNDED, intent.amount.amount)
    with refused(ErrorCode.INVALID_TRANSITION):
        await shop.refund(OWNER, order_id)
    assert invoices.refunds == [5000, intent.amount.amount - 5000]


async def test_telegram_invoices_are_for_telegram_and_stars_for_digital_goods(shop):
    vk = customer(8, Channel.VK)
    with refused(ErrorCode.PAYMENT_PROVIDER_UNKNOWN):
        await shop.place_order(vk, CROISSANTS, "center", provider="telegram")
    with refused(ErrorCode.PAYMENT_PROVIDER_UNKNOWN):
        await shop.place_order(GUEST, CROISSANTS, "center", provider="stars")
    assert await shop.orders_of(vk) == []
    assert shop.payment_methods(Channel.VK) == ["counter"]
    assert shop.payment_methods(Channel.TELEGRAM) == ["counter", "telegram", "stars"]
    assert shop.payment_methods() == ["counter", "telegram", "stars"]  # what /api/config lists


# --- points packs for Stars -----------------------------------------------------------------------

async def _packs_on_sale(shop: Engine) -> None:
    await shop.change_shop(OWNER, "packs", "500:50, 2000:180")


async def test_a_points_pack_is_credited_once_and_a_second_charge_refunded(shop, stars):
    await _packs_on_sale(shop)
    assert [p.id for p in await shop.points_packs()] == ["500x50", "2000x180"]
    purchase = await shop.buy_pack(GUEST, "500x50")
    paid = InvoicePayment(purchase.id, "XTR", 50, "star-1")
    await shop.check_pack(paid)
    with refused(ErrorCode.PAYMENT_FAILED):
        await shop.check_pack(InvoicePayment(purchase.id, "XTR", 5))
    for _ in range(2):
        await shop.pack_paid(GUEST, paid)
    assert await balance(shop, GUEST) == 500
    await shop.pack_paid(GUEST, InvoicePayment(purchase.id, "XTR", 50, "star-2"))  # paid twice
    assert await balance(shop, GUEST) == 500 and stars.refunded == [(1007, "star-2")]
    with refused(ErrorCode.INVALID_TRANSITION):
        await shop.check_pack(paid)


async def test_a_pack_is_refunded_only_while_its_points_are_unspent(shop, stars):
    await _packs_on_sale(shop)
    purchase = await shop.buy_pack(GUEST, "500x50")
    await shop.pack_paid(GUEST, InvoicePayment(purchase.id, "XTR", 50, "star-1"))
    with refused(ErrorCode.NOT_OWNER):
        await shop.refund_pack(GUEST, purchase.id)
    refunded = await shop.refund_pack(OWNER, purchase.id)
    assert refunded.status is PackStatus.REFUNDED and await balance(shop, GUEST) == 0
    assert stars.refunded == [(1007, "star-1")]
    with refused(ErrorCode.INVALID_TRANSITION):
        await shop.refund_pack(OWNER, purchase.id)

    spent = await shop.buy_pack(GUEST, "500x50")
    await shop.pack_paid(GUEST, InvoicePayment(spent.id, "XTR", 50, "star-3"))
    await shop.place_order(GUEST, [CartLine("croissant", 1)], "center", points=100)
    with refused(ErrorCode.POINTS_INSUFFICIENT):
        await shop.refund_pack(OWNER, spent.id)
    assert await balance(shop, GUEST) == 400 and len(stars.refunded) == 1


async def test_reconcile_credits_a_pack_whose_payment_message_was_lost(shop, stars):
    await _packs_on_sale(shop)
    purchase = await shop.buy_pack(GUEST, "2000x180")
    stars.transactions = [StarPayment("star-9", 1007, purchase.id, 180), StarPayment("star-x", 1, "other", 5)]
    done = await shop.reconcile()
    assert done.changed == 1 and await balance(shop, GUEST) == 2000
    assert (await shop.reconcile()).changed == 0 and await balance(shop, GUEST) == 2000


async def test_packs_are_refused_outside_telegram_and_when_unknown(shop):
    await _packs_on_sale(shop)
    with refused(ErrorCode.PAYMENT_PROVIDER_UNKNOWN):
        await shop.buy_pack(CustomerRef(Channel.VK, "5"), "500x50")
    with refused(ErrorCode.NOT_FOUND):
        await shop.buy_pack(GUEST, "500x1")
    with refused(ErrorCode.SETTING_INVALID):
        await shop.change_shop(OWNER, "packs", "500:0")
    assert [p.id for p in await shop.points_packs()] == ["500x50", "2000x180"]


async def test_money_left_to_the_owner_is_not_asked_of_the_provider_again(shop, invoices, clock):
    order_id, intent = await _invoice_order(shop)
    await shop.cancel(GUEST, order_id)
    await shop.invoice_paid(_paid(intent))  # taken after the order closed; this provider cannot refund
    done = await shop.reconcile()
    assert done.changed == 0 and (await shop.order_details(GUEST, order_id)).payment.settled
    assert (await event_types(shop)).count("payment.refund_manual") == 1
