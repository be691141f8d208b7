"""Reviews: only a customer who picked an item up may rate it, once per order."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .channels import CustomerRef
from .errors import DomainError, ErrorCode
from .events import DomainEvent, EventType
from .model import Review
from .states import OrderStatus

if TYPE_CHECKING:
    from .engine import Engine

MAX_TEXT = 1000


async def add_review(self: Engine, ref: CustomerRef, order_id: str, item_id: str, rating: int,
                     text: str = "") -> Review:
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise DomainError(ErrorCode.BAD_INPUT, "rating is 1..5")
    text = str(text or "").strip()[:MAX_TEXT]
    async with self.uow() as uow:
        customer = await uow.customers.by_account(ref.channel, ref.external_id)
        order = await uow.orders.get(order_id)
        if customer is None or order is None or order.customer_id != customer.id:
            raise DomainError(ErrorCode.ORDER_NOT_FOUND, order_id)
        if order.status is not OrderStatus.PICKED_UP or item_id not in {l.item_id for l in order.lines}:
            raise DomainError(ErrorCode.REVIEW_NOT_ALLOWED)
        if await uow.reviews.exists(order_id, item_id):
            raise DomainError(ErrorCode.REVIEW_EXISTS)
        review = Review(order_id, item_id, customer.id, rating, text, customer.name, self.now())
        await uow.reviews.add(review)
        await self.emit(uow, DomainEvent(EventType.REVIEW_ADDED, {
            "order_id": order_id, "item_id": item_id, "customer_id": customer.id, "rating": rating}, self.now()))
    return review


async def item_reviews(self: Engine, item_id: str, limit: int = 20) -> list[Review]:
    async with self.read() as uow:
        return await uow.reviews.for_item(item_id, limit)


async def ratings(self: Engine) -> dict[str, tuple[float, int]]:
    async with self.read() as uow:
        return await uow.reviews.ratings()
