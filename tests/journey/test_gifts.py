"""Gifts in the engine, with a fake two-stage gateway: the gift's state machine, its payment applied through
the same machinery as an order's (a hold captured at once; a duplicate, lost or late answer, a crash or an
outage between the provider and our commit losing nothing), who may take it (not its giver through any
linked account, not a second person), the order it pays for, and expiry with the giver's money back."""
from __future__ import annotations

from datetime import timedelta

import pytest
from journey_support import OWNER, customer, event_types, fulfil, refused

from journey.channels import Channel
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.gift_model import GIFT_TRANSITIONS, GiftStatus, ensure_gift_transition
from journey.model import PaymentIntent
from journey.money import Money
from journey.ports import Checkout, PaymentResult, PaymentUnavailable
from journey.states import OrderStatus, PaymentStatus

ANNA = customer("anna")
ANNA_VK = customer("anna-vk", Channel.VK)
BORIS = customer("boris", Channel.VK)
VERA = customer("vera")


class Gateway:
    """A two-stage gateway holding what the customer paid, as YooKassa does: ``pay`` holds the money; capture
    and refund are idempotent; ``down`` makes every call fail as an outage does."""

    name = "fakepay"
    online = True
    two_stage = True
    link = "confirmation_url"
    needs_email = False

    def __init__(self) -> None:
        self.state: dict[str, PaymentStatus] = {}
        self.refunded: dict[str, int] = {}
        self.down = False
        self.calls: list[tuple[str, str]] = []

    def _check(self, what: str, intent: PaymentIntent) -> None:
        self.calls.append((what, intent.order_id))
        if self.down:
            raise PaymentUnavailable("gateway unreachable")

    def pay(self, intent_ref: str) -> None:
        self.state[intent_ref] = PaymentStatus.AUTHORIZED

    def _result(self, intent: PaymentIntent) -> PaymentResult:
        ref = f"fake-{intent.id}"
        return PaymentResult(self.state.get(ref, PaymentStatus.PENDING), ref, confirmation_url="https://pay.example/"
                             + ref, refunded=self.refunded.get(ref, 0))

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        self._check("start", intent)
        self.state.setdefault(f"fake-{intent.id}", PaymentStatus.PENDING)
        return self._result(intent)

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        self._check("status", intent)
        return self._result(intent)

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        self._check("capture", intent)
        ref = f"fake-{intent.id}"
        if self.state.get(ref) is PaymentStatus.AUTHORIZED:
            self.state[ref] = PaymentStatus.CAPTURED
        return self._result(intent)

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        self._check("void", intent)
        ref = f"fake-{intent.id}"
        if self.state.get(ref) in (PaymentStatus.AUTHORIZED, PaymentStatus.PENDING):
            self.state[ref] = PaymentStatus.VOIDED
        return self._result(intent)

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        self._check("refund", intent)
        ref = f"fake-{intent.id}"
        self.refunded[ref] = intent.amount.amount
        self.state[ref] = PaymentStatus.REFUNDED
        return self._result(intent)

    def count(self, what: str) -> int:
        return sum(1 for c in self.calls if c[0] == what)


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
async def shop(db, clock, engine, gateway) -> Engine:
    return Engine(db.uow, secret=engine.secret, owners=engine.owners, clock=clock, reader=db.reading,
                  providers={"fakepay": gateway})  # type: ignore[dict-item]


async def paid_gift(shop: Engine, gateway: Gateway, who=ANNA, **kw) -> str:
    view = await shop.buy_gift(who, provider="fakepay", **({"item_id": "latte"} | kw))
    intent = await _intent(shop, view.gift.id)
    gateway.pay(intent.provider_ref)
    await shop.payment_notice("fakepay", intent.provider_ref)
    return view.gift.code


async def _intent(shop: Engine, gift_id: str) -> PaymentIntent:
    async with shop.read() as uow:
        intent = await uow.payments.for_order(gift_id)
    assert intent is not None
    return intent


async def status_of(shop: Engine, code: str) -> GiftStatus:
    return (await shop.gift_card(code)).status


def test_the_transition_table_is_explicit():
    assert GIFT_TRANSITIONS[GiftStatus.AWAITING_PAYMENT] == {GiftStatus.ACTIVE, GiftStatus.FAILED}
    assert GIFT_TRANSITIONS[GiftStatus.REDEEMED] == frozenset()
    for target in (GiftStatus.ACTIVE, GiftStatus.CLAIMED, GiftStatus.REFUNDED):
        with pytest.raises(DomainError) as e:
            ensure_gift_transition(GiftStatus.REDEEMED, target)
        assert e.value.code is ErrorCode.GIFT_UNAVAILABLE
    ensure_gift_transition(GiftStatus.EXPIRED, GiftStatus.REFUNDED)


async def test_a_hold_is_captured_once_however_often_it_is_told(shop, gateway):
    code = await paid_gift(shop, gateway)
    gift = await shop.gift_card(code)
    intent = await _intent(shop, gift.id)
    for _ in range(3):  # repeated notifications and reconcile runs
        await shop.payment_notice("fakepay", intent.provider_ref)
        await shop.reconcile()
    assert await status_of(shop, code) is GiftStatus.ACTIVE
    assert gateway.count("capture") == 1 and (await _intent(shop, gift.id)).status is PaymentStatus.CAPTURED
    assert (await event_types(shop)).count("gift.active") == 1


async def test_a_capture_lost_in_an_outage_is_made_by_reconcile(shop, gateway):
    view = await shop.buy_gift(ANNA, item_id="latte", provider="fakepay")
    intent = await _intent(shop, view.gift.id)
    gateway.pay(intent.provider_ref)
    await shop.reconcile()  # the notification was lost: reconcile finds the hold ...
    assert await status_of(shop, view.gift.code) is GiftStatus.ACTIVE  # ... and captured it at once
    # now a second gift whose capture meets an outage
    other = await shop.buy_gift(ANNA, item_id="espresso", provider="fakepay")
    second = await _intent(shop, other.gift.id)
    gateway.pay(second.provider_ref)
    gateway.down = True
    with pytest.raises(PaymentUnavailable):
        await shop.payment_notice("fakepay", second.provider_ref)
    assert await status_of(shop, other.gift.code) is GiftStatus.AWAITING_PAYMENT
    assert (await shop.reconcile()).unavailable >= 1
    gateway.down = False
    await shop.reconcile()
    assert await status_of(shop, other.gift.code) is GiftStatus.ACTIVE
    assert gateway.state[second.provider_ref] is PaymentStatus.CAPTURED


async def test_a_refused_payment_fails_the_gift_and_a_late_hold_is_released(shop, gateway):
    view = await shop.buy_gift(ANNA, item_id="latte", provider="fakepay")
    intent = await _intent(shop, view.gift.id)
    gateway.state[intent.provider_ref] = PaymentStatus.FAILED
    await shop.payment_notice("fakepay", intent.provider_ref)
    assert await status_of(shop, view.gift.code) is GiftStatus.FAILED
    with refused(ErrorCode.GIFT_UNAVAILABLE):
        await shop.claim_gift(BORIS, view.gift.code)

    # never paid: failed after the unpaid timeout, and money held after that is released, never captured
    late = await shop.buy_gift(ANNA, item_id="latte", provider="fakepay")
    shop.clock.advance(minutes=16)  # type: ignore[attr-defined]
    await shop.expire_due()
    assert (await shop.gift_card(late.gift.code)).reason == "unpaid"
    late_intent = await _intent(shop, late.gift.id)
    gateway.pay(late_intent.provider_ref)
    await shop.payment_notice("fakepay", late_intent.provider_ref)
    assert gateway.state[late_intent.provider_ref] is PaymentStatus.VOIDED and gateway.count("capture") == 0


async def test_the_giver_cannot_take_their_own_gift_through_a_linked_account(shop, gateway):
    code = await paid_gift(shop, gateway)
    await shop.identify(ANNA_VK)
    link = await shop.issue_link_code(ANNA)
    await shop.redeem_link_code(ANNA_VK, link.code)  # Anna's VK account joins her Telegram customer
    for who in (ANNA, ANNA_VK):
        with refused(ErrorCode.GIFT_OWN):
            await shop.claim_gift(who, code)

    # linked the other way round after buying: the giver's account now belongs to another customer
    second = await paid_gift(shop, gateway, who=VERA)
    vera_vk = customer("vera-vk", Channel.VK)
    await shop.identify(vera_vk)
    link = await shop.issue_link_code(vera_vk)
    await shop.redeem_link_code(VERA, link.code)  # Vera's Telegram customer (the giver) merged into the VK one
    for who in (VERA, vera_vk):
        with refused(ErrorCode.GIFT_OWN):
            await shop.claim_gift(who, second)
    assert (await shop.claim_gift(BORIS, second)).taker


async def test_one_taker_one_open_order_redeemed_at_pickup(shop, gateway):
    code = await paid_gift(shop, gateway)
    with refused(ErrorCode.GIFT_NOT_FOUND):
        await shop.claim_gift(BORIS, code + "x")
    await shop.claim_gift(BORIS, code)
    with refused(ErrorCode.GIFT_TAKEN):
        await shop.claim_gift(VERA, code)
    with refused(ErrorCode.GIFT_TAKEN):
        await shop.order_gift(VERA, code, "center")
    first = await shop.order_gift(BORIS, code, "center")
    assert first.order.total == Money(0) and first.order.source == "gift"
    with refused(ErrorCode.GIFT_UNAVAILABLE):
        await shop.order_gift(BORIS, code, "center")
    await shop.cancel(BORIS, first.order.id)  # cancelled: the gift may be ordered again
    second = await shop.order_gift(BORIS, code, "park")
    await fulfil(shop, second.order.id, OWNER)
    await shop.hand_over(OWNER, order_id=second.order.id)
    assert await status_of(shop, code) is GiftStatus.REDEEMED
    with refused(ErrorCode.ALREADY_PICKED_UP):
        await shop.hand_over(OWNER, order_id=second.order.id)
    with refused(ErrorCode.GIFT_UNAVAILABLE):
        await shop.order_gift(BORIS, code, "center")
    assert gateway.count("refund") == 0 and gateway.count("capture") == 1


async def test_expiry_waits_for_an_open_order_and_refunds_once_even_after_an_outage(shop, gateway):
    code = await paid_gift(shop, gateway)
    await shop.claim_gift(BORIS, code)
    order = await shop.order_gift(BORIS, code, "center")
    shop.clock.advance(days=30, minutes=1)  # type: ignore[attr-defined]
    await shop.expire_gifts()
    assert await status_of(shop, code) is GiftStatus.CLAIMED  # the friend's order is on its way
    await shop.cancel(BORIS, order.order.id)
    gateway.down = True
    await shop.expire_gifts()
    assert await status_of(shop, code) is GiftStatus.EXPIRED  # expired; the refund could not be asked
    gateway.down = False
    await shop.expire_gifts()
    await shop.expire_gifts()
    assert await status_of(shop, code) is GiftStatus.REFUNDED
    gift = await shop.gift_card(code)
    intent = await _intent(shop, gift.id)
    assert (intent.status, intent.refunded) == (PaymentStatus.REFUNDED, gift.amount.amount)
    kinds = await event_types(shop)
    assert kinds.count("gift.expired") == 1 and kinds.count("gift.refunded") == 1
    with refused(ErrorCode.GIFT_UNAVAILABLE):
        await shop.order_gift(BORIS, code, "center")


async def test_an_order_left_open_does_not_outlive_the_gift(shop, gateway):
    code = await paid_gift(shop, gateway)
    await shop.claim_gift(BORIS, code)
    order = await shop.order_gift(BORIS, code, "center")
    await fulfil(shop, order.order.id, OWNER)
    shop.clock.advance(days=31)  # type: ignore[attr-defined]
    await shop.expire_due()  # the ready order expires uncollected, then the gift with it
    await shop.expire_due()
    async with shop.read() as uow:
        assert (await uow.orders.get(order.order.id)).status is OrderStatus.EXPIRED
    assert await status_of(shop, code) is GiftStatus.REFUNDED


async def test_the_owner_sets_the_amounts_and_days_and_may_refund_a_gift(shop, gateway):
    await shop.change_shop(OWNER, "gift_amounts", "700, 200")
    await shop.change_shop(OWNER, "gift_days", "7")
    offer = await shop.gift_offer(ANNA)
    assert [m.amount for m in offer.amounts] == [20000, 70000] and offer.days == 7 and offer.methods == ["fakepay"]
    for wrong in ("abc", "0", "100001", "1,2,3,4,5,6,7"):
        with refused(ErrorCode.SETTING_INVALID):
            await shop.change_shop(OWNER, "gift_amounts", wrong)
    with refused(ErrorCode.BAD_INPUT):
        await shop.buy_gift(ANNA, amount=30000, provider="fakepay")  # no longer offered
    code = await paid_gift(shop, gateway, amount=70000, item_id=None)
    gift = await shop.gift_card(code)
    assert gift.amount == Money(70000) and gift.expires_at == shop.now() + timedelta(days=7)
    with refused(ErrorCode.NOT_OWNER):
        await shop.refund(BORIS, gift.id)
    await shop.refund(OWNER, gift.id)  # the owner gives the money back: the gift ends
    assert await status_of(shop, code) is GiftStatus.REFUNDED
    with refused(ErrorCode.GIFT_UNAVAILABLE):
        await shop.claim_gift(BORIS, code)

