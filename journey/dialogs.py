"""Dialogs: a conversation that spans several messages (the owner's guided ``/item``, the broadcast text).

Kept in the database, not in memory, so a dialog survives a restart and works whichever instance the
next message reaches. One open dialog per account; a dialog left alone for ``DIALOG_TTL`` is forgotten.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .channels import CustomerRef

if TYPE_CHECKING:
    from .engine import Engine

DIALOG_TTL = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Dialog:
    account: str  # ``telegram:123``
    kind: str  # which scenario answers the next message: ``item``, ``broadcast``...
    state: dict[str, Any]  # that scenario's own JSON-able data (the step, what was entered so far)
    updated_at: datetime


async def dialog(self: Engine, actor: CustomerRef) -> Dialog | None:
    """The account's open dialog, or None (none open, or left alone too long)."""
    async with self.read() as uow:
        found = await uow.dialogs.get(actor.key)
    if found is None or self.now() - found.updated_at > DIALOG_TTL:
        return None
    return found


async def open_dialog(self: Engine, actor: CustomerRef, kind: str, state: dict[str, Any]) -> Dialog:
    """Start a dialog or move it to its next step (replaces whatever dialog the account had open)."""
    opened = Dialog(actor.key, kind, dict(state), self.now())
    async with self.uow() as uow:
        await uow.dialogs.save(opened)
    return opened


async def end_dialog(self: Engine, actor: CustomerRef) -> bool:
    """Close the account's dialog; True when one was open."""
    async with self.uow() as uow:
        return await uow.dialogs.delete(actor.key)
