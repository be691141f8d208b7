"""The menu file: CSV and YAML reading, error reports with lines and fields, round trips, the demo menu."""
from __future__ import annotations

import tempfile
from datetime import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.menu_file import read_menu, write_menu
from journey.catalog import Category, Item, OpeningHours, Option, OptionGroup, PickupPoint
from journey.menu import Menu, MenuEntry, MenuError, slugify, validate
from journey.money import Money

ROOT = Path(__file__).resolve().parents[2]
HEADER = "category,name,price,options,stock:center\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def problems(path: Path, **kwargs) -> set[tuple[int, str]]:
    with pytest.raises(MenuError) as caught:
        read_menu(path, **kwargs)
    return {(p.line, p.field) for p in caught.value.problems}


# ------------------------------------------------------------------------------------------------ CSV

def test_csv_reads_every_column(tmp_path):
    path = write(tmp_path, "menu.csv", "\ufeffid,Category,name,price,description,options,photo,available,tags,"
                 "stock:center,stock:park\n"
                 'capp,Кофе,Капучино,250,"Пена, молоко","Размер: S, M +40",/photos/c.svg,да,"хит, горячее",,\n'
                 "croissant,Выпечка,Круассан,\"159,90\",,,,no,,12,0\n"
                 ",Выпечка,Эклер,190.5,,,,,,,\n")
    menu = read_menu(path)
    capp, croissant, eclair = menu.entries
    assert menu.categories == (Category("kofe", "Кофе", 0), Category("vypechka", "Выпечка", 1))
    assert capp.item == Item("capp", "kofe", "Капучино", Money(25000), "Пена, молоко", "/photos/c.svg",
                             (OptionGroup("razmer", "Размер", (Option("s", "S"), Option("m", "M", 4000))),),
                             ("хит", "горячее"), True, 0)
    assert capp.stock == {"center": None, "park": None} and capp.line == 2
    assert croissant.item.price == Money(15990) and not croissant.item.available
    assert croissant.stock == {"center": 12, "park": 0}
    assert eclair.item.id == "ekler" and eclair.item.price == Money(19050) and eclair.line == 4


def test_csv_bad_price_names_line_and_field(tmp_path):
    path = write(tmp_path, "menu.csv", HEADER + "Кофе,Латте,270,,\nКофе,Раф,12x,,\n")
    with pytest.raises(MenuError) as caught:
        read_menu(path)
    assert str(caught.value) == ("line 3, price: not a price in rubles: '12x' (expected 250, 249.90 or 249,90)")


def test_csv_collects_all_problems_of_the_file(tmp_path):
    path = write(tmp_path, "menu.csv", HEADER + "Кофе,Латте,270,,-1\n"
                                                ",Раф,,,\n"
                                                "Кофе,Латте,280,Размер S,x\n"
                                                "Кофе,Капучино,250,,,extra\n")
    assert problems(path) == {(2, "stock:center"), (3, "category"), (3, "price"), (4, "id"), (4, "options"),
                              (4, "stock:center"), (5, "file")}


def test_csv_rejects_unknown_columns_but_not_stock_columns(tmp_path):
    path = write(tmp_path, "menu.csv", "category,name,price,colour,stock:park\nКофе,Латте,270,red,3\n")
    with pytest.raises(MenuError) as caught:
        read_menu(path)
    assert [(p.line, p.field) for p in caught.value.problems] == [(1, "colour")]
    assert "unknown column" in str(caught.value)


def test_csv_names_missing_required_columns(tmp_path):
    path = write(tmp_path, "menu.csv", "category,title,cost\nКофе,Латте,270\n")
    with pytest.raises(MenuError) as caught:
        read_menu(path)
    text = str(caught.value)
    assert "line 1, name: required column is missing" in text and "line 1, price: required column" in text


def test_csv_one_category_spelled_two_ways(tmp_path):
    path = write(tmp_path, "menu.csv", "category,name,price\nКофе,Латте,270\nКОФЕ,Раф,300\n")
    assert problems(path) == {(3, "category")}


def test_csv_stock_points_are_checked_against_the_shop(tmp_path):
    path = write(tmp_path, "menu.csv", "category,name,price,stock:moon\nКофе,Латте,270,3\n")
    assert read_menu(path).entries[0].stock == {"moon": 3}
    assert problems(path, known_points={"center"}) == {(2, "stock:moon")}


def test_csv_from_russian_excel_with_semicolons(tmp_path):
    path = write(tmp_path, "menu.csv", "category;name;price\r\nКофе;Латте;249,90\r\n", encoding="utf-8-sig")
    assert read_menu(path).entries[0].item.price == Money(24990)


def test_csv_multiline_cell_line_number(tmp_path):
    path = write(tmp_path, "menu.csv", 'category,name,price,description\nКофе,Латте,270,"две\nстроки"\n'
                                       "Кофе,Раф,бесплатно,\n")
    assert problems(path) == {(4, "price")}


@pytest.mark.parametrize("content, line", [(b"category,name,price\n\xff\xfe,x,1\n", 2), (b"", 1)])
def test_csv_unreadable_files(tmp_path, content, line):
    path = tmp_path / "menu.csv"
    path.write_bytes(content)
    assert problems(path) == {(line, "file")}


def test_other_extensions_are_refused(tmp_path):
    assert problems(write(tmp_path, "menu.xlsx", "")) == {(0, "file")}
    with pytest.raises(MenuError):
        write_menu(tmp_path / "menu.txt", Menu((), ()))


@pytest.mark.parametrize("value, available", [("yes", True), ("1", True), ("Да", True), ("TRUE", True), ("", True),
                                              ("no", False), ("0", False), ("нет", False), ("false", False)])
def test_csv_available_values(tmp_path, value, available):
    path = write(tmp_path, "menu.csv", f"category,name,price,available\nКофе,Латте,270,{value}\n")
    assert read_menu(path).entries[0].item.available is available


# ----------------------------------------------------------------------------------------------- YAML

YAML = """\
points:
  - id: center
    name: Центр
    hours: mon-fri 08:00-21:00; sat-sun 10:00-20:00
items:
  - category: Кофе
    name: Латте
    price: 249.9
    options:
      - "Размер: S, M +40"
      - "Молоко [optional]: овсяное +60"
    tags: [горячее]
    stock:
      center: null
  - category: Выпечка
    name: Круассан
    price: "160"
    stock: {center: 12}
"""


def test_yaml_reads_points_and_items(tmp_path):
    menu = read_menu(write(tmp_path, "menu.yaml", YAML))
    (center,) = menu.points
    assert center.hours.days[5] == (time(10), time(20)) and center.prep_minutes == 10
    latte, croissant = menu.entries
    assert latte.item.price == Money(24990) and latte.line == 6
    assert [g.id for g in latte.item.option_groups] == ["razmer", "moloko"]
    assert latte.stock == {"center": None} and croissant.stock == {"center": 12}
    assert croissant.item.price == Money(16000)


def test_yaml_errors_name_the_line_of_the_field(tmp_path):
    text = (YAML.replace("price: 249.9", "price: 249.999").replace("center: 12", "moon: -2")
            .replace("    tags: [горячее]", "    tags: [горячее]\n    colour: red"))
    path = write(tmp_path, "menu.yml", text)
    assert problems(path) == {(8, "price"), (13, "colour"), (19, "stock:moon")}


def test_yaml_point_errors_and_syntax_errors(tmp_path):
    text = YAML.replace("mon-fri 08:00-21:00", "weekdays 8-21").replace("id: center", "id: Центр")
    assert problems(write(tmp_path, "a.yaml", text)) >= {(2, "id"), (4, "hours")}
    assert problems(write(tmp_path, "b.yaml", "items:\n  - name: [unclosed\n")) == {(3, "file")}
    assert problems(write(tmp_path, "c.yaml", "- name: x\n")) == {(1, "file")}
    assert problems(write(tmp_path, "d.yaml", "")) == {(1, "file")}


# ---------------------------------------------------------------------------------------- round trips

_TEXT = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЁЯabcXYZ0123456789 .!«»()/"
_NAME = st.text(st.sampled_from(_TEXT + "-+,:;'\"#&*~"), min_size=1, max_size=16).map(str.strip).filter(bool)
_LABEL = st.text(st.sampled_from(_TEXT + ":"), min_size=1, max_size=10).map(str.strip).filter(bool)
_OPTION = st.builds(lambda n, d: Option(slugify(n), n, d), _LABEL, st.integers(-50_000, 50_000))
_GROUP = st.builds(lambda n, o, r, m: OptionGroup(slugify(n), n, tuple(o), r, m), _LABEL.filter(lambda s: ":" not in s),
                   st.lists(_OPTION, min_size=1, max_size=4, unique_by=lambda o: o.id), st.booleans(), st.booleans())
_TIME = st.builds(time, st.integers(0, 22), st.sampled_from([0, 15, 30, 45]))
_SPAN = st.one_of(st.none(), _TIME.map(lambda t: (t, time(23, 30))))


@st.composite
def menus(draw, with_points: bool) -> Menu:
    point_ids = draw(st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), max_size=3, unique=True))
    category_names = draw(st.lists(_NAME, min_size=1, max_size=4, unique_by=slugify))
    entries, used = [], {}
    names = draw(st.lists(_NAME, min_size=1, max_size=6, unique_by=slugify))
    for position, name in enumerate(names):
        category = draw(st.sampled_from(category_names))
        used.setdefault(category, Category(slugify(category), category, len(used)))
        item = Item(
            id=slugify(name), category_id=slugify(category), name=name,
            price=Money(draw(st.integers(0, 10**8))),
            description=draw(st.text(st.sampled_from(_TEXT + ",;\n\"'"), max_size=40).map(str.strip)),
            photo=draw(st.sampled_from(["", "/photos/x.svg", "https://cdn.example.com/a b.png"])),
            option_groups=tuple(draw(st.lists(_GROUP, max_size=3, unique_by=lambda g: g.id))),
            tags=tuple(draw(st.lists(_LABEL, max_size=3))),
            available=draw(st.booleans()), position=position)
        # CSV has a column per point, so every item has a (maybe empty) cell for every point
        stock = {p: draw(st.one_of(st.none(), st.integers(0, 10**6))) for p in point_ids}
        entries.append(MenuEntry(item, stock, 0))
    points = ()
    if with_points:
        points = tuple(PickupPoint(
            p, draw(_NAME), draw(st.text(st.sampled_from(_TEXT + ","), max_size=20).map(str.strip)),
            draw(st.one_of(st.none(), st.floats(-90, 90))), draw(st.one_of(st.none(), st.floats(-180, 180))),
            OpeningHours(tuple(draw(st.lists(_SPAN, min_size=7, max_size=7)))), draw(st.integers(0, 120)))
            for p in point_ids)
    return Menu(tuple(used.values()), tuple(entries), points)


def _without_lines(menu: Menu) -> Menu:
    return Menu(menu.categories, tuple(MenuEntry(e.item, e.stock, 0) for e in menu.entries), menu.points)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(menus(with_points=False))
def test_csv_round_trip(menu):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "menu.csv"
        write_menu(path, menu)
        assert _without_lines(read_menu(path)) == menu


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(menus(with_points=True))
def test_yaml_round_trip(menu):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "menu.yaml"
        write_menu(path, menu)
        assert _without_lines(read_menu(path)) == menu


# ------------------------------------------------------------------------------------ the demo, the docs

def test_demo_menu_is_valid_and_complete():
    menu = read_menu(ROOT / "bot" / "demo" / "menu.yaml")
    validate(menu, set())
    assert [p.id for p in menu.points] == ["center", "park"]
    assert [c.name for c in menu.categories] == ["Кофе", "Чай и другое", "Выпечка", "Десерты"]
    assert sum(1 for e in menu.entries if e.item.option_groups) >= 12
    assert any(0 in e.stock.values() for e in menu.entries), "something is sold out at one point"
    for entry in menu.entries:
        assert entry.item.photo == f"/photos/{entry.item.id}.svg"
        photo = ROOT / "webapp" / "static" / entry.item.photo.lstrip("/")
        assert photo.is_file() and photo.stat().st_size < 3072, photo
        assert "http" not in photo.read_text().replace("http://www.w3.org/2000/svg", "")


def test_docs_example_csv_is_valid():
    menu = read_menu(ROOT / "docs" / "menu-example.csv", known_points={"center", "park"})
    validate(menu, {"center", "park"})
    assert 5 <= len(menu.entries) <= 6


def test_docs_yaml_example_is_valid(tmp_path):
    text = (ROOT / "docs" / "menu-file.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    menu = read_menu(write(tmp_path, "menu.yaml", example), known_points={"park"})
    assert menu.entries[1].stock == {"center": 12, "park": 0}
