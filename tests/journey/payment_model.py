"""In-memory models of the payment providers, for the schedules of tests/journey/test_payment_schedules.py.

``YookassaModel`` is a two-stage provider shaped like YooKassa (``journey.ports.PaymentProvider``): payments by
id in ``pending`` / ``waiting_for_capture`` / ``succeeded`` / ``canceled`` with a refunded amount. A POST is
idempotent by its key (our payment id and the operation, as the adapter builds it): the same request within
24 hours answers what it answered the first time and does nothing again. It can be told to fail the next
call from the engine without doing anything (an outage) or after doing it (the answer lost: the crash
between the provider's success and our commit). ``status`` always answers the truth. Every effect is
counted, so a test can tell how often money was taken.

``InvoiceModel`` is Telegram's invoices through the bot's payment provider (one stage, like
``adapters/telegram/invoices.py``): Telegram takes the money when the customer pays, and only the bot hears
of it (``successful_payment``); asked about a payment it answers our own state. Its refunds go to the
provider's API (a YooKassa-like ledger that can be down) or, without one, to the owner's hand.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from journey.model import PaymentIntent
from journey.money import Money
from journey.ports import Checkout, Clock, PaymentResult, PaymentUnavailable
from journey.states import PaymentStatus

HOLD = timedelta(days=7)  # YooKassa cancels a payment left waiting for capture this long (expired_on_capture)
KEY_LIFE = timedelta(hours=24)  # how long YooKassa remembers an Idempotence-Key
RELEASED = frozenset({"canceled_by_merchant", "expired_on_capture"})


@dataclass
class Payment:
    """A payment as the provider keeps it."""

    id: str
    intent_id: str
    order_id: str
    amount: int
    status: str = "pending"  # pending, waiting_for_capture, succeeded, canceled
    reason: str = ""  # cancellation_details.reason
    refunded: int = 0
    held_since: datetime | None = None

    def result(self) -> PaymentResult:
        """What the adapter makes of the payment object (the contract of docs: pending -> pending, ...)."""
        if self.status == "canceled":
            status = PaymentStatus.VOIDED if self.reason in RELEASED else PaymentStatus.FAILED
        elif self.status == "succeeded":
            status = PaymentStatus.REFUNDED if self.refunded >= self.amount else PaymentStatus.CAPTURED
        else:
            status = {"pending": PaymentStatus.PENDING, "waiting_for_capture": PaymentStatus.AUTHORIZED}[self.status]
        return PaymentResult(status, self.id, confirmation_url=f"https://pay.example/{self.id}",
                             refunded=self.refunded, amount=self.amount)


class Refused(Exception):
    """A 4xx: the provider refuses the request (nothing happened)."""


@dataclass
class Faults:
    """What goes wrong with the next call from the engine: ``down`` (nothing done) or ``lost`` (done, the
    answer lost)."""

    next: str = ""

    def take(self) -> str:
        fault, self.next = self.next, ""
        return fault


class YookassaModel:
    """A YooKassa-like two-stage provider in memory (see the module's docstring)."""

    name = "yookassa"
    online = True
    two_stage = True
    link = "confirmation_url"
    needs_email = False

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.payments: dict[str, Payment] = {}
        self.answers: dict[tuple[object, ...], tuple[datetime, PaymentResult]] = {}
        self.faults = Faults()
        self.captures: Counter[str] = Counter()  # payment id -> how often money was taken
        self.voids: Counter[str] = Counter()
        self.refunds: Counter[str] = Counter()
        self.notifications: list[str] = []  # payment ids the provider notified of, in order (a webhook each)
        self.calls: list[tuple[str, str]] = []

    # -- what happens at the provider without us -----------------------------------------------------

    def by_order(self, order_id: str) -> Payment | None:
        found = [p for p in self.payments.values() if p.order_id == order_id]
        assert len(found) <= 1, f"{len(found)} payments at the provider for order {order_id}"
        return found[0] if found else None

    def pay(self, payment_id: str) -> bool:
        """The customer confirms on the payment page: the money is held."""
        payment = self.payments[payment_id]
        if payment.status != "pending":
            return False
        payment.status, payment.held_since = "waiting_for_capture", self.clock.now()
        self.notifications.append(payment.id)
        return True

    def decline(self, payment_id: str, reason: str = "card_expired") -> bool:
        """The bank declines, or the customer never confirms (``expired_on_confirmation``)."""
        payment = self.payments[payment_id]
        if payment.status != "pending":
            return False
        payment.status, payment.reason = "canceled", reason
        self.notifications.append(payment.id)
        return True

    def lapse(self) -> list[str]:
        """Holds kept as long as the provider keeps them are cancelled (``expired_on_capture``)."""
        lapsed = []
        for payment in self.payments.values():
            if payment.status == "waiting_for_capture" and payment.held_since is not None \
                    and self.clock.now() - payment.held_since >= HOLD:
                payment.status, payment.reason = "canceled", "expired_on_capture"
                self.notifications.append(payment.id)
                lapsed.append(payment.id)
        return lapsed

    # -- the port --------------------------------------------------------------------------------------

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        def create() -> Payment:
            payment = Payment(f"yk-{len(self.payments) + 1:03d}-{intent.id}", intent.id, checkout.order.id,
                              intent.amount.amount)
            self.payments[payment.id] = payment
            return payment

        return self._post((intent.id, "create"), "start", intent, create)

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        self.calls.append(("status", intent.id))
        fault = self.faults.take()
        if fault:
            raise PaymentUnavailable(f"yookassa {fault} at status")
        if not intent.provider_ref:
            return _ours(intent)
        return self.payments[intent.provider_ref].result()

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        def capture() -> Payment:
            payment = self._payment(intent)
            if payment.status != "waiting_for_capture":
                raise Refused(f"a {payment.status} payment cannot be captured")
            payment.status = "succeeded"
            self.captures[payment.id] += 1
            return payment

        return self._post((intent.id, "capture"), "capture", intent, capture)

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        def cancel() -> Payment:
            payment = self._payment(intent)
            if payment.status != "waiting_for_capture":
                raise Refused(f"a {payment.status} payment cannot be cancelled")
            payment.status, payment.reason = "canceled", "canceled_by_merchant"
            self.voids[payment.id] += 1
            return payment

        return self._post((intent.id, "cancel"), "void", intent, cancel)

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        def refund() -> Payment:
            payment = self._payment(intent)
            if payment.status != "succeeded" or not 0 < amount.amount <= payment.amount - payment.refunded:
                raise Refused(f"{amount.amount} of a {payment.status} payment cannot be refunded")
            payment.refunded += amount.amount
            self.refunds[payment.id] += 1
            return payment

        return self._post((intent.id, "refund", intent.refunded, amount.amount), "refund", intent, refund)

    # -- the machinery -----------------------------------------------------------------------------------

    def _payment(self, intent: PaymentIntent) -> Payment:
        payment = self.payments.get(intent.provider_ref)
        if payment is None:
            raise Refused("no such payment")
        return payment

    def _post(self, key: tuple[object, ...], what: str, intent: PaymentIntent,
              do: Callable[[], Payment]) -> PaymentResult:
        self.calls.append((what, intent.id))
        fault = self.faults.take()
        if fault == "down":
            raise PaymentUnavailable(f"yookassa down at {what}")
        now = self.clock.now()
        remembered = self.answers.get(key)
        if remembered is not None and now - remembered[0] < KEY_LIFE:
            answer = remembered[1]  # the same request again: the first answer, nothing done again
        else:
            try:
                payment = do()
            except Refused as e:
                if fault == "lost":
                    raise PaymentUnavailable(f"yookassa's answer to {what} lost") from e
                return _ours(intent, str(e))
            if what in ("capture", "void"):
                self.notifications.append(payment.id)  # YooKassa notifies of succeeded and canceled payments
            answer = payment.result()
            self.answers[key] = (now, answer)
        if fault == "lost":
            raise PaymentUnavailable(f"yookassa's answer to {what} lost")
        return answer


def _ours(intent: PaymentIntent, error: str = "") -> PaymentResult:
    """The adapter's answer to a refused request: the intent as we know it, with why."""
    return PaymentResult(intent.status, intent.provider_ref, error=error, refunded=intent.refunded,
                         amount=intent.amount.amount)


@dataclass
class Charge:
    """Money Telegram took for an invoice (one successful_payment)."""

    charge_id: str
    intent_id: str
    order_id: str
    amount: int
    refunded: int = 0
    delivered: int = 0  # how often the bot was told (successful_payment)


@dataclass
class InvoiceModel:
    """Telegram invoices through the bot's payment provider (see the module's docstring)."""

    name = "telegram"
    online = True
    two_stage = False
    link = "invoice_link"
    needs_email = False

    can_refund: bool = True  # the provider behind the token has an API the shop can refund through
    charges: dict[str, Charge] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    refund_keys: dict[str, PaymentResult] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def charges_of(self, order_id: str) -> list[Charge]:
        return [c for c in self.charges.values() if c.order_id == order_id]

    def take(self, intent_id: str, order_id: str, amount: int) -> Charge:
        """The customer paid an invoice Telegram's pre-checkout let through."""
        charge = Charge(f"tg-{len(self.charges) + 1:03d}", intent_id, order_id, amount)
        self.charges[charge.charge_id] = charge
        return charge

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        self.calls.append(("start", intent.id))
        if self.faults.take():
            raise PaymentUnavailable("telegram down at createInvoiceLink")
        return PaymentResult(PaymentStatus.PENDING, confirmation_url=f"https://t.me/$invoice-{intent.id}",
                             amount=intent.amount.amount)

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        """Telegram cannot be asked: our own state (as the adapter answers)."""
        self.calls.append(("status", intent.id))
        return PaymentResult(intent.status, intent.provider_ref, refunded=intent.refunded)

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        self.calls.append(("capture", intent.id))
        if intent.status is PaymentStatus.CAPTURED:
            return PaymentResult(PaymentStatus.CAPTURED, intent.provider_ref, refunded=intent.refunded)
        return PaymentResult(intent.status, intent.provider_ref, error="nothing to capture")

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        self.calls.append(("void", intent.id))
        if intent.status is PaymentStatus.PENDING:
            return PaymentResult(PaymentStatus.VOIDED, intent.provider_ref)
        return PaymentResult(intent.status, intent.provider_ref, refunded=intent.refunded,
                             error=f"a {intent.status.value} Telegram payment cannot be voided")

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        self.calls.append(("refund", intent.id))
        if not self.can_refund or not intent.provider_charge_id:
            return PaymentResult(intent.status, intent.provider_ref, error="manual", refunded=intent.refunded)
        fault = self.faults.take()
        if fault == "down":
            raise PaymentUnavailable("the provider's refund API is down")
        key = f"{intent.id}:refund:{intent.refunded}:{amount.amount}"
        answer = self.refund_keys.get(key)
        if answer is None:
            charge = self.charges[intent.charge_id]
            if not 0 < amount.amount <= charge.amount - charge.refunded:
                return PaymentResult(PaymentStatus.CAPTURED, intent.provider_ref, error="too much",
                                     refunded=intent.refunded)
            charge.refunded += amount.amount
            answer = PaymentResult(PaymentStatus.REFUNDED if charge.refunded >= charge.amount
                                   else PaymentStatus.CAPTURED, intent.provider_ref, refunded=charge.refunded,
                                   amount=charge.amount)
            self.refund_keys[key] = answer
        if fault == "lost":
            raise PaymentUnavailable("the provider's answer to a refund lost")
        return dataclasses.replace(answer)
