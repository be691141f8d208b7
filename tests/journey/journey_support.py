"""Helpers shared by the journey tests: the demo shop of ``tests/conftest.py`` and short ways to read state back.

Every conftest.py outside a package is imported under the one module name ``conftest``, so a plain
``from conftest import ...`` gets whichever was loaded last; the root one is found by its path instead.
"""
from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from journey.channels import CustomerRef
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.model import LedgerEntry
from journey.states import OrderStatus, PaymentStatus


def _root_conftest():
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    loaded = sys.modules.get("conftest")
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == path:
        return loaded
    spec = importlib.util.spec_from_file_location("vitrina_tests_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root = _root_conftest()
OWNER: CustomerRef = _root.OWNER
BARISTA: CustomerRef = _root.BARISTA
NOON = _root.NOON
FakeClock = _root.FakeClock
customer = _root.customer
seed = _root.seed
ITEMS = _root.ITEMS


@contextmanager
def refused(code: ErrorCode) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """The block must raise a DomainError with this code."""
    with pytest.raises(DomainError) as info:
        yield info
    assert info.value.code is code, f"{info.value.code} instead of {code}"


async def customer_id(engine: Engine, ref: CustomerRef) -> str | None:
    async with engine.uow() as uow:
        found = await uow.customers.by_account(ref.channel, ref.external_id)
    return found.id if found else None


async def balance(engine: Engine, ref: CustomerRef) -> int:
    async with engine.uow() as uow:
        found = await uow.customers.by_account(ref.channel, ref.external_id)
        return await uow.loyalty.balance(found.id) if found else 0


async def ledger(engine: Engine, ref: CustomerRef) -> list[LedgerEntry]:
    async with engine.uow() as uow:
        found = await uow.customers.by_account(ref.channel, ref.external_id)
        return await uow.loyalty.entries(found.id, 10_000) if found else []


async def give_points(engine: Engine, ref: CustomerRef, points: int) -> None:
    """An owner's adjustment written straight to the ledger (the customer is created if new)."""
    cid = (await engine.identify(ref)).id
    async with engine.uow() as uow:
        await uow.loyalty.add(LedgerEntry(cid, points, "adjust", None, engine.now()))


async def stock_of(engine: Engine, item_id: str = "croissant", point_id: str = "center") -> int | None:
    async with engine.uow() as uow:
        return (await uow.catalog.stock(point_id)).get(item_id)


async def event_types(engine: Engine, subscriber: str = "test") -> list[str]:
    async with engine.uow() as uow:
        return [e.type.value for e in await uow.outbox.pending(subscriber, 10_000)]


async def fulfil(engine: Engine, order_id: str, staff: CustomerRef = BARISTA) -> None:
    """Staff accept the order and mark it ready."""
    await engine.accept(staff, order_id)
    await engine.mark_ready(staff, order_id)


async def order_state(engine: Engine, order_id: str) -> tuple:
    """Everything a refused action must leave untouched."""
    async with engine.uow() as uow:
        order = await uow.orders.get(order_id)
        payment = await uow.payments.for_order(order_id)
        return (order.status, order.history, payment.status, await uow.loyalty.entries(order.customer_id, 1000),
                await uow.catalog.all_stock(), len(await uow.outbox.pending("test", 10_000)))


async def status(engine: Engine, order_id: str) -> tuple[OrderStatus, PaymentStatus]:
    """The order's status and its payment's, as the owner sees them."""
    view = await engine.order_view(OWNER, order_id)
    return view.order.status, view.payment.status
