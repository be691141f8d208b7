"""What the chat and the Mini App read besides the menu and orders: the shop, a customer's language and balance.

Each read takes one snapshot (``Engine.read``) inside the engine, so no caller opens a unit of work or
touches a repository.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .catalog import PickupPoint
from .channels import CustomerRef
from .customers import language_of
from .model import ShopRules

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(frozen=True, slots=True)
class ShopView:
    """The shop without its menu: the rules and the pickup points, whose hours are kept in ``zone``."""

    rules: ShopRules
    points: list[PickupPoint]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.rules.timezone)

    def point(self, point_id: str) -> PickupPoint | None:
        return next((p for p in self.points if p.id == point_id), None)

    def point_name(self, point_id: str) -> str:
        """The point's name, or its id for a point removed since (an old order still names it)."""
        found = self.point(point_id)
        return found.name if found else point_id


async def shop_view(self: Engine) -> ShopView:
    """The rules and pickup points without loading the menu (two small queries)."""
    async with self.read() as uow:
        return ShopView(await self.rules(uow), await uow.catalog.points())


async def language(self: Engine, ref: CustomerRef) -> str:
    """The language the customer chose (``/lang``, ``PATCH /api/me``), else the one their app reports."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
    return customer.language if customer else language_of(ref.language)


async def balance(self: Engine, ref: CustomerRef) -> int:
    """The points balance (0 for someone we have not met)."""
    async with self.read() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        return await uow.loyalty.balance(customer.id) if customer else 0
