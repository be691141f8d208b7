"""The menu as data: slugs, the options syntax, validation."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journey.catalog import SLUG, Category, Item, Option, OptionGroup, PickupPoint
from journey.menu import Menu, MenuEntry, MenuError, MenuProblem, format_options, parse_options, slugify, validate
from journey.money import Money

EXAMPLE = ("Размер: S, M +40, L +80; Молоко [optional]: обычное, овсяное +60, миндальное +70; "
           "Сироп [optional multi]: ваниль +30, карамель +30")


@pytest.mark.parametrize("text, slug", [
    ("Капучино", "kapuchino"),
    ("Раф ванильный", "raf-vanilnyy"),
    ("Щи да каша", "shchi-da-kasha"),
    ("Жёлтый ёж", "zheltyy-ezh"),
    ("Хлеб, цукаты, чай!", "khleb-tsukaty-chay"),
    ("Съешь ещё этих мягких французских булок", "sesh-eshche-etikh-myagkikh-frantsuzskikh-bulok"),
    ("Юла, яблоко", "yula-yabloko"),
    ("Flat White 2.0", "flat-white-2-0"),
    ("café", "cafe"),
    ("  --  ", "item"),
    ("", "item"),
])
def test_slugify(text, slug):
    assert slugify(text) == slug


@given(st.text(max_size=200))
def test_slugify_always_gives_a_valid_slug(text):
    slug = slugify(text)
    assert SLUG.match(slug) and len(slug) <= 64 and "--" not in slug


def test_parse_options_reads_the_documented_example():
    size, milk, syrup = parse_options(EXAMPLE)
    assert size == OptionGroup("razmer", "Размер", (Option("s", "S"), Option("m", "M", 4000), Option("l", "L", 8000)))
    assert (milk.required, milk.multiple) == (False, False)
    assert milk.option("ovsyanoe") == Option("ovsyanoe", "овсяное", 6000)
    assert (syrup.required, syrup.multiple) == (False, True)
    assert format_options((size, milk, syrup)) == EXAMPLE


def test_parse_options_prices_with_kopecks_and_discounts():
    (group,) = parse_options("Порция: маленькая -20, большая +39.90, огромная +0.5")
    assert [o.price_delta for o in group.options] == [-2000, 3990, 50]
    assert parse_options("") == () and parse_options(" ; ") == ()
    assert parse_options("Свечи: 5, 10 +50, 15")[0].options[2] == Option("15", "15")


@pytest.mark.parametrize("text, reason", [
    ("Размер S, M", "no colon"),
    ("Размер:", "no options"),
    (": S, M", "no name"),
    ("Размер [often]: S", "unknown flag 'often'"),
    ("Размер [optional: S", "malformed"),
    ("Размер: S, M +39,90", "with a dot"),
    ("Размер: S, +40", "has no name"),
    ("Размер: S, s", "same id 's'"),
    ("Размер: S; размер: M", "same id 'razmer'"),
    ("Размер: S +40.999", "not a price"),
])
def test_parse_options_rejects_malformed_text(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_options(text)


def test_format_options_refuses_groups_the_syntax_cannot_carry():
    with pytest.raises(ValueError, match="cannot be written"):
        format_options([OptionGroup("size", "Размер", (Option("s", "S"),))])  # id is not slugify(name)
    with pytest.raises(ValueError, match="cannot be written"):
        format_options([OptionGroup("a-b", "a;b", (Option("x", "x"),))])


_LABEL = st.text(st.sampled_from("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЖЯabcXYZ0123456789 .!«»()/"),
                 min_size=1, max_size=12).map(str.strip).filter(bool)
_OPTION = st.builds(lambda name, delta: Option(slugify(name), name, delta), _LABEL,
                    st.integers(-100_000, 100_000))
_GROUP = st.builds(lambda name, options, required, multiple: OptionGroup(slugify(name), name, tuple(options),
                                                                         required, multiple),
                   _LABEL, st.lists(_OPTION, min_size=1, max_size=5, unique_by=lambda o: o.id),
                   st.booleans(), st.booleans())
GROUPS = st.lists(_GROUP, max_size=4, unique_by=lambda g: g.id).map(tuple)


@given(GROUPS)
def test_options_round_trip(groups):
    assert parse_options(format_options(groups)) == groups


# ------------------------------------------------------------------------------------------ validate

def _entry(item_id="latte", name="Латте", line=2, stock=None, **item):
    return MenuEntry(Item(item_id, item.pop("category_id", "kofe"), name, item.pop("price", Money(27000)), **item),
                     stock or {}, line)


def _menu(*entries, points=()):
    return Menu((Category("kofe", "Кофе", 0),), tuple(entries), tuple(points))


def test_a_good_menu_passes():
    validate(_menu(_entry(stock={"center": 3, "park": None})), {"center", "park"})
    validate(_menu(_entry(stock={"park": 0}), points=[PickupPoint("park", "Парк")]), set())


def test_validate_reports_every_problem_at_once():
    menu = _menu(
        _entry(line=2, stock={"center": -1}),
        _entry(line=3, name=" ", stock={"moon": 1}),
        _entry(line=4, item_id="Bad Id", category_id="chai", photo="latte.svg"),
        _entry(line=5, stock={"moon": 2}),
    )
    with pytest.raises(MenuError) as caught:
        validate(menu, {"center"})
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {(2, "stock:center"), (3, "id"), (3, "name"), (3, "stock:moon"), (4, "id"), (4, "category"),
                     (4, "photo"), (5, "id")}
    text = str(caught.value)
    assert "line 3, id: item id 'latte' is already used by 'Латте' on line 2" in text
    assert "unknown pickup point 'moon' (known: center)" in text
    assert len(text.splitlines()) == len(caught.value.problems)


def test_validate_checks_points_and_emptiness():
    with pytest.raises(MenuError) as caught:
        validate(Menu((), (), (PickupPoint("Центр", ""), PickupPoint("p", "P", lat=91.0))), set())
    messages = str(caught.value)
    assert "lowercase latin" in messages and "needs a name" in messages and "latitude" in messages
    assert "the menu has no items" in messages


def test_menu_problem_and_error_read_well():
    problem = MenuProblem(3, "price", "not a price")
    assert str(problem) == "line 3, price: not a price"
    error = MenuError([problem, MenuProblem(4, "name", "required")])
    assert str(error) == "line 3, price: not a price\nline 4, name: required"
    assert error.code.value == "menu_invalid"
