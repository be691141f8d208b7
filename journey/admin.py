"""The owner's menu edits from the chat: price, visibility, stock, and adding or editing an item.

Each use case refuses anyone but an owner (whatever the channel checked), reads what the owner typed
with the menu file's own rules and messages (``journey.menu``, ``journey.money``), and writes the change
and its audit entry in one unit of work, so ``/undo`` can take it back. A change that changes nothing
writes nothing. ``<item>`` is an item's id or its exact name in any case; hidden items count too.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .audit import Change, item_snapshot, record, require_owner, stock_snapshot
from .catalog import Category, Item, PickupPoint
from .channels import CustomerRef
from .errors import DomainError, ErrorCode
from .menu import check_item, parse_options, slugify
from .money import Money, parse_rubles

if TYPE_CHECKING:
    from .catalog import OptionGroup
    from .engine import Engine
    from .ports import UnitOfWork

SHORT_ID = 40  # new ids stay short: a button's callback data (action and id) fits Telegram's 64 bytes
OFF = "off"  # ``/stock latte off``: the item is no longer counted


@dataclass(frozen=True, slots=True)
class Edit:
    """What one change did: the item as it is now, and the audit entry (None when it already was so)."""

    item: Item
    change: Change | None
    point: PickupPoint | None = None  # the pickup point of a stock change


@dataclass(frozen=True, slots=True)
class ItemRow:
    item: Item
    category: Category | None
    stock: dict[str, int | None]  # point id -> quantity left; None: not counted


@dataclass(frozen=True, slots=True)
class OwnerMenu:
    """The menu as the owner's panel shows it: every item, hidden ones too, with stock per point."""

    categories: list[Category]
    rows: list[ItemRow]
    points: list[PickupPoint]

    def row(self, item_id: str) -> ItemRow | None:
        return next((r for r in self.rows if r.item.id == item_id), None)

    def find(self, text: str) -> ItemRow:
        found = self.row(resolve((r.item for r in self.rows), text).id)
        assert found is not None
        return found

    def category(self, text: str) -> Category | None:
        return find_category(self.categories, text)

    def point_name(self, point_id: str) -> str:
        return next((p.name for p in self.points if p.id == point_id), point_id)


# --- reading what the owner typed (the menu file's rules and messages) --------------------------------

def resolve(items: Iterable[Item], text: str) -> Item:
    """The item named by its id or by its exact name in any case; an id wins over a name."""
    wanted = " ".join(str(text).split()).casefold()
    if not wanted:
        raise DomainError(ErrorCode.BAD_INPUT, "name an item: its id or its name")
    items = list(items)
    by_id = [i for i in items if i.id.casefold() == wanted]
    if by_id:
        return by_id[0]
    named = [i for i in items if " ".join(i.name.split()).casefold() == wanted]
    if not named:
        raise DomainError(ErrorCode.ITEM_NOT_FOUND, str(text).strip())
    if len(named) > 1:
        raise DomainError(ErrorCode.BAD_INPUT, f"{str(text).strip()!r} is the name of several items: "
                                               f"{', '.join(i.id for i in named)}; name one by its id")
    return named[0]


def find_category(categories: Iterable[Category], text: str) -> Category | None:
    wanted = str(text).strip().casefold()
    return next((c for c in categories if wanted in (c.id.casefold(), c.name.strip().casefold())), None)


def parse_price(text: str) -> Money:
    try:
        return Money(parse_rubles(text))
    except ValueError as exc:
        raise DomainError(ErrorCode.BAD_INPUT, f"price: {exc}") from None


def parse_count(text: str) -> int | None:
    """A quantity left (a whole number, zero or more), or None for ``off``: not counted."""
    value = str(text).strip()
    if value.lower() == OFF:
        return None
    if not re.fullmatch(r"\d{1,9}", value):
        raise DomainError(ErrorCode.BAD_INPUT, f"stock must be a whole number, zero or more, or off; got {value!r}")
    return int(value)


def parse_groups(text: str) -> tuple[OptionGroup, ...]:
    """Option groups in the menu file's one-line syntax; "" is none."""
    try:
        return parse_options(text)
    except ValueError as exc:
        raise DomainError(ErrorCode.BAD_INPUT, f"options: {exc}") from None


def parse_name(text: str) -> str:
    name = " ".join(str(text).split())
    _check(Item("name", "category", name, Money(0)))
    return name


def parse_category(text: str) -> str:
    name = " ".join(str(text).split())
    if not name:
        raise DomainError(ErrorCode.BAD_INPUT, "category: required, may not be empty")
    return name


def _check(item: Item) -> None:
    problems = check_item(item)
    if problems:
        raise DomainError(ErrorCode.BAD_INPUT, "; ".join(f"{field}: {message}" for field, message in problems))


def _unique(base: str, taken: set[str]) -> str:
    base = slugify(base)[:SHORT_ID].rstrip("-") or "item"
    n, found = 1, base
    while found in taken:
        n += 1
        found = f"{base}-{n}"
    return found


# --- use cases ----------------------------------------------------------------------------------------

async def change_price(self: Engine, actor: CustomerRef, item: str, price_text: str) -> Edit:
    require_owner(self, actor)
    price = parse_price(price_text)
    async with self.uow() as uow:
        found = resolve(await uow.catalog.items(include_unavailable=True), item)
        return await _save(self, uow, actor, "price", found, replace(found, price=price))


async def set_visible(self: Engine, actor: CustomerRef, item: str, visible: bool) -> Edit:
    """Show an item on the menu or hide it from every point (sold out for the day, seasonal)."""
    require_owner(self, actor)
    async with self.uow() as uow:
        found = resolve(await uow.catalog.items(include_unavailable=True), item)
        return await _save(self, uow, actor, "show" if visible else "hide", found, replace(found, available=visible))


async def change_stock(self: Engine, actor: CustomerRef, item: str, count_text: str,
                       point: str | None = None) -> Edit:
    """Set what is left of an item at a point, or stop counting it (``off``). A shop with one pickup point
    may leave the point out; with several, the owner names one."""
    require_owner(self, actor)
    quantity = parse_count(count_text)
    async with self.uow() as uow:
        found = resolve(await uow.catalog.items(include_unavailable=True), item)
        points = await uow.catalog.points()
        if point is None:
            if not points:
                raise DomainError(ErrorCode.BAD_INPUT, "the shop has no pickup points yet")
            if len(points) > 1:
                known = ", ".join(p.id for p in points)
                raise DomainError(ErrorCode.BAD_INPUT, f"the shop has several pickup points, name one: {known}")
            at = points[0]
        else:
            at_point = next((p for p in points if p.id == point.strip().lower()), None)
            if at_point is None:
                raise DomainError(ErrorCode.POINT_NOT_FOUND, point.strip())
            at = at_point
        stock = await uow.catalog.stock(at.id)
        before, after = stock_snapshot(stock.get(found.id)), stock_snapshot(quantity)
        if before == after:
            return Edit(found, None, at)
        await uow.catalog.set_stock(at.id, found.id, quantity)
        change = await record(self, uow, actor, "stock", f"stock:{at.id}:{found.id}", before, after)
        return Edit(found, change, at)


async def save_item(self: Engine, actor: CustomerRef, category: str | None, name: str | None,
                    price_text: str | None, description: str | None, options_text: str | None,
                    item_id: str | None = None) -> Edit:
    """Add an item (``item_id`` None) or edit one; for an edit, None keeps a field as it is. The category
    is named by its id or name; a name not yet used makes a new category. Options are written in the menu
    file's one-line syntax. A new item gets a short id made from its name."""
    require_owner(self, actor)
    if item_id is None and (category is None or name is None or price_text is None):
        raise DomainError(ErrorCode.BAD_INPUT, "a new item needs a category, a name and a price")
    category_name = None if category is None else parse_category(category)
    new_name = None if name is None else parse_name(name)
    price = None if price_text is None else parse_price(price_text)
    groups = None if options_text is None else parse_groups(options_text)
    async with self.uow() as uow:
        items = await uow.catalog.items(include_unavailable=True)
        before = None
        if item_id is not None:
            before = next((i for i in items if i.id == item_id), None)
            if before is None:
                raise DomainError(ErrorCode.ITEM_NOT_FOUND, item_id)
            base = before
        else:
            assert new_name is not None
            position = max((i.position for i in items), default=-1) + 1
            base = Item(_unique(new_name, {i.id for i in items}), "", new_name, Money(0), position=position)
        changed = replace(base, name=new_name if new_name is not None else base.name,
                          price=price if price is not None else base.price,
                          description=base.description if description is None else description.strip(),
                          option_groups=base.option_groups if groups is None else groups)
        if category_name is not None:
            categories = await uow.catalog.categories()
            picked = find_category(categories, category_name)
            if picked is None:
                position = max((c.position for c in categories), default=-1) + 1
                picked = Category(_unique(category_name, {c.id for c in categories}), category_name, position)
                await uow.catalog.save_category(picked)  # rolled back with the item if the item is refused
            changed = replace(changed, category_id=picked.id)
        return await _save(self, uow, actor, "item", before, changed)


async def _save(self: Engine, uow: UnitOfWork, actor: CustomerRef, action: str, before: Item | None,
                after: Item) -> Edit:
    _check(after)
    if before is not None and item_snapshot(before) == item_snapshot(after):
        return Edit(after, None)
    await uow.catalog.save_item(after)
    change = await record(self, uow, actor, action, f"item:{after.id}", item_snapshot(before), item_snapshot(after))
    return Edit(after, change)


# --- reads for the owner's panel ----------------------------------------------------------------------

async def owner_menu(self: Engine, actor: CustomerRef) -> OwnerMenu:
    require_owner(self, actor)
    async with self.read() as uow:
        categories = await uow.catalog.categories()
        items = await uow.catalog.items(include_unavailable=True)
        points = await uow.catalog.points()
        stock = await uow.catalog.all_stock()
    order = {c.id: n for n, c in enumerate(categories)}
    by_id = {c.id: c for c in categories}
    rows = [ItemRow(i, by_id.get(i.category_id), {p.id: stock.get((p.id, i.id)) for p in points})
            for i in sorted(items, key=lambda i: order.get(i.category_id, len(order)))]
    return OwnerMenu(categories, rows, points)


async def owner_item(self: Engine, actor: CustomerRef, item: str) -> ItemRow:
    """One item as the panel shows it, named by id or name (the owner's own words)."""
    return (await owner_menu(self, actor)).find(item)
