"""Suggestions on the menu, from the shop's own pickups and nothing else: the customer's usual, what is often
taken together with an item (or a cart), and what is taken most at this hour of the shop's clock.

Each pickup adds to three small aggregates (``picked_up``, inside the hand-over's unit of work): the customer's
lines, the pairs of items in the order, the items by the hour it was placed. A suggestion reads a few indexed
rows of them, so its cost does not grow with the year's orders. Only what can be ordered at the chosen point
now is suggested (shown, not sold out there), and a suggestion needs something seen twice: a new customer, or
a new shop, gets empty lists rather than guesses.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .catalog import Item
from .channels import CustomerRef
from .errors import DomainError, ErrorCode
from .model import CartLine, Order, OrderLine, ShopRules
from .pricing import price_line

if TYPE_CHECKING:
    from .engine import Engine
    from .ports import UnitOfWork

AT_LEAST = 2  # seen fewer times than this, it is a coincidence, not a habit
USUAL, TOGETHER, NOW = 3, 4, 4  # how many of each
MAX_ITEMS = 20  # items a "together" question may name (a cart)


def options_key(option_ids: dict[str, tuple[str, ...]]) -> str:
    """Chosen options as canonical JSON: the same choice is the same line whatever order it came in."""
    return json.dumps({g: sorted(ids) for g, ids in sorted(option_ids.items()) if ids}, separators=(",", ":"),
                      sort_keys=True)


async def picked_up(uow: UnitOfWork, order: Order, now: datetime, rules: ShopRules) -> None:
    """Count a picked-up order toward the customer's usual, the pairs and the hour it was placed in."""
    hour = order.created_at.astimezone(ZoneInfo(rules.timezone)).hour
    quantities: dict[str, int] = {}
    for line in order.lines:
        quantities[line.item_id] = quantities.get(line.item_id, 0) + line.quantity
    await uow.suggestions.add_lines(order.customer_id, [(line.item_id, options_key(line.option_ids))
                                                        for line in order.lines], now)
    await uow.suggestions.add_pairs(sorted(quantities))
    await uow.suggestions.add_hour(hour, quantities)


@dataclass(frozen=True, slots=True)
class UsualLine:
    line: OrderLine  # priced now, with today's options and prices
    times: int


@dataclass(frozen=True, slots=True)
class Suggestions:
    usual: list[UsualLine]
    together: list[Item]
    now: list[Item]
    hour: int  # the shop's hour "now" is about


def _orderable(item: Item | None, stock: dict[str, int | None]) -> bool:
    return item is not None and item.available and stock.get(item.id, 1) != 0


async def suggestions(self: Engine, ref: CustomerRef, point_id: str | None, items: Sequence[str] = (),
                      now: datetime | None = None) -> Suggestions:
    """What the menu of ``point_id`` suggests to this customer; ``items`` (an item's screen, a cart) asks what
    is often taken with them."""
    if not point_id:
        raise DomainError(ErrorCode.BAD_INPUT, "point is required")
    wanted = list(dict.fromkeys(i for i in items if i))
    if len(wanted) > MAX_ITEMS:
        raise DomainError(ErrorCode.BAD_INPUT, f"at most {MAX_ITEMS} items")
    async with self.read() as uow:
        if await uow.catalog.point(point_id) is None:
            raise DomainError(ErrorCode.POINT_NOT_FOUND, point_id)
        rules = await self.rules(uow)
        hour = (now or self.now()).astimezone(ZoneInfo(rules.timezone)).hour
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        usual = await uow.suggestions.usual(customer.id, AT_LEAST, USUAL * 3) if customer else []
        together = await uow.suggestions.together(wanted, AT_LEAST, TOGETHER * 3 + len(wanted)) if wanted else []
        popular = await uow.suggestions.at_hour(hour, AT_LEAST, NOW * 3)
        ids = {i for i, _, _ in usual} | {i for i, _ in together} | {i for i, _ in popular}
        found = await uow.catalog.items_by_id(ids) if ids else {}
        stock = await uow.catalog.stock(point_id)
    lines: list[UsualLine] = []
    for item_id, options, times in usual:
        item = found.get(item_id)
        if not _orderable(item, stock):
            continue
        assert item is not None
        try:  # an option the owner removed since: that line is no longer what they used to take
            line = price_line(item, CartLine(item_id, 1, {g: tuple(ids) for g, ids in json.loads(options).items()}))
        except DomainError:
            continue
        lines.append(UsualLine(line, times))
    pick = [found[i] for i, _ in together if i not in wanted and _orderable(found.get(i), stock)]
    hot = [found[i] for i, _ in popular if _orderable(found.get(i), stock)]
    return Suggestions(lines[:USUAL], pick[:TOGETHER], hot[:NOW], hour)
