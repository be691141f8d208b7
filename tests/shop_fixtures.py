"""The demo shop of the tests: a clock the test controls, customers, two points, four items, staff.

Kept out of conftest.py so every test folder can import it by one unique name.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from journey.catalog import Category, Item, OpeningHours, Option, OptionGroup, PickupPoint
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.money import Money

# A Wednesday, 09:00 in Moscow: every demo point is open.
NOON = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
OWNER = CustomerRef(Channel.TELEGRAM, "1", "Владелец")
BARISTA = CustomerRef(Channel.TELEGRAM, "2", "Бариста")


class FakeClock:
    def __init__(self, now: datetime = NOON) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def customer(n: int | str, channel: Channel = Channel.TELEGRAM, language: str = "ru") -> CustomerRef:
    return CustomerRef(channel, str(1000 + n) if isinstance(n, int) else n, f"Гость {n}", language)


SIZE = OptionGroup("size", "Размер", (Option("s", "S"), Option("m", "M", 4000), Option("l", "L", 8000)))
MILK = OptionGroup("milk", "Молоко", (Option("oat", "Овсяное", 6000), Option("almond", "Миндальное", 7000)),
                   required=False)
SYRUP = OptionGroup("syrup", "Сироп", (Option("vanilla", "Ваниль", 3000), Option("caramel", "Карамель", 3000)),
                    required=False, multiple=True)
DAILY = OpeningHours(((time(7), time(22)),) * 7)
POINTS = (PickupPoint("center", "Центр", "ул. Пушкина, 10", 55.76, 37.61, DAILY, 5),
          PickupPoint("park", "Парк", "Парковая ул., 3", None, None, DAILY, 10))
CATEGORIES = (Category("coffee", "Кофе", 0), Category("bakery", "Выпечка", 1))
ITEMS = (
    Item("latte", "coffee", "Латте", Money(25000), option_groups=(SIZE, MILK, SYRUP)),
    Item("espresso", "coffee", "Эспрессо", Money(15000)),
    Item("croissant", "bakery", "Круассан", Money(18000)),
    Item("eclair", "bakery", "Эклер", Money(16990)),
)


async def seed(engine: Engine, croissants: int | None = 10) -> None:
    async with engine.uow() as uow:
        for p in POINTS:
            await uow.catalog.save_point(p)
        for c in CATEGORIES:
            await uow.catalog.save_category(c)
        for i in ITEMS:
            await uow.catalog.save_item(i)
        await uow.catalog.set_stock("center", "croissant", croissants)
        await uow.catalog.set_stock("park", "croissant", 3)
    await engine.add_staff(BARISTA, "center")
