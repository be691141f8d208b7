"""The ``vitrina`` CLI as a process: menu files, backup, QR codes, staff, demo seed, bad settings."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import zxingcpp
from cli import vitrina
from PIL import Image

pytestmark = pytest.mark.slow  # each test starts the CLI as a process

MENU = """category,name,price,options,stock:center
Кофе,Капучино,250,"Размер: S, M +40",
Кофе,Латте,12x,,
Выпечка,Круассан,180,,12
"""


@pytest.fixture
def shop(tmp_path):
    vitrina(tmp_path, "demo", "seed")
    return tmp_path


def count(db, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_demo_seed_twice_gives_one_shop(tmp_path):
    first = vitrina(tmp_path, "demo", "seed")
    assert "seeded" in first.stdout
    items, points = count(tmp_path / "vitrina.db", "items"), count(tmp_path / "vitrina.db", "points")
    assert items >= 12 and points == 2
    second = vitrina(tmp_path, "demo", "seed")
    assert "nothing changed" in second.stdout
    assert count(tmp_path / "vitrina.db", "items") == items
    assert count(tmp_path / "vitrina.db", "points") == points


def test_menu_with_a_bad_price_on_line_3_is_refused_whole(shop):
    (shop / "menu.csv").write_text(MENU, encoding="utf-8")
    before = vitrina(shop, "menu", "export", "before.csv")
    result = vitrina(shop, "menu", "import", "menu.csv", check=False)
    assert result.returncode == 1
    assert "line 3" in result.stderr and "price" in result.stderr
    assert "nothing changed" in result.stderr
    vitrina(shop, "menu", "export", "after.csv")
    assert before.returncode == 0
    assert (shop / "after.csv").read_text(encoding="utf-8") == (shop / "before.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_export_then_import_changes_nothing(shop, fmt):
    vitrina(shop, "menu", "export", f"one.{fmt}")
    vitrina(shop, "menu", "import", f"one.{fmt}")
    vitrina(shop, "menu", "export", f"two.{fmt}")
    assert (shop / f"one.{fmt}").read_text(encoding="utf-8") == (shop / f"two.{fmt}").read_text(encoding="utf-8")


def test_import_replaces_prices_and_switches_off_missing_items(shop):
    (shop / "small.csv").write_text("id,category,name,price\ncappuccino,Кофе,Капучино,\"260,50\"\n", encoding="utf-8")
    out = vitrina(shop, "menu", "import", "small.csv")
    assert "imported 1 items" in out.stdout
    with sqlite3.connect(shop / "vitrina.db") as conn:
        assert conn.execute("SELECT price FROM items WHERE id = 'cappuccino'").fetchone() == (26050,)
        assert conn.execute("SELECT COUNT(*) FROM items WHERE available = 1").fetchone() == (1,)


def test_backup_of_a_live_database_holds_the_same_rows(shop):
    db = shop / "vitrina.db"
    stop = threading.Event()

    def write() -> None:  # another process keeps the shop busy while the backup runs
        conn = sqlite3.connect(db, timeout=10, isolation_level=None)
        n = 0
        while not stop.is_set():
            conn.execute("INSERT INTO meta (key, value) VALUES (?, 'x')", (f"load{n}",))
            n += 1
        conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.2)
        vitrina(shop, "db", "backup", "copy.db")
    finally:
        stop.set()
        writer.join()
    with sqlite3.connect(shop / "copy.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT COUNT(*) FROM items").fetchone()[0] == count(db, "items")
        assert copy.execute("SELECT COUNT(*) FROM meta WHERE key LIKE 'load%'").fetchone()[0] > 0
    vitrina(shop, "db", "backup", "still.db")  # nothing writes now: the copy is row for row the same
    for table in ("items", "points", "stock", "meta", "categories"):
        assert count(shop / "still.db", table) == count(db, table)


@pytest.mark.parametrize("args, param", [
    (("counter", "center"), "pcenter"),
    (("table", "center", "12"), "tcenter_12"),
    (("referral", "AbC123"), "rAbC123"),
    (("source", "2gis"), "s2gis"),
])
def test_qr_codes_decode_to_the_landing_link(shop, args, param):
    out = vitrina(shop, "qr", *args, "--out", "code.png", VITRINA_WEBAPP__PUBLIC_URL="https://coffee.example")
    assert "code.png" in out.stdout
    decoded = zxingcpp.read_barcodes(Image.open(shop / "code.png"))
    assert [d.text for d in decoded] == [f"https://coffee.example/go/{param}"]


def test_qr_svg_carries_the_caption(shop):
    vitrina(shop, "qr", "counter", "park", "--format", "svg", "--caption", "Закажите здесь")
    svg = (shop / "qr-ppark.svg").read_text(encoding="utf-8")
    assert svg.startswith("<?xml") or svg.startswith("<svg")
    assert "Закажите здесь" in svg


def test_qr_for_an_unknown_point_is_refused(shop):
    result = vitrina(shop, "qr", "counter", "nowhere", check=False)
    assert result.returncode == 1 and "unknown pickup point" in result.stderr
    assert not list(shop.glob("qr-*"))


def test_staff_add_list_remove(shop):
    vitrina(shop, "staff", "add", "telegram:42", "--point", "center")
    listed = vitrina(shop, "staff", "list", VITRINA_OWNERS="vk:7")
    assert "telegram:42\tcenter" in listed.stdout
    assert "vk:7\t* (owner)" in listed.stdout
    bad = vitrina(shop, "staff", "add", "telegram:43", "--point", "mars", check=False)
    assert bad.returncode == 1 and "point_not_found" in bad.stderr
    wrong = vitrina(shop, "staff", "add", "icq:1", check=False)
    assert wrong.returncode == 1 and "unknown channel" in wrong.stderr
    vitrina(shop, "staff", "remove", "telegram:42")
    assert "telegram:42" not in vitrina(shop, "staff", "list").stdout
    again = vitrina(shop, "staff", "remove", "telegram:42", check=False)
    assert again.returncode == 1 and "not staff" in again.stderr


def test_a_malformed_setting_stops_with_one_line_naming_it(tmp_path):
    result = vitrina(tmp_path, "db", "migrate", check=False, VITRINA_WEBAPP__PORT="eighty")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "VITRINA_WEBAPP__PORT" in lines[0]
    assert not (tmp_path / "vitrina.db").exists()


def test_db_migrate_reports_the_schema_version(tmp_path):
    out = vitrina(tmp_path, "db", "migrate", VITRINA_DATABASE_URL="sqlite:///data/shop.db")
    from storage.sqlite.database import _migrations
    assert f"schema version {max(v for v, _ in _migrations())}" in out.stdout
    assert (tmp_path / "data" / "shop.db").exists()
