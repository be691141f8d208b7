"""The shop as its owner runs it: the menu, stock, rules, promo codes, staff."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from . import audit
from .catalog import POINT_ID, Category, Item, PickupPoint
from .channels import CustomerRef
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .menu import Menu, MenuEntry, validate
from .model import Promo, ShopRules
from .states import OrderStatus

if TYPE_CHECKING:
    from .engine import Engine
    from .ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class MenuView:
    """What a customer sees at one pickup point (or everywhere when no point is given)."""

    categories: list[Category]
    items: list[Item]
    stock: dict[str, int | None]  # item id -> quantity left at the point; absent means not counted
    points: list[PickupPoint]
    rules: ShopRules


async def menu(self: Engine, point_id: str | None = None, *, include_unavailable: bool = False) -> MenuView:
    async with self.read() as uow:
        points = await uow.catalog.points()
        if point_id is not None and point_id not in {p.id for p in points}:
            raise DomainError(ErrorCode.POINT_NOT_FOUND, point_id)
        stock = await uow.catalog.stock(point_id) if point_id else {}
        items = await uow.catalog.items(include_unavailable=include_unavailable)
        return MenuView(await uow.catalog.categories(), items, stock, points, await self.rules(uow))


async def menu_version(self: Engine) -> str:
    """A token that changes whenever the menu, the stock or the reviews (ratings) have changed, and not with
    other commits (orders of items made to order, payments, notifications ...). Asked of every menu
    request: a reader that can tell it without a unit of work (SQLite's, storage/sqlite/database.py) does."""
    cheap = getattr(self.reader, "menu_version", None)
    if cheap is not None:
        return str(await cheap())
    async with self.read() as uow:
        return await uow.catalog.version()


async def export_menu(self: Engine) -> Menu:
    async with self.read() as uow:
        stock = await uow.catalog.all_stock()
        points = await uow.catalog.points()
        entries = tuple(
            MenuEntry(item, {p.id: stock.get((p.id, item.id)) for p in points}, 0)
            for item in await uow.catalog.items(include_unavailable=True)
        )
        return Menu(tuple(await uow.catalog.categories()), entries, tuple(points))


async def import_menu(self: Engine, menu: Menu) -> int:
    """Replace the menu, all or nothing. Items missing from the file are switched off, not deleted,
    so past orders keep their names. Returns the number of items imported."""
    async with self.uow() as uow:
        known = {p.id for p in await uow.catalog.points()}
        validate(menu, known)
        for point in menu.points:
            await uow.catalog.save_point(point)
        for category in menu.categories:
            await uow.catalog.save_category(category)
        listed = set()
        for entry in menu.entries:
            await uow.catalog.save_item(entry.item)
            listed.add(entry.item.id)
            for point_id, quantity in entry.stock.items():
                await uow.catalog.set_stock(point_id, entry.item.id, quantity)
        for item in await uow.catalog.items(include_unavailable=True):
            if item.id not in listed and item.available:
                await uow.catalog.set_available(item.id, False)
        await self.emit(uow, DomainEvent(EventType.MENU_IMPORTED, {"items": len(listed)}, self.now()))
    return len(listed)


async def set_stock(self: Engine, point_id: str, item_id: str, quantity: int | None) -> None:
    if quantity is not None and (not isinstance(quantity, int) or quantity < 0):
        raise DomainError(ErrorCode.BAD_QUANTITY, repr(quantity))
    async with self.uow() as uow:
        if await uow.catalog.point(point_id) is None:
            raise DomainError(ErrorCode.POINT_NOT_FOUND, point_id)
        if not await uow.catalog.items_by_id([item_id]):
            raise DomainError(ErrorCode.ITEM_NOT_FOUND, item_id)
        await uow.catalog.set_stock(point_id, item_id, quantity)


async def set_available(self: Engine, item_id: str, available: bool) -> None:
    """Switch an item on or off for every point (off: sold out for the day, seasonal, withdrawn)."""
    async with self.uow() as uow:
        if not await uow.catalog.items_by_id([item_id]):
            raise DomainError(ErrorCode.ITEM_NOT_FOUND, item_id)
        await uow.catalog.set_available(item_id, available)


async def set_rules(self: Engine, **values: int | str) -> ShopRules:
    """Set shop rules by their field names, checking only that numbers are whole and not negative: for code
    and tests. What an owner types goes through ``setup.change_shop``, which holds each rule to its range
    and writes the change to the audit log."""
    allowed = {f.name: f for f in fields(ShopRules)}
    async with self.uow() as uow:
        for name, value in values.items():
            if name not in allowed:
                raise DomainError(ErrorCode.BAD_INPUT, f"unknown shop rule {name!r}")
            if allowed[name].type == "int" and (not isinstance(value, int) or value < 0):
                raise DomainError(ErrorCode.BAD_INPUT, f"{name} must be a whole number >= 0")
            await uow.settings.set(f"rule.{name}", str(value))
        return await self.rules(uow)


async def save_promo(self: Engine, promo: Promo) -> None:
    """Create or replace a promo code as it is given (the demo's, tests'). An owner's code goes through
    ``promo_codes.create_promo``, which reads what they typed, refuses a code used before and audits it."""
    if promo.kind.value == "percent" and not 1 <= promo.value <= 100:
        raise DomainError(ErrorCode.BAD_INPUT, "a percent promo is 1..100")
    if promo.value <= 0:
        raise DomainError(ErrorCode.BAD_INPUT, "a promo's value is positive")
    async with self.uow() as uow:
        await uow.promos.save(promo)


async def add_staff(self: Engine, account: CustomerRef, point_id: str = "*", *,
                    actor: CustomerRef | None = None) -> None:
    """Make an account staff at a point (``*``: every point). With an ``actor`` (an owner in the chat, or
    ``audit.CLI``) it is checked and audited as ``staff:<channel:id>``; without, it is code setting up."""
    if actor is not None:
        audit.require_owner(self, actor)
    async with self.uow() as uow:
        if point_id != "*" and (not POINT_ID.match(point_id) or await uow.catalog.point(point_id) is None):
            raise DomainError(ErrorCode.POINT_NOT_FOUND, point_id)
        before = await _points_of(uow, account)
        await uow.staff.add(account, point_id)
        if actor is not None and point_id not in before:
            await audit.record(self, uow, actor, "staff", f"staff:{account.key}", _staff_snapshot(before),
                               _staff_snapshot(before | {point_id}))


async def remove_staff(self: Engine, account: CustomerRef, point_id: str | None = None, *,
                       actor: CustomerRef | None = None) -> int:
    """Remove an account from staff at one point, or everywhere (``point_id`` None); returns how many
    places it served at that it no longer does (0: it was not staff there)."""
    if actor is not None:
        audit.require_owner(self, actor)
    async with self.uow() as uow:
        before = await _points_of(uow, account)
        removed = await uow.staff.remove(account, point_id)
        if actor is not None and removed:
            after = set() if point_id is None else before - {point_id}
            await audit.record(self, uow, actor, "staff_remove", f"staff:{account.key}", _staff_snapshot(before),
                               _staff_snapshot(after))
        return removed


async def _points_of(uow: UnitOfWork, account: CustomerRef) -> set[str]:
    key = (account.channel, account.external_id)
    return {point for ref, point in await uow.staff.list() if (ref.channel, ref.external_id) == key}


def _staff_snapshot(points: set[str]) -> dict[str, list[str]] | None:
    return {"points": sorted(points)} if points else None


async def list_staff(self: Engine) -> list[tuple[CustomerRef, str]]:
    async with self.read() as uow:
        return await uow.staff.list()


async def holds_shop(self: Engine) -> bool:
    """Whether the database holds a shop: a pickup point, an item (even one switched off) or an order.
    Seeding the demo into such a database would mix a made-up menu into a real shop's."""
    async with self.read() as uow:
        if await uow.catalog.points() or await uow.catalog.items(include_unavailable=True):
            return True
        for status in OrderStatus:
            if await uow.orders.ids_in_status(status):
                return True
    return False
