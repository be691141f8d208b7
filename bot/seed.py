"""The demo coffee shop: the menu shipped in bot/demo/menu.yaml, a welcome promo code, shop rules."""
from __future__ import annotations

from pathlib import Path

from journey.engine import Engine
from journey.model import Promo, PromoKind

DEMO_MENU = Path(__file__).with_name("demo") / "menu.yaml"
SEEDED = "demo_seeded"


async def seed_demo(engine: Engine) -> str:
    """Seed once: a second run (or a shop that already has a menu) changes nothing."""
    from .menu_file import read_menu

    async with engine.read() as uow:
        if await uow.settings.get(SEEDED) or await uow.catalog.items(include_unavailable=True):
            return "the demo shop is already there: nothing changed"
    menu = read_menu(DEMO_MENU)
    count = await engine.import_menu(menu)
    await engine.set_rules(name="Кофейня «Витрина»")
    await engine.save_promo(Promo("WELCOME", PromoKind.PERCENT, 10, max_uses=1000))
    async with engine.uow() as uow:
        await uow.settings.set(SEEDED, "1")
    return f"demo shop seeded: {count} items at {len(menu.points)} pickup points, promo code WELCOME (-10%)"
