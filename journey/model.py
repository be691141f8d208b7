"""Customers, orders, payments, promo codes, ledger entries and shop rules: plain dataclasses."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from .channels import Channel
from .money import Money
from .states import OrderStatus, PackStatus, PaymentStatus


@dataclass(slots=True)
class Customer:
    id: str
    name: str = ""
    language: str = "ru"
    source: str = ""  # first touch
    consent: bool = True  # may we send messages that were not asked for
    referral_code: str = ""
    referred_by: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Account:
    channel: Channel
    external_id: str
    customer_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class LinkCode:
    code: str
    customer_id: str
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True, slots=True)
class CartLine:
    """What the client sends: ids and quantities only, never prices."""

    item_id: str
    quantity: int = 1
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group id -> option ids


@dataclass(frozen=True, slots=True)
class OrderLine:
    item_id: str
    name: str
    options: tuple[str, ...]  # option names as chosen, for receipts and history
    option_ids: dict[str, tuple[str, ...]]
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Quote:
    """A priced cart: what the customer would pay, computed on the server."""

    lines: tuple[OrderLine, ...]
    subtotal: Money
    discount: Money
    points_spent: int  # in minor units (1 point = 1 kopeck)
    total: Money
    promo_code: str | None = None
    points_cap: int = 0  # the most points this cart could take
    birthday: int = 0  # minor units of ``discount`` that are the birthday offer (journey/loyalty.py)


@dataclass(slots=True)
class Order:
    id: str
    customer_id: str
    point_id: str
    status: OrderStatus
    lines: tuple[OrderLine, ...]
    subtotal: Money
    discount: Money
    points_spent: int
    total: Money
    pickup_at: datetime
    short_code: str
    created_at: datetime
    updated_at: datetime
    promo_code: str | None = None
    source: str = ""  # last touch
    payment_provider: str = "counter"
    account: str = ""  # "telegram:123": where the customer placed it, and hears about it
    history: list[tuple[OrderStatus, datetime]] = field(default_factory=list)


@dataclass(slots=True)
class PaymentIntent:
    id: str
    order_id: str
    provider: str
    amount: Money
    status: PaymentStatus
    idempotency_key: str
    provider_ref: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    link: str = ""  # where the customer pays: YooKassa's confirmation page or a Telegram invoice link
    refunded: int = 0  # minor units given back after capture (a partial refund keeps the status captured)
    charge_id: str = ""  # Telegram's telegram_payment_charge_id: fulfilled once per charge
    provider_charge_id: str = ""  # the payment provider's own id for a Telegram charge
    manual_refund: int = 0  # minor units the owner must give back by hand (no provider could refund them)
    settled: bool = False  # the provider's last word agrees with ours and cannot change any more


class PromoKind(str, Enum):
    PERCENT = "percent"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class Promo:
    code: str
    kind: PromoKind
    value: int  # percent (1..100) or minor units
    expires_at: datetime | None = None
    max_uses: int | None = None
    used: int = 0
    once_per_customer: bool = True
    active: bool = True


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    customer_id: str
    delta: int
    reason: str  # "earn", "spend", "refund", "referral", "adjust"
    order_id: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PackPurchase:
    """Points bought with Telegram Stars: the invoice's payload is the id."""

    id: str
    customer_id: str
    account: str  # the Telegram account that pays (channel:id): Stars are refunded to it
    points: int
    stars: int
    status: PackStatus
    charge_id: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ShopRules:
    """Shop data edited by the owner, with defaults."""

    name: str = "Vitrina"
    currency: str = "RUB"
    earn_percent: int = 5  # points earned per 100 kopecks paid (1 point = 1 kopeck)
    redeem_cap_percent: int = 30  # points pay at most this share of the order
    unpaid_timeout_minutes: int = 15  # an order waiting for an online payment expires after this
    # a counter order nobody accepted expires this long after the point was first open to see it (0: never)
    accept_timeout_minutes: int = 30
    max_open_orders: int = 3  # orders one customer may hold not yet picked up (0: no limit)
    referral_bonus: int = 10000  # points for both when the friend's first order is picked up
    timezone: str = "Europe/Moscow"
    stars_packs: str = ""  # points sold for Telegram Stars: "500:50,2000:180" (points:stars, comma-separated)
    # referrals that hold: friends one inviter is rewarded for per calendar month (0: no cap); beyond it
    # the friend still gets the bonus
    referral_monthly_cap: int = 10
    # group orders (journey/groups.py): the discount for everyone once this many people added their lines
    group_min_people: int = 3
    group_percent: int = 10
    group_window_minutes: int = 30  # how long friends may join after the group is opened
    # regulars (journey/regulars.py): an invitation to the closed chat after this many pickups (0: off)
    regulars_after: int = 10
    # points and suggestions (journey/loyalty.py): tiers "rubles:percent,..." replace earn_percent when set
    tiers: str = ""
    points_expire_days: int = 365  # points expire this long after they were credited, oldest first (0: never)
    birthday_percent: int = 10  # off one order within the birthday's window, once a year (0: off)
    birthday_days: int = 3  # the window: this many days before and after the birthday
    # gifts (journey/gifts.py): a gift not redeemed in this many days expires and its money goes back;
    # the amounts a gift of money may be (rubles, comma-separated)
    gift_days: int = 30
    gift_amounts: str = "300,500,1000"

    @classmethod
    def from_mapping(cls, values: dict[str, str]) -> ShopRules:
        kwargs: dict[str, object] = {}
        for name, f in cls.__dataclass_fields__.items():
            if name in values:
                kwargs[name] = int(values[name]) if f.type == "int" else values[name]
        return cls(**kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Visit:
    param: str
    kind: str
    channel: str
    customer_id: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Review:
    order_id: str
    item_id: str
    customer_id: str
    rating: int  # 1..5
    text: str = ""
    author: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    """Consent to the processing of personal data (152-FZ): which policy version, when, from which channel."""

    version: str
    given_at: datetime
    channel: str
