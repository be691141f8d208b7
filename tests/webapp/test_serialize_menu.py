"""The menu's JSON, built from items kept as JSON, is exactly what its answer model dumps: the same keys in
the same order and the same values, whatever the stock and the ratings, before and after they change."""
from __future__ import annotations

from bot.seed import seed_demo
from webapp import answers as a
from webapp import serialize
from webapp.views import dumps


def by_model(point_id, view, ratings) -> bytes:
    """The menu as ``a.Menu`` dumps it, every item validated again."""
    menu = a.Menu(point=point_id, categories=[a.Category(id=c.id, name=c.name) for c in view.categories],
                  items=[serialize._item(i, view.stock, ratings) for i in view.items])
    return dumps(menu.model_dump(mode="json")).encode()


async def test_the_menu_is_the_models_json_as_its_stock_and_ratings_change(db, clock):
    from journey.engine import Engine

    engine = Engine(db.uow, clock=clock, reader=db.reading)
    await engine.start()
    await seed_demo(engine)
    counted = next(iter((await engine.menu("center")).stock))
    ratings = {counted: (4.333333, 3), "missing": (1.0, 1)}
    for step in range(4):
        for point in ("center", None):
            view = await engine.menu(point)
            built = dumps(serialize.menu(point, view.categories, view.items, view.stock, ratings)).encode()
            assert built == by_model(point, view, ratings)
        await engine.set_stock("center", counted, step)  # sold out at 0, then 1, 2
        ratings = {counted: (float(step + 1), step + 2)} if step % 2 else {}
