"""Prices are computed here and only here, from ids and quantities sent by the client.

Rounding: every amount the customer pays rounds down to a whole kopeck, so a percent discount and
the points cap round up; points earned round down (they are a reward, not a price).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from .catalog import Item
from .errors import DomainError, ErrorCode
from .model import CartLine, OrderLine, Promo, PromoKind, Quote, ShopRules
from .money import Money

MAX_QUANTITY = 99
MAX_LINES = 50


def ceil_percent(amount: int, percent: int) -> int:
    return -(-amount * percent // 100)


def floor_percent(amount: int, percent: int) -> int:
    return amount * percent // 100


def price_line(item: Item, line: CartLine) -> OrderLine:
    if not isinstance(line.quantity, int) or not 1 <= line.quantity <= MAX_QUANTITY:
        raise DomainError(ErrorCode.BAD_QUANTITY, f"{item.id}: {line.quantity!r}")
    unknown = set(line.options) - {g.id for g in item.option_groups}
    if unknown:
        raise DomainError(ErrorCode.BAD_OPTION, f"{item.id}: unknown group {sorted(unknown)[0]}")
    unit = item.price.amount
    names: list[str] = []
    chosen_ids: dict[str, tuple[str, ...]] = {}
    for group in item.option_groups:
        chosen = tuple(dict.fromkeys(line.options.get(group.id, ())))
        if not chosen and group.required and not group.multiple:
            chosen = (group.options[0].id,)
        if len(chosen) > 1 and not group.multiple:
            raise DomainError(ErrorCode.BAD_OPTION, f"{item.id}: one choice in {group.id}")
        if group.required and not chosen:
            raise DomainError(ErrorCode.BAD_OPTION, f"{item.id}: choose {group.id}")
        for option_id in chosen:
            option = group.option(option_id)
            if option is None:
                raise DomainError(ErrorCode.BAD_OPTION, f"{item.id}: {group.id}={option_id}")
            unit += option.price_delta
            names.append(option.name)
        if chosen:
            chosen_ids[group.id] = chosen
    if unit < 0:
        raise DomainError(ErrorCode.BAD_OPTION, f"{item.id}: negative price")
    return OrderLine(item.id, item.name, tuple(names), chosen_ids, line.quantity, Money(unit, item.price.currency))


def promo_discount(promo: Promo, subtotal: Money) -> Money:
    if promo.kind is PromoKind.PERCENT:
        return Money(min(subtotal.amount, ceil_percent(subtotal.amount, promo.value)), subtotal.currency)
    return Money(min(subtotal.amount, promo.value), subtotal.currency)


def check_promo(promo: Promo | None, code: str, now: datetime, uses_by_customer: int) -> Promo:
    if promo is None:
        raise DomainError(ErrorCode.PROMO_UNKNOWN, code)
    if not promo.active or (promo.expires_at is not None and now >= promo.expires_at):
        raise DomainError(ErrorCode.PROMO_EXPIRED, code)
    if promo.max_uses is not None and promo.used >= promo.max_uses:
        raise DomainError(ErrorCode.PROMO_EXHAUSTED, code)
    if promo.once_per_customer and uses_by_customer > 0:
        raise DomainError(ErrorCode.PROMO_ALREADY_USED, code)
    return promo


def quote(items: Mapping[str, Item], cart: Sequence[CartLine], rules: ShopRules, *,
          promo: Promo | None = None, balance: int = 0, points: int = 0, group_percent: int = 0,
          birthday_percent: int = 0, gift_cover: int = 0) -> Quote:
    """Price a cart. ``promo`` has been checked already; ``points`` are what the customer asks to spend;
    ``group_percent`` is a group order's discount (journey/groups.py), on top of a promo, never over the subtotal;
    ``birthday_percent`` the birthday offer (journey/loyalty.py), the same way, shown as its own line.
    ``gift_cover``: minor units a gift pays (journey/gifts.py), after every other discount."""
    if not cart:
        raise DomainError(ErrorCode.EMPTY_CART)
    if len(cart) > MAX_LINES:
        raise DomainError(ErrorCode.BAD_QUANTITY, "too many lines")
    lines = []
    for line in cart:
        item = items.get(line.item_id)
        if item is None:
            raise DomainError(ErrorCode.ITEM_NOT_FOUND, line.item_id)
        if not item.available:
            raise DomainError(ErrorCode.ITEM_UNAVAILABLE, line.item_id)
        lines.append(price_line(item, line))
    currencies = {l.unit_price.currency for l in lines}
    if len(currencies) != 1:
        raise DomainError(ErrorCode.BAD_INPUT, "items in different currencies cannot share an order")
    currency = currencies.pop()
    subtotal = Money(sum(l.total.amount for l in lines), currency)
    discount = promo_discount(promo, subtotal) if promo else Money.zero(currency)
    if group_percent:  # group orders: the percent of the whole subtotal, like a promo's, rounded the same way
        discount = Money(min(subtotal.amount, discount.amount + ceil_percent(subtotal.amount, group_percent)),
                         currency)
    birthday = 0
    if birthday_percent:  # the birthday offer: within what is left after the other discounts
        birthday = min(subtotal.amount - discount.amount, ceil_percent(subtotal.amount, birthday_percent))
        discount = Money(discount.amount + birthday, currency)
    if gift_cover:  # gifts: a friend's gift pays for the cart up to its amount (journey/gifts.py)
        discount = Money(discount.amount + min(subtotal.amount - discount.amount, gift_cover), currency)
    payable = subtotal.amount - discount.amount
    # points never pay more than is payable, whatever share the owner allows
    cap = min(balance, payable, ceil_percent(payable, rules.redeem_cap_percent))
    if not isinstance(points, int) or points < 0:
        raise DomainError(ErrorCode.BAD_INPUT, "points must be a whole number >= 0")
    if points > balance:
        raise DomainError(ErrorCode.POINTS_INSUFFICIENT)
    if points > cap:
        raise DomainError(ErrorCode.POINTS_OVER_CAP, f"at most {cap}")
    return Quote(tuple(lines), subtotal, discount, points, Money(payable - points, currency),
                 promo.code if promo else None, cap, birthday=birthday)


def points_earned(paid: Money, rules: ShopRules) -> int:
    return floor_percent(paid.amount, rules.earn_percent)
