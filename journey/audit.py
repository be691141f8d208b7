"""The owner's audit log and undo: every change an owner makes is written down (who, when, what before,
what after) in the same transaction as the change, and a menu change can be taken back.

Targets name what changed: ``item:<id>`` (the whole item: price, name, visibility, photo, options),
``stock:<point>:<item>``, and for the shop's other settings ``shop:<key>``, ``point:<id>``,
``promo:<CODE>``, ``staff:<channel:id>``. Only ``item:`` and ``stock:`` changes are undone by ``/undo``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .catalog import Item, Option, OptionGroup
from .channels import Channel, CustomerRef
from .errors import DomainError, ErrorCode
from .money import Money

if TYPE_CHECKING:
    from .engine import Engine
    from .ports import UnitOfWork

UNDOABLE = ("item:", "stock:")
# the ``vitrina`` command line, run by whoever holds the server: allowed what an owner is, and named so in
# the audit log (``cli:owner``); no chat account can be it (``cli`` is no channel's name)
CLI = CustomerRef(Channel("cli"), "owner")
Snapshot = dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the audit log. ``before`` is None for something created, ``after`` for something removed."""

    actor: str  # the owner's account, ``telegram:123``
    action: str  # what the owner did: ``price``, ``hide``, ``show``, ``stock``, ``item``, ``photo``, ``undo``...
    target: str
    before: Snapshot
    after: Snapshot
    at: datetime
    id: int = 0
    undone: bool = False

    @property
    def undoable(self) -> bool:
        return self.target.startswith(UNDOABLE) and self.action != "undo"


def require_owner(engine: Engine, actor: CustomerRef) -> None:
    """The engine's own rule, whatever the channel checked: only ``VITRINA_OWNERS`` (and the command line)
    change the shop."""
    if (actor.channel, actor.external_id) != (CLI.channel, CLI.external_id) and not engine.is_owner(actor):
        raise DomainError(ErrorCode.NOT_OWNER, actor.key)


async def record(engine: Engine, uow: UnitOfWork, actor: CustomerRef, action: str, target: str,
                 before: Snapshot, after: Snapshot) -> Change:
    """Write one change into the log, inside the caller's unit of work (all or nothing with the change)."""
    change = Change(actor.key, action, target, before, after, engine.now())
    return Change(change.actor, action, target, before, after, change.at, await uow.audit.add(change))


# --- item snapshots: what an item was, as plain JSON-able data ---------------------------------------

def item_snapshot(item: Item | None) -> Snapshot:
    if item is None:
        return None
    return {
        "id": item.id, "category_id": item.category_id, "name": item.name, "price": item.price.amount,
        "currency": item.price.currency, "description": item.description, "photo": item.photo,
        "option_groups": [{"id": g.id, "name": g.name, "required": g.required, "multiple": g.multiple,
                           "options": [[o.id, o.name, o.price_delta] for o in g.options]}
                          for g in item.option_groups],
        "tags": list(item.tags), "available": item.available, "position": item.position,
    }


def item_from_snapshot(s: dict[str, Any]) -> Item:
    groups = tuple(OptionGroup(g["id"], g["name"], tuple(Option(*o) for o in g["options"]), g["required"],
                               g["multiple"]) for g in s["option_groups"])
    return Item(s["id"], s["category_id"], s["name"], Money(s["price"], s["currency"]), s["description"],
                s["photo"], groups, tuple(s["tags"]), s["available"], s["position"])


# --- use cases ----------------------------------------------------------------------------------------

async def undo(self: Engine, actor: CustomerRef) -> Change:
    """Take back this owner's last menu change that is not undone yet. Refused (``conflict``) when someone
    changed the same thing since, so an undo never overwrites another owner's later work."""
    require_owner(self, actor)
    async with self.uow() as uow:
        change = await uow.audit.last_undoable(actor.key)
        if change is None:
            raise DomainError(ErrorCode.NOTHING_TO_UNDO)
        now = await _current(uow, change.target)
        if now != change.after:
            raise DomainError(ErrorCode.CONFLICT, f"{change.target} changed since")
        await _restore(uow, change.target, change.before)
        await uow.audit.mark_undone(change.id)
        return await record(self, uow, actor, "undo", change.target, change.after, change.before)


async def changes(self: Engine, actor: CustomerRef, limit: int = 20) -> list[Change]:
    """The latest entries of the audit log, newest first (owners only)."""
    require_owner(self, actor)
    async with self.read() as uow:
        return await uow.audit.recent(limit)


async def _current(uow: UnitOfWork, target: str) -> Snapshot:
    kind, _, rest = target.partition(":")
    if kind == "item":
        return item_snapshot((await uow.catalog.items_by_id([rest])).get(rest))
    point_id, _, item_id = rest.partition(":")
    stock = await uow.catalog.stock(point_id)
    return stock_snapshot(stock.get(item_id)) if item_id in stock else stock_snapshot(None)


def stock_snapshot(quantity: int | None) -> Snapshot:
    """A counted quantity, or ``{"quantity": None}`` for an item that is not counted."""
    return {"quantity": quantity}


async def _restore(uow: UnitOfWork, target: str, before: Snapshot) -> None:
    kind, _, rest = target.partition(":")
    if kind == "item":
        if before is None:  # the change created the item: it goes off the menu (past orders keep its name)
            await uow.catalog.set_available(rest, False)
        else:
            await uow.catalog.save_item(item_from_snapshot(before))
        return
    point_id, _, item_id = rest.partition(":")
    await uow.catalog.set_stock(point_id, item_id, None if before is None else before["quantity"])
