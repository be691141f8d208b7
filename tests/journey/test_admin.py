"""The owner's menu edits as engine use cases: naming an item, reading input by the menu file's rules,
one audited unit of work per change, and what each refuses."""
from __future__ import annotations

import pytest
from journey_support import OWNER, customer

from journey.catalog import Category, Item, PickupPoint
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.money import Money, parse_rubles
from storage.sqlite import SqliteDatabase


async def state(engine: Engine) -> tuple:
    """Everything an owner's edit may touch: items (hidden too), categories, stock, the audit log."""
    menu = await engine.owner_menu(OWNER)
    return ([(r.item, r.stock) for r in menu.rows], menu.categories, await engine.changes(OWNER, 100))


async def refused(call, code: ErrorCode) -> DomainError:
    with pytest.raises(DomainError) as e:
        await call
    assert e.value.code is code, e.value
    return e.value


async def test_an_item_is_named_by_its_id_or_its_exact_name_in_any_case(engine):
    for text, price in (("LATTE", "251"), ("латте", "252"), ("  Латте ", "253")):
        edit = await engine.change_price(OWNER, text, price)
        assert edit.item.id == "latte" and edit.item.price == Money(parse_rubles(price))
    await engine.set_visible(OWNER, "espresso", False)
    assert (await engine.change_price(OWNER, "эспрессо", "160")).item.id == "espresso"  # hidden ones too

    before = await state(engine)
    e = await refused(engine.change_price(OWNER, "Латтэ", "260"), ErrorCode.ITEM_NOT_FOUND)
    assert e.detail == "Латтэ"
    await refused(engine.change_price(OWNER, "", "260"), ErrorCode.BAD_INPUT)
    assert await state(engine) == before


async def test_a_name_two_items_share_is_refused_naming_both_and_the_id_still_works(engine):
    await engine.save_item(OWNER, "Выпечка", "латте", "90", "", "")
    before = await state(engine)
    e = await refused(engine.set_visible(OWNER, "ЛАТТЕ", False), ErrorCode.BAD_INPUT)
    assert "latte" in e.detail and "latte-2" in e.detail
    assert await state(engine) == before
    assert (await engine.set_visible(OWNER, "latte-2", False)).item.name == "латте"


@pytest.mark.parametrize("typed", ["12,345", "-5", "abc", "", "1e3", "1234567890", "12.3.4"])
async def test_a_price_is_read_as_the_menu_file_reads_it(engine, typed):
    with pytest.raises(ValueError) as menu_file:
        parse_rubles(typed)
    before = await state(engine)
    e = await refused(engine.change_price(OWNER, "latte", typed), ErrorCode.BAD_INPUT)
    assert e.detail == f"price: {menu_file.value}"  # the same words as a menu file's problem
    assert await state(engine) == before


@pytest.mark.parametrize("typed, kopecks", [("249,90", 24990), ("249.9", 24990), (" 1 000 ", 100000), ("0", 0)])
async def test_prices_the_menu_file_accepts_are_accepted(engine, typed, kopecks):
    assert (await engine.change_price(OWNER, "eclair", typed)).item.price == Money(kopecks)


async def test_each_change_is_logged_with_its_before_and_after_and_undone_in_turn(engine):
    await engine.change_price(OWNER, "latte", "260")
    await engine.set_visible(OWNER, "espresso", False)
    await engine.change_stock(OWNER, "croissant", "4", "center")
    await engine.change_stock(OWNER, "круассан", "off", "park")
    log = await engine.changes(OWNER)
    assert [(c.action, c.target, c.actor) for c in log] == [
        ("stock", "stock:park:croissant", OWNER.key), ("stock", "stock:center:croissant", OWNER.key),
        ("hide", "item:espresso", OWNER.key), ("price", "item:latte", OWNER.key)]
    assert (log[0].before, log[0].after) == ({"quantity": 3}, {"quantity": None})
    assert (log[1].before, log[1].after) == ({"quantity": 10}, {"quantity": 4})
    assert (log[2].before["available"], log[2].after["available"]) == (True, False)
    assert (log[3].before["price"], log[3].after["price"]) == (25000, 26000)

    menu = await engine.owner_menu(OWNER)
    assert menu.find("croissant").stock == {"center": 4, "park": None}
    assert not menu.find("espresso").item.available and menu.find("latte").item.price == Money(26000)
    for _ in range(4):
        await engine.undo(OWNER)
    menu = await engine.owner_menu(OWNER)
    assert menu.find("croissant").stock == {"center": 10, "park": 3}
    assert menu.find("espresso").item.available and menu.find("latte").item.price == Money(25000)
    await refused(engine.undo(OWNER), ErrorCode.NOTHING_TO_UNDO)


async def test_a_change_that_changes_nothing_writes_nothing(engine):
    assert (await engine.change_price(OWNER, "latte", "250")).change is None
    assert (await engine.set_visible(OWNER, "latte", True)).change is None
    assert (await engine.change_stock(OWNER, "croissant", "10", "center")).change is None
    assert (await engine.change_stock(OWNER, "latte", "off", "center")).change is None
    assert (await engine.save_item(OWNER, None, None, None, None, None, item_id="latte")).change is None
    assert await engine.changes(OWNER) == []


@pytest.mark.parametrize("typed", ["-1", "lots", "1.5", "", "+3", "1234567890"])
async def test_stock_is_a_whole_number_zero_or_more_or_off(engine, typed):
    before = await state(engine)
    e = await refused(engine.change_stock(OWNER, "croissant", typed, "center"), ErrorCode.BAD_INPUT)
    assert e.detail.startswith("stock must be a whole number, zero or more, or off")
    assert await state(engine) == before


async def test_with_several_points_the_point_is_named_and_must_exist(engine):
    before = await state(engine)
    e = await refused(engine.change_stock(OWNER, "croissant", "5"), ErrorCode.BAD_INPUT)
    assert "center, park" in e.detail
    e = await refused(engine.change_stock(OWNER, "croissant", "5", "mall"), ErrorCode.POINT_NOT_FOUND)
    assert e.detail == "mall"
    assert await state(engine) == before
    assert (await engine.change_stock(OWNER, "croissant", "0", "PARK")).point.id == "park"


async def test_the_only_point_may_be_left_out(tmp_path, clock):
    db = SqliteDatabase(tmp_path / "one.db")
    await db.connect()
    try:
        engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading)
        await engine.start()
        async with engine.uow() as uow:
            await uow.catalog.save_point(PickupPoint("kiosk", "Киоск"))
            await uow.catalog.save_category(Category("coffee", "Кофе"))
            await uow.catalog.save_item(Item("latte", "coffee", "Латте", Money(25000)))
        edit = await engine.change_stock(OWNER, "Латте", "7")
        assert edit.point.id == "kiosk" and (await engine.owner_menu(OWNER)).find("latte").stock == {"kiosk": 7}
    finally:
        await db.close()


async def test_a_new_item_gets_a_short_unique_id_its_category_by_id_name_or_a_new_one(engine):
    by_id = await engine.save_item(OWNER, "coffee", "Латте", "270", "", "")
    assert by_id.item.id == "latte-2" and by_id.item.category_id == "coffee"
    by_name = await engine.save_item(OWNER, "выпечка", "Раф ванильный", "260", " С ванилью ",
                                     "Размер: S, M +40; Молоко [optional]: обычное, овсяное +60")
    item = by_name.item
    assert (item.id, item.category_id, item.description, item.price) == ("raf-vanilnyy", "bakery", "С ванилью",
                                                                           Money(26000))
    assert [(g.name, g.required, [(o.name, o.price_delta) for o in g.options]) for g in item.option_groups] == [
        ("Размер", True, [("S", 0), ("M", 4000)]), ("Молоко", False, [("обычное", 0), ("овсяное", 6000)])]
    long = await engine.save_item(OWNER, "Чай", "Чай " + "очень " * 20 + "длинный", "100", "", "")
    assert len(long.item.id) <= 40 and long.item.id.startswith("chay-ochen")
    menu = await engine.owner_menu(OWNER)
    assert [(c.id, c.name, c.position) for c in menu.categories][-1] == ("chay", "Чай", 2)
    assert [r.item.id for r in menu.rows][-1] == long.item.id

    change = by_name.change
    assert change is not None and (change.action, change.target, change.before) == ("item", "item:raf-vanilnyy",
                                                                                    None)
    assert change.after["price"] == 26000 and change.after["category_id"] == "bakery"


@pytest.mark.parametrize("fields, detail", [
    (("Кофе", "  ", "100", "", ""), "name: an item needs a name"),
    (("Кофе", "Раф", "12,345", "", ""), "price: not a price in rubles"),
    (("Кофе", "Раф", "100", "", "Размер S, M"), "options: option group 'Размер S, M' has no colon"),
    (("Кофе", "Раф", "100", "", "Размер: S, S"), "options: options of group 'Размер'"),
    (("", "Раф", "100", "", ""), "category: required"),
    (("Новый раздел", "Раф", "100", "", "Сироп [maybe]: ваниль"), "options: option group 'Сироп': unknown flag"),
])
async def test_a_wrong_item_is_refused_with_the_menu_files_words_and_nothing_is_written(engine, fields, detail):
    before = await state(engine)
    e = await refused(engine.save_item(OWNER, *fields), ErrorCode.BAD_INPUT)
    assert e.detail.startswith(detail), e.detail
    assert await state(engine) == before  # not even the new category


async def test_an_edit_keeps_what_it_does_not_name_and_undo_of_a_new_item_takes_it_off(engine):
    latte = (await engine.owner_menu(OWNER)).find("latte").item
    edit = await engine.save_item(OWNER, "Выпечка", None, "300", None, None, item_id="latte")
    assert edit.item == Item("latte", "bakery", "Латте", Money(30000), latte.description, latte.photo,
                             latte.option_groups, latte.tags, latte.available, latte.position)
    await refused(engine.save_item(OWNER, None, "X", None, None, None, item_id="nope"), ErrorCode.ITEM_NOT_FOUND)
    await refused(engine.save_item(OWNER, "Кофе", "Раф", None, "", ""), ErrorCode.BAD_INPUT)

    await engine.save_item(OWNER, "Кофе", "Раф", "260", "", "")
    undone = await engine.undo(OWNER)
    assert undone.target == "item:raf" and not (await engine.owner_menu(OWNER)).find("raf").item.available
    assert "raf" not in {i.id for i in (await engine.menu()).items}


async def test_only_owners_edit_the_menu_or_read_the_panel(engine):
    before = await state(engine)
    stranger = customer(7)
    for call in (engine.change_price(stranger, "latte", "1"), engine.set_visible(stranger, "latte", False),
                 engine.change_stock(stranger, "croissant", "0", "center"),
                 engine.save_item(stranger, "Кофе", "Раф", "1", "", ""),
                 engine.save_item(stranger, None, None, "1", None, None, item_id="latte"),
                 engine.owner_menu(stranger), engine.owner_item(stranger, "latte")):
        await refused(call, ErrorCode.NOT_OWNER)
    assert await state(engine) == before
