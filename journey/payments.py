"""Payment providers: which methods a customer may choose, and paying at the counter, built in (it talks
to nothing outside). What a provider's answers do to an order is ``paying.py``'s."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .channels import Channel, CustomerRef
from .errors import DomainError, ErrorCode
from .model import PaymentIntent
from .money import Money
from .ports import Checkout, PaymentProvider, PaymentResult
from .states import PaymentStatus

if TYPE_CHECKING:
    from .engine import Engine

COUNTER = "counter"
# the providers whose payments exist only inside Telegram
TELEGRAM_ONLY = frozenset({"telegram", "stars"})


def available(engine: Engine, channel: Channel | str | None = None) -> list[str]:
    """The payment methods configured (``GET /api/config``), or those a customer in ``channel`` may choose:
    the counter first, then the online ones, Telegram's only inside Telegram; ``stars`` (points packs) last."""
    names = [*engine.providers, *(["stars"] if engine.stars is not None else [])]
    return [name for name in names if channel is None or name not in TELEGRAM_ONLY or channel == Channel.TELEGRAM]


def check_method(engine: Engine, ref: CustomerRef, name: str) -> PaymentProvider:
    """The provider an order may be paid with, or ``payment_provider_unknown`` saying why not."""
    if name == "stars":
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_UNKNOWN, "Telegram Stars pay for digital goods only")
    provider = engine.provider(name)
    if name in TELEGRAM_ONLY and ref.channel != Channel.TELEGRAM:
        raise DomainError(ErrorCode.PAYMENT_PROVIDER_UNKNOWN, f"{name} is paid inside Telegram only")
    return provider


def awaiting(engine: Engine, intent: PaymentIntent | None) -> bool:
    """Whether an order waits for its online payment: not shown to staff, not handed over, expires unpaid."""
    if intent is None or intent.status is not PaymentStatus.PENDING:
        return False
    provider = engine.providers.get(intent.provider)
    return provider is None or provider.online


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
