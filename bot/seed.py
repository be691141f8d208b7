"""The demo coffee shop: the menu shipped in bot/demo/menu.yaml, a welcome promo code, shop rules."""
from __future__ import annotations

from pathlib import Path

from journey.engine import Engine
from journey.model import Promo, PromoKind

DEMO_MENU = Path(__file__).with_name("demo") / "menu.yaml"


async def seed_demo(engine: Engine) -> str:
    """Seed an empty database only. One that holds a shop (a pickup point, an item or an order: the demo
    seeded before, or a real shop whatever the mode) is left as it is, so a second run changes nothing."""
    from .menu_file import read_menu

    if await engine.holds_shop():
        return "the database already holds a shop (points, items or orders): nothing seeded, nothing changed"
    menu = read_menu(DEMO_MENU)
    count = await engine.import_menu(menu)
    await engine.set_rules(name="Кофейня «Витрина»")
    await engine.save_promo(Promo("WELCOME", PromoKind.PERCENT, 10, max_uses=1000))
    return f"demo shop seeded: {count} items at {len(menu.points)} pickup points, promo code WELCOME (-10%)"
