"""Payment providers. Paying at the counter is built in: it talks to nothing outside."""
from __future__ import annotations

from .model import PaymentIntent
from .money import Money
from .ports import Checkout, PaymentResult
from .states import PaymentStatus

COUNTER = "counter"


class CounterProvider:
    """The customer pays staff at hand-over: pending until then, captured by staff."""

    name = COUNTER
    online = False
    two_stage = False
    link = "confirmation_url"
    needs_email = False

    async def start(self, intent: PaymentIntent, checkout: Checkout) -> PaymentResult:
        return PaymentResult(PaymentStatus.PENDING)

    async def status(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(intent.status, refunded=intent.refunded)

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(PaymentStatus.CAPTURED)

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(PaymentStatus.VOIDED)

    async def refund(self, intent: PaymentIntent, amount: Money) -> PaymentResult:
        """Staff give the cash back."""
        refunded = intent.refunded + amount.amount
        whole = refunded >= intent.amount.amount
        return PaymentResult(PaymentStatus.REFUNDED if whole else PaymentStatus.CAPTURED, refunded=refunded)
