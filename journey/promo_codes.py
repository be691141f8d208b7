"""Promo codes as the owner runs them: create one from what they typed, list them with their uses, end one.

``/promo <CODE> <N%|N> [uses] [until YYYY-MM-DD]`` in the chat and ``vitrina promo add`` read the same
words (``promo_terms``). A code is 4..32 latin letters and digits; ``N%`` is 1..100 percent off, ``N``
rubles off; the last day ends at midnight in the shop's time zone. Ended codes keep their uses and are
never created again, so an order's code always means one thing. Each change is audited as ``promo:<CODE>``.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .audit import Snapshot, record, require_owner
from .errors import DomainError, ErrorCode
from .model import Promo, PromoKind
from .money import Money, parse_rubles
from .setup import WHOLE, Refusal

if TYPE_CHECKING:
    from .channels import CustomerRef
    from .engine import Engine

PROMO_CODE = re.compile(r"[A-Z0-9]{4,32}")


@dataclass(frozen=True, slots=True)
class PromoTerms:
    """``/promo <CODE> <N%|N> [uses] [until YYYY-MM-DD]`` read into its parts."""

    code: str
    value: str
    uses: str | None = None
    until: str | None = None


UNTIL = ("until", "до")


def promo_terms(words: Sequence[str]) -> PromoTerms:
    """The words after ``/promo`` (or ``vitrina promo add``): a code, a value, then uses and a date in any
    order, the date after ``until`` (``до``) or alone."""
    words = [w for w in words if w.strip()]
    if len(words) < 2:
        raise Refusal(ErrorCode.PROMO_INVALID,
                      "Напишите код и скидку: SPRING10 10% 100 until 2026-05-31 (10% или 150 ₽; число "
                      "использований и последний день можно не указывать).",
                      "Give a code and a discount: SPRING10 10% 100 until 2026-05-31 (10% or 150 rubles; the "
                      "number of uses and the last day may be left out).")
    code, value, rest = words[0], words[1], words[2:]
    uses = until = None
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.lower() in UNTIL and i + 1 < len(rest):
            until, i = rest[i + 1], i + 2
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", word) and until is None:
            until, i = word, i + 1
        elif uses is None and word.lower() not in UNTIL:
            uses, i = word, i + 1
        else:
            raise Refusal(ErrorCode.PROMO_INVALID, f"Лишнее в условиях промокода: {word!r}.",
                          f"Not understood in the promo's terms: {word!r}.")
    return PromoTerms(code, value, uses, until)


def parse_code(text: str) -> str:
    value = str(text).strip().upper()
    if not PROMO_CODE.fullmatch(value):
        raise Refusal(ErrorCode.PROMO_INVALID,
                      f"Промокод {text!r}: от 4 до 32 латинских букв и цифр, например SPRING10.",
                      f"Promo code {text!r}: 4 to 32 latin letters and digits, e.g. SPRING10.")
    return value


def parse_discount(text: str) -> tuple[PromoKind, int]:
    """``10%`` -> percent 1..100; ``150`` or ``149.90`` -> rubles off, in kopecks."""
    value = str(text).strip()
    if value.endswith("%"):
        number = value[:-1].strip()
        if WHOLE.fullmatch(number) and 1 <= int(number) <= 100:
            return PromoKind.PERCENT, int(number)
        raise Refusal(ErrorCode.PROMO_INVALID, f"Скидка в процентах — целое число от 1 до 100, а не {text!r}.",
                      f"A percent discount is a whole number from 1 to 100, not {text!r}.")
    try:
        amount = parse_rubles(value.removesuffix("₽").strip())
    except ValueError:
        amount = 0
    if amount <= 0:
        raise Refusal(ErrorCode.PROMO_INVALID,
                      f"Скидка — проценты (10%) или рубли больше нуля (150, 149,90), а не {text!r}.",
                      f"A discount is a percent (10%) or rubles above zero (150, 149.90), not {text!r}.")
    return PromoKind.FIXED, amount


def parse_uses(text: str | int | None) -> int | None:
    if text is None:
        return None
    value = str(text).strip()
    if not WHOLE.fullmatch(value) or int(value) < 1:
        raise Refusal(ErrorCode.PROMO_INVALID, f"Число использований — целое, от 1, а не {text!r}.",
                      f"The number of uses is a whole number, 1 or more, not {text!r}.")
    return int(value)


def parse_until(text: str | None, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The last day the code works, ``YYYY-MM-DD``: it ends at midnight after it, in the shop's zone."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(str(text).strip())
    except ValueError:
        raise Refusal(ErrorCode.PROMO_INVALID, f"Дата {text!r} не понятна: пишите ГГГГ-ММ-ДД, например 2026-12-31.",
                      f"Date {text!r} not understood: write YYYY-MM-DD, e.g. 2026-12-31.") from None
    if day < now.astimezone(zone).date():
        raise Refusal(ErrorCode.PROMO_INVALID, f"Дата {day.isoformat()} уже прошла.",
                      f"{day.isoformat()} is in the past.")
    return datetime.combine(day + timedelta(days=1), time(0), zone)


def promo_snapshot(promo: Promo) -> Snapshot:
    return {"code": promo.code, "kind": promo.kind.value, "value": promo.value,
            "expires_at": promo.expires_at.isoformat() if promo.expires_at else None,
            "max_uses": promo.max_uses, "once_per_customer": promo.once_per_customer, "active": promo.active}


@dataclass(frozen=True, slots=True)
class PromoLine:
    """A promo code as the owner's list shows it: ``active``, ``ended`` (by the owner), ``expired`` (its
    last day is past) or ``used_up``."""

    promo: Promo
    status: str

    @property
    def discount(self) -> str:
        return f"{self.promo.value}%" if self.promo.kind is PromoKind.PERCENT else Money(self.promo.value).format()

    def last_day(self, zone: ZoneInfo) -> date | None:
        """The last day the code works, in the shop's zone (it ends at the midnight after it)."""
        if self.promo.expires_at is None:
            return None
        return (self.promo.expires_at.astimezone(zone) - timedelta(microseconds=1)).date()


def promo_status(promo: Promo, now: datetime) -> str:
    if not promo.active:
        return "ended"
    if promo.expires_at is not None and now >= promo.expires_at:
        return "expired"
    if promo.max_uses is not None and promo.used >= promo.max_uses:
        return "used_up"
    return "active"


async def create_promo(self: Engine, actor: CustomerRef, terms: PromoTerms) -> PromoLine:
    """A new code; once per customer. A code is never reused, even ended: its history stays its own."""
    require_owner(self, actor)
    code = parse_code(terms.code)
    kind, value = parse_discount(terms.value)
    uses = parse_uses(terms.uses)
    async with self.uow() as uow:
        zone = ZoneInfo((await self.rules(uow)).timezone)
        promo = Promo(code, kind, value, parse_until(terms.until, zone, self.now()), uses)
        if await uow.promos.get(code) is not None:
            raise Refusal(ErrorCode.PROMO_EXISTS, f"Промокод {code} уже есть (или был): придумайте другой.",
                          f"Promo code {code} exists (or existed) already: choose another.")
        await uow.promos.save(promo)
        await record(self, uow, actor, "promo", f"promo:{code}", None, promo_snapshot(promo))
    return PromoLine(promo, promo_status(promo, self.now()))


async def end_promo(self: Engine, actor: CustomerRef, code: str) -> PromoLine:
    """Stop a code at once; its uses and the orders that had it stay as they were."""
    require_owner(self, actor)
    wanted = str(code).strip().upper()
    async with self.uow() as uow:
        promo = await uow.promos.get(wanted)
        if promo is None:
            raise DomainError(ErrorCode.PROMO_UNKNOWN, wanted)
        if not promo.active:
            raise Refusal(ErrorCode.PROMO_ENDED, f"Промокод {promo.code} уже завершён.",
                          f"Promo code {promo.code} has been ended already.")
        ended = replace(promo, active=False)
        await uow.promos.save(ended)
        await record(self, uow, actor, "promo_end", f"promo:{promo.code}", promo_snapshot(promo),
                     promo_snapshot(ended))
    return PromoLine(ended, "ended")


async def promos(self: Engine, actor: CustomerRef) -> list[PromoLine]:
    """Every code created, with its uses and status: active ones first, then by code."""
    require_owner(self, actor)
    async with self.read() as uow:
        found = await uow.promos.all()
    now = self.now()
    lines = [PromoLine(p, promo_status(p, now)) for p in found]
    return sorted(lines, key=lambda line: (line.status != "active", line.promo.code))
