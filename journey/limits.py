"""Abuse limits: token buckets per customer account and per client address, kept in the database
(``journey.ports.RateLimits``) so that every instance of ``vitrina run`` draws on the same ones.

A bucket holds ``burst`` tokens and gets ``per_hour`` of them back every hour; each request takes one. A
customer who is refused gets ``RateLimited`` (``rate_limited``, HTTP 429) with the seconds to wait; nothing
else is done. The defaults let a real shop work undisturbed (a barista scans hundreds of codes an hour, a
customer places a few orders, a café's Wi-Fi puts dozens of customers behind one address) and stop a script.

A take runs in a unit of work of its own, before the use case: a refused or failing request (an unknown item,
stock gone) still spent its token, so a script cannot hammer the engine with requests that fail. The buckets of
a customer are per account (``channel:id``): the account is what a request comes with, and looking up its
linked accounts first would cost a read per request.
"""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Concatenate, Literal, ParamSpec, TypeVar

from .channels import CustomerRef
from .errors import RateLimited

if TYPE_CHECKING:
    from .engine import Engine

P = ParamSpec("P")
T = TypeVar("T")
# a bucket untouched this long is full again under every limit below (the slowest refills within hours)
IDLE = timedelta(days=1)


def check_bucket(capacity: int, refill_per_second: float, cost: int) -> None:
    """What every ``RateLimits`` implementation refuses: a take that could never be allowed."""
    if not (0 < cost <= capacity) or not refill_per_second > 0:
        raise ValueError(f"a bucket needs 0 < cost <= capacity and a refill above 0 "
                         f"(got cost {cost}, capacity {capacity}, refill {refill_per_second})")


@dataclass(frozen=True, slots=True)
class Bucket:
    """``burst`` requests at once, then ``per_hour`` more every hour (evenly: one every 3600/per_hour s)."""

    burst: int
    per_hour: float

    def __post_init__(self) -> None:
        check_bucket(self.burst, self.per_hour / 3600, 1)

    @property
    def refill_per_second(self) -> float:
        return self.per_hour / 3600


@dataclass(frozen=True, slots=True)
class ShopLimits:
    """The limits of one deployment (settings ``VITRINA_LIMITS__...``, bot/settings.py). ``enabled=False``
    turns them all off (the benchmarks); a bare ``Engine`` has these defaults."""

    enabled: bool = True
    # per customer account, in the engine
    orders: Bucket = Bucket(30, 120)  # every use case that makes an order, a gift, a group order or buys points
    link_codes: Bucket = Bucket(10, 30)  # issuing and redeeming codes that link accounts (each its own bucket)
    pickup_lookups: Bucket = Bucket(300, 3600)  # staff finding an order by its QR token or short code
    reviews: Bucket = Bucket(20, 60)
    messages: Bucket = Bucket(30, 3600)  # chat messages and button presses: a flood gets one warning
    # per client address, on the Mini App API (webapp/limits.py): every /api call, and the costly ones
    address_api: Bucket = Bucket(1200, 72000)
    address_orders: Bucket = Bucket(60, 1200)
    address_link_codes: Bucket = Bucket(30, 600)
    address_pickup_lookups: Bucket = Bucket(600, 7200)
    address_reviews: Bucket = Bucket(60, 600)

    @classmethod
    def off(cls) -> ShopLimits:
        return cls(enabled=False)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ShopLimits:
        """``{"enabled": bool, "<name>": (burst, per_hour) | Bucket, ...}``; names left out keep their default."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown limits: {', '.join(sorted(unknown))}")
        changes: dict[str, Any] = {}
        for name, value in values.items():
            changes[name] = value if name == "enabled" or isinstance(value, Bucket) else Bucket(*value)
        return replace(cls(), **changes)


Kind = Literal["orders", "link_issue", "link_redeem", "pickup_lookups", "reviews"]
_BUCKET_OF: dict[str, str] = {"orders": "orders", "link_issue": "link_codes", "link_redeem": "link_codes",
                              "pickup_lookups": "pickup_lookups", "reviews": "reviews"}


async def take_each(engine: Engine, takes: list[tuple[str, Bucket]]) -> float:
    """A token of each bucket in turn, in a unit of work of its own, stopping at the first refusal: 0, or its
    wait."""
    async with engine.uow() as uow:
        now = engine.now().timestamp()
        for key, bucket in takes:
            wait = await uow.limits.take(key, bucket.burst, bucket.refill_per_second, now)
            if wait > 0:
                return wait
    return 0.0


async def enforce(engine: Engine, kind: Kind, ref: CustomerRef) -> None:
    """Take a token for this account's ``kind`` of request, or refuse with ``RateLimited``."""
    limits = engine.limits
    if not limits.enabled:
        return
    wait = await take_each(engine, [(f"{kind}:{ref.key}", getattr(limits, _BUCKET_OF[kind]))])
    if wait > 0:
        raise RateLimited(wait, kind)


def limited(kind: Kind, use_case: Callable[Concatenate[Engine, CustomerRef, P], Awaitable[T]],
            when: Callable[[dict[str, Any]], bool] | None = None,
            ) -> Callable[Concatenate[Engine, CustomerRef, P], Awaitable[T]]:
    """The use case behind this account's bucket of ``kind`` (``Engine`` wires them so); ``when`` (given the
    keyword arguments) says whether a call is limited at all, e.g. a hand-over by code but not by order id."""
    @functools.wraps(use_case)
    async def run(self: Engine, ref: CustomerRef, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if when is None or when(kwargs):
            await enforce(self, kind, ref)
        return await use_case(self, ref, *args, **kwargs)
    return run


def by_code(kwargs: dict[str, Any]) -> bool:
    """A hand-over that looks its order up by a token or a short code (not one pressed on the board)."""
    return kwargs.get("order_id") is None


MessageGate = Literal["ok", "warn", "quiet"]


async def message_gate(self: Engine, ref: CustomerRef) -> tuple[MessageGate, float]:
    """Whether a chat message of this account is answered, and the seconds until its bucket lets one more
    through: "ok"; "warn" for the first one over its bucket (told once to slow down); "quiet" for the rest,
    unanswered. The warning has a bucket of one that comes back only as fast as the whole message bucket
    refills, so a flood hears it once rather than a reply per flooded message."""
    limits = self.limits
    if not limits.enabled:
        return "ok", 0.0
    bucket = limits.messages
    async with self.uow() as uow:
        now = self.now().timestamp()
        wait = await uow.limits.take(f"messages:{ref.key}", bucket.burst, bucket.refill_per_second, now)
        if wait == 0:
            return "ok", 0.0
        warned = await uow.limits.take(f"messages-warned:{ref.key}", 1, bucket.refill_per_second / bucket.burst, now)
    return ("warn" if warned == 0 else "quiet"), wait


async def prune_buckets(engine: Engine) -> int:
    """Forget the buckets nobody touched for a day (full again by then); returns how many."""
    async with engine.uow() as uow:
        return await uow.limits.prune((engine.now() - IDLE).timestamp())
