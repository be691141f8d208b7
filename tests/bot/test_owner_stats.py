"""``/stats [days]`` from the chat, in Telegram (the real aiogram bot on the fake Bot API server) and in VK
(vkbottle on the fake VK API): the owner gets the numbers as text, then a PNG chart drawn on the server
(sendPhoto in Telegram, the photo upload in VK); the panel's button does the same; bad days get the usage;
a customer is refused and gets no numbers and no picture."""
from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import telegram_harness as tg
import vk_harness as vk
from cli import vitrina
from PIL import Image
from shop_fixtures import BARISTA, OWNER, FakeClock, customer, seed

from adapters.chart import PillowCharts
from adapters.ratelimit import RateLimiter
from journey.channels import Channel, CustomerRef
from journey.deeplinks import parse_start
from journey.engine import Engine
from journey.errors import ErrorCode
from journey.model import CartLine

VK_OWNER = CustomerRef(Channel.VK, "77")
NOT_OWNER = ErrorCode.NOT_OWNER.message("ru")
ANNA = customer(1)
MOSCOW = ZoneInfo("Europe/Moscow")
BORIS = customer(2, Channel.VK)


@pytest.fixture
async def engine(db, clock) -> Engine:
    """The demo shop with two owners (telegram:1, vk:77) and the server's chart renderer, and a history:
    Anna came from 2GIS in Telegram, her latte was picked up and reviewed; Boris came from 2GIS in VK, his
    espresso is not picked up yet."""
    eng = Engine(db.uow, owners=[OWNER, VK_OWNER], clock=clock, reader=db.reading, charts=PillowCharts())
    await eng.start()
    await seed(eng)
    link = parse_start("s2gis")
    assert link is not None
    await eng.record_visit(link, Channel.TELEGRAM, ANNA)
    await eng.record_visit(link, Channel.VK, BORIS)
    latte = (await eng.place_order(ANNA, [CartLine("latte")], "center", source="2gis")).order
    await eng.accept(BARISTA, latte.id)
    await eng.mark_ready(BARISTA, latte.id)
    await eng.hand_over(BARISTA, order_id=latte.id)
    await eng.add_review(ANNA, latte.id, "latte", 5)
    await eng.place_order(BORIS, [CartLine("espresso")], "center", source="2gis")
    return eng


@dataclass
class Answer:
    text: str
    photo: bytes | None


@dataclass
class Side:
    owner: int
    customer: int
    send: Callable[[int, str], Awaitable[Answer]]
    next: Callable[[int], Awaitable[Answer]]  # the next message the chat got
    press: Callable[[int, str, str], Awaitable[Answer]]  # (user, command, label): press a button of its answer
    count: Callable[[int], int]  # messages the chat got


@pytest.fixture(params=["telegram", "vk"])
async def side(request, engine):
    if request.param == "telegram":
        async with tg.telegram_shop(engine) as shop:
            shop.channel.messenger.limiter = RateLimiter(per_second=10_000, chat_interval=0)
            fake = shop.fake

            async def answer(user: int) -> Answer:
                sent = await fake.next_message(user)
                return Answer(sent.text or "", sent.photo if isinstance(sent.photo, bytes) else None)

            async def send(user: int, text: str) -> Answer:
                fake.send_message(user, text)
                return await answer(user)

            async def press(user: int, text: str, label: str) -> Answer:
                chat = shop.chat(user)
                sent = await chat.press(await chat.send(text), label)
                return Answer(sent.text or "", None)

            yield Side(int(OWNER.external_id), 5001, send, answer, press, lambda user: len(fake.sent(user)))
    else:
        async with vk.vk_shop(engine) as shop:
            shop.channel.messenger.limiter = RateLimiter(per_second=10_000, chat_interval=0)
            vk_fake = shop.fake

            async def vk_answer(user: int) -> Answer:
                message = await vk_fake.next_message(user)
                photo = vk_fake.photos.get(message.attachment or "")
                return Answer(message.text, photo.data if photo else None)

            async def vk_send(user: int, text: str) -> Answer:
                vk_fake.message_new(user, text)
                return await vk_answer(user)

            async def vk_press(user: int, text: str, label: str) -> Answer:
                dialogue = shop.dialogue(user)
                sent = await dialogue.press(await dialogue.send(text), label)
                return Answer(sent.text, None)

            yield Side(int(VK_OWNER.external_id), 501, vk_send, vk_answer, vk_press,
                       lambda user: len(vk_fake.sent(user)))


def png(data: bytes | None) -> Image.Image:
    assert data is not None and data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


async def test_the_owner_gets_the_numbers_and_the_chart(side):
    text = (await side.send(side.owner, "/stats")).text
    assert text.splitlines()[:3] == ["Статистика за 7 дн. (12.11–18.11)", "визиты → заказы → выданы → с отзывом",
                                     "Всего: 2 → 2 (100%) → 1 (50%) → 1 (100%)"]
    assert "telegram: 1 → 1 (100%) → 1 (100%) → 1 (100%)" in text
    assert "vk: 1 → 1 (100%) → 0 (0%) → 0" in text
    assert "2gis: 2 → 2 (100%) → 1 (50%) → 1 (100%)" in text
    assert "Повторные покупатели: 0 из 1 (0%)" in text
    assert "Средний чек: 250 ₽ (выручка 250 ₽, выдано заказов 1)" in text
    assert "Топ позиций: Латте — 1" in text
    assert "Репостов и визитов по ним не было." in text  # sharing is counted once there is some
    chart = await side.next(side.owner)
    assert chart.text == "Воронка по каналам и заказы по дням"
    image = png(chart.photo)
    assert image.width >= 800 and image.height >= 600


async def test_the_panel_button_and_a_longer_period(side):
    text = await side.press(side.owner, "/admin", "Статистика")
    assert text.text.startswith("Статистика за 7 дн.")
    png((await side.next(side.owner)).photo)
    answer = await side.send(side.owner, "/stats 30")
    assert answer.text.startswith("Статистика за 30 дн. (20.10–18.11)")
    png((await side.next(side.owner)).photo)


@pytest.mark.parametrize("days", ["abc", "0", "1000", "7 8", "-3"])
async def test_bad_days_get_the_usage_and_no_picture(side, days):
    answer = await side.send(side.owner, f"/stats {days}")
    assert answer.text.startswith("Как: /stats [дни]") and answer.photo is None
    assert (await side.send(side.owner, "/stats 1")).text.startswith("Статистика за 1 дн.")  # the next is its answer


async def test_a_customer_is_refused_and_sees_no_numbers(side, engine):
    answer = await side.send(side.customer, "/stats")
    assert answer.text == NOT_OWNER and answer.photo is None
    assert (await side.send(side.customer, "/stats 30")).text == NOT_OWNER
    assert side.count(side.customer) == 2  # no picture followed either refusal
    assert (await engine.stats(OWNER)).total.orders == 2  # the history is as it was


# --- the command line -----------------------------------------------------------------------------------

async def _history(path: Path) -> None:
    """Yesterday at noon in Moscow (the command runs on the real clock): Anna's latte picked up in Telegram,
    Boris's espresso placed in VK."""
    from storage.sqlite import SqliteDatabase

    yesterday = datetime.now(MOSCOW).date() - timedelta(days=1)
    clock = FakeClock(datetime.combine(yesterday, time(12), MOSCOW).astimezone(UTC))
    db = SqliteDatabase(path)
    await db.connect()
    try:
        eng = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading)
        await eng.start()
        await seed(eng)
        await eng.record_visit(parse_start("s2gis"), Channel.TELEGRAM, ANNA)  # type: ignore[arg-type]
        latte = (await eng.place_order(ANNA, [CartLine("latte")], "center", source="2gis")).order
        await eng.accept(BARISTA, latte.id)
        await eng.mark_ready(BARISTA, latte.id)
        await eng.hand_over(BARISTA, order_id=latte.id)
        await eng.place_order(BORIS, [CartLine("espresso", 2)], "park", source="")
    finally:
        await db.close()


def _read(path: Path) -> list[dict[str, str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_the_cli_prints_the_numbers_and_writes_the_csv_files(tmp_path):
    asyncio.run(_history(tmp_path / "vitrina.db"))
    out = vitrina(tmp_path, "stats", "--days", "7").stdout.splitlines()
    assert out[1:3] == ["visits → orders → picked up → reviewed", "Total: 1 → 2 (200%) → 1 (50%) → 0 (0%)"]
    assert "Average check: 250 ₽ (revenue 250 ₽, 1 picked up)" in out

    done = vitrina(tmp_path, "stats", "--csv", "export").stdout
    assert done.startswith("2 orders -> ") and "customers ->" in done
    orders = _read(tmp_path / "export" / "orders.csv")
    assert [(o["channel"], o["source"], o["point"], o["status"], o["total"]) for o in orders] == [
        ("telegram", "2gis", "center", "picked_up", "250"), ("vk", "", "park", "placed", "300")]
    assert orders[0]["items"].startswith("Латте") and orders[1]["items"] == "Эспрессо x2"
    assert all(o["created"].endswith("+03:00") for o in orders)  # the shop's time
    customers = _read(tmp_path / "export" / "customers.csv")
    with sqlite3.connect(tmp_path / "vitrina.db") as conn:
        ids = dict(conn.execute("SELECT a.channel || ':' || a.external_id, a.customer_id FROM accounts a"))
        count = conn.execute("SELECT COUNT(*) FROM customers WHERE merged_into IS NULL").fetchone()[0]
    assert len(customers) == count
    by_id = {c["id"]: c for c in customers}
    anna, boris = by_id[ids[ANNA.key]], by_id[ids[BORIS.key]]
    assert (anna["source"], anna["channels"], anna["orders"], anna["spent"]) == ("2gis", "telegram", "1", "250")
    assert (boris["channels"], boris["orders"], boris["spent"]) == ("vk", "0", "0")


@pytest.mark.slow
def test_a_csv_path_that_is_a_file_is_one_line_exit_1(tmp_path):
    asyncio.run(_history(tmp_path / "vitrina.db"))
    (tmp_path / "taken").write_text("x")
    result = vitrina(tmp_path, "stats", "--csv", "taken", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == ["vitrina: --csv taken: not a directory"]
    assert (tmp_path / "taken").read_text() == "x"
