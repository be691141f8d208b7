"""Payment providers. Paying at the counter is built in: it talks to nothing outside."""
from __future__ import annotations

from .model import PaymentIntent
from .ports import PaymentResult
from .states import PaymentStatus

COUNTER = "counter"


class CounterProvider:
    """The customer pays staff at hand-over: pending until then, captured by staff."""

    name = COUNTER
    online = False
    two_stage = False

    async def start(self, intent: PaymentIntent, description: str) -> PaymentResult:
        return PaymentResult(PaymentStatus.PENDING)

    async def capture(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(PaymentStatus.CAPTURED)

    async def void(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(PaymentStatus.VOIDED)

    async def refund(self, intent: PaymentIntent) -> PaymentResult:
        return PaymentResult(PaymentStatus.REFUNDED)  # staff give the cash back
