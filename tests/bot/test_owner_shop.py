"""The owner sets the shop up from the chat, as owners do: /shop, /point, /promo, /staff and the panel's
buttons, through the real aiogram bot against the fake Bot API and vkbottle against the fake VK API;
everyone else is refused and nothing changes. The same from the command line, as processes.
"""
from __future__ import annotations

import sqlite3

import pytest
from cli import vitrina
from shop_fixtures import OWNER, seed
from telegram_harness import buttons, telegram_shop
from vk_harness import vk_shop

from adapters.ratelimit import RateLimiter
from adapters.telegram.translate import Act
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.model import Promo, PromoKind

VK_OWNER = CustomerRef(Channel.VK, "601")
# an owner sends one command after another: the one-message-a-second pacing of a chat would only slow the tests
UNPACED = RateLimiter(per_second=1000, chat_interval=0.001)


async def state(engine: Engine) -> tuple:
    """Everything /shop, /point, /promo and /staff may change, and the audit log."""
    async with engine.read() as uow:
        settings = await uow.settings.all()
        return (settings, await uow.catalog.points(), await uow.promos.get("WELCOME"),
                await uow.promos.get("SPRING10"), await uow.staff.list(), len(await uow.audit.recent(1000)))


async def codes(engine: Engine) -> dict[str, tuple[int, int | None, str]]:
    return {line.promo.code: (line.promo.value, line.promo.max_uses, line.status)
            for line in await engine.promos(OWNER)}


@pytest.fixture
async def shop(engine):
    await engine.save_promo(Promo("WELCOME", PromoKind.PERCENT, 10, max_uses=1000))  # the demo's code
    async with telegram_shop(engine) as shop:
        shop.channel.messenger.limiter = UNPACED
        yield shop


# --- Telegram: the owner ------------------------------------------------------------------------------

async def test_the_owner_names_the_shop_and_sets_its_rules(shop, engine):
    owner = shop.chat(int(OWNER.external_id))
    shown = await owner.send("/shop")
    assert "Магазин «Vitrina»" in shown.text and "Часовой пояс: Europe/Moscow" in shown.text
    assert "/shop name" in shown.text and "/shop zone Europe/Moscow" in shown.text

    done = await owner.send("/shop name Кофейня на Пушкина")
    assert done.text == "Готово. Название: Кофейня на Пушкина"
    await owner.send("/shop description Варим кофе с 2010 года")
    await owner.send("/shop zone Asia/Yekaterinburg")
    assert (await owner.send("/shop earn 7")).text == "Готово. Начисляем баллов, % от оплаты: 7"
    assert (await owner.send("/shop referral 150")).text == "Готово. Бонус за приглашённого друга, ₽: 150"
    rules = (await engine.shop_view()).rules
    assert (rules.name, rules.timezone, rules.earn_percent, rules.referral_bonus) == (
        "Кофейня на Пушкина", "Asia/Yekaterinburg", 7, 15000)
    assert (await engine.shop_settings(OWNER)).description == "Варим кофе с 2010 года"
    hello = await shop.chat(700).send("/start")
    assert "Это Кофейня на Пушкина" in hello.text  # customers see the new name at once

    before = await state(engine)
    for text, expected in (("/shop zone Mars/Olympus", "Неизвестный часовой пояс 'Mars/Olympus'"),
                           ("/shop earn 150", "целое число от 0 до 100"),
                           ("/shop unpaid 0", "от 1 до 1440"),
                           ("/shop name " + "К" * 65, "от 1 до 64 символов"),
                           ("/shop colour red", "Такой настройки нет"),
                           ("/shop name", "Напишите значение: /shop name")):
        assert expected in (await owner.send(text)).text, text
    assert await state(engine) == before


async def test_an_english_speaking_owner_is_answered_in_english(shop, engine):
    owner = shop.chat(int(OWNER.external_id), language="en")
    await owner.send("/lang en")
    assert "Unknown time zone" in (await owner.send("/shop zone Mars/Olympus")).text
    assert (await owner.send("/shop cap 25")).text == "Done. Points may pay, % of the order: 25"


async def test_the_owner_adds_a_pickup_point_and_sets_its_hours(shop, engine):
    owner = shop.chat(int(OWNER.external_id))
    added = await owner.send("/point add south Витрина на Юге")
    assert "Точка добавлена" in added.text and "south — Витрина на Юге" in added.text
    hours = await owner.send("/point south hours mon-fri 08:00-21:00; sat-sun 10:00-20:00")
    assert "часы: mon-fri 08:00-21:00; sat-sun 10:00-20:00" in hours.text
    await owner.send("/point south prep 12")
    await owner.send("/point south address ул. Южная, 5")
    point = (await engine.shop_view()).point("south")
    assert (point.name, point.address, point.prep_minutes, point.hours.format()) == (
        "Витрина на Юге", "ул. Южная, 5", 12, "mon-fri 08:00-21:00; sat-sun 10:00-20:00")
    listed = await owner.send("/point")
    assert "center — Центр" in listed.text and "south — Витрина на Юге, ул. Южная, 5" in listed.text

    before = await state(engine)
    for text, expected in (("/point south hours пн-пт 8-21", "Часы работы не понятны"),
                           ("/point south prep 300", "от 0 до 240"),
                           ("/point moon prep 5",
                            "Такой точки выдачи нет: «moon». Точки: center (Центр), park (Парк), south"),
                           ("/point add center Ещё один центр", "Точка center уже есть"),
                           ("/point add Юг Юг", "латинские буквы и цифры"),
                           ("/point add north", "Как: /point add")):
        assert expected in (await owner.send(text)).text, text
    assert await state(engine) == before


async def test_the_owner_creates_a_promo_code_and_ends_the_demos_one(shop, engine):
    owner = shop.chat(int(OWNER.external_id))
    created = await owner.send("/promo spring10 10% 100 until 2026-12-31")
    assert "Промокод создан" in created.text
    assert "SPRING10 — 10%, использован 0 из 100, последний день 2026-12-31 — действует" in created.text
    assert await codes(engine) == {"SPRING10": (10, 100, "active"), "WELCOME": (10, 1000, "active")}

    listed = await owner.send("/promo")
    assert "WELCOME — 10%, использован 0 из 1000 — действует" in listed.text
    ask = await owner.press(listed, "Завершить WELCOME")
    assert "Завершить промокод WELCOME?" in ask.text
    back = await owner.press(ask, "Назад")
    assert "Промокоды:" in back.text and (await codes(engine))["WELCOME"][2] == "active"
    ended = await owner.press(ask, "Да, завершить")
    assert ended.text == "Промокод WELCOME завершён. Использован 0 раз."
    assert (await codes(engine))["WELCOME"] == (10, 1000, "ended")
    assert "Завершить WELCOME" not in [b["text"] for b in buttons(await owner.send("/promo"))]

    before = await state(engine)
    for text, expected in (("/promo FREE 0%", "от 1 до 100"),
                           ("/promo FREE 150%", "от 1 до 100"),
                           ("/promo FREE 10% until 2026-13-01", "Дата '2026-13-01' не понятна"),
                           ("/promo FREE 10% until 2020-01-01", "уже прошла"),
                           ("/promo spring10 5%", "Промокод SPRING10 уже есть"),
                           ("/promo WELCOME 5%", "Промокод WELCOME уже есть"),
                           ("/promo ВЕСНА 5%", "латинских букв и цифр"),
                           ("/promo end WELCOME", "уже завершён"),
                           ("/promo end NOSUCH", "Такого промокода нет")):
        assert expected in (await owner.send(text)).text, text
    assert await state(engine) == before


async def test_the_owner_adds_and_removes_staff(shop, engine):
    owner = shop.chat(int(OWNER.external_id))
    assert (await owner.send("/staff add vk:77 park")).text == "Готово: vk:77 — сотрудник, park."
    assert (await owner.send("/staff add telegram:78 *")).text == "Готово: telegram:78 — сотрудник, все точки."
    listed = await owner.send("/staff")
    assert "• vk:77 — park" in listed.text and "• telegram:78 — все точки" in listed.text
    assert "Владельцы (работают на всех точках): telegram:1" in listed.text
    assert (CustomerRef(Channel.VK, "77"), "park") in (await engine.staff(OWNER)).staff
    assert (await owner.send("/staff remove vk:77")).text == "Готово: vk:77 больше не сотрудник."
    assert (CustomerRef(Channel.VK, "77"), "park") not in (await engine.staff(OWNER)).staff

    before = await state(engine)
    for text, expected in (("/staff add icq:1 park", "Аккаунт 'icq:1' не понятен"),
                           ("/staff add vk:79 moon", "Такой точки выдачи нет: «moon»"),
                           ("/staff remove vk:77", "vk:77 не сотрудник, ничего не изменилось"),
                           ("/staff add vk:79", "Как: /staff add")):
        assert expected in (await owner.send(text)).text, text
    assert await state(engine) == before
    log = await engine.changes(OWNER, limit=3)
    assert [(c.actor, c.target) for c in log] == [
        ("telegram:1", "staff:vk:77"), ("telegram:1", "staff:telegram:78"), ("telegram:1", "staff:vk:77")]


async def test_the_panel_buttons_show_the_shop_promo_codes_and_staff(shop, engine):
    owner = shop.chat(int(OWNER.external_id))
    panel = await owner.send("/admin")
    settings = await owner.press(panel, "Магазин")
    assert "Магазин «Vitrina»" in settings.text
    points = await owner.press(settings, "Точки выдачи")
    assert "center — Центр" in points.text
    promos = await owner.press(panel, "Промокоды")
    assert "WELCOME — 10%" in promos.text
    staff = await owner.press(panel, "Сотрудники")
    assert "• telegram:2 — center" in staff.text


# --- Telegram: everyone else --------------------------------------------------------------------------

@pytest.mark.parametrize("user_id", [2, 1001])  # the barista, a customer
async def test_anyone_else_is_refused_every_command_and_button_and_nothing_changes(shop, engine, user_id):
    other = shop.chat(user_id)
    before = await state(engine)
    for text in ("/shop", "/shop name Чужая", "/shop zone Asia/Tokyo", "/point", "/point add x Икс",
                 "/point center prep 1", "/promo", "/promo FREE100 100%", "/promo end WELCOME", "/staff",
                 f"/staff add telegram:{user_id} *", "/staff remove telegram:2"):
        assert (await other.send(text)).text == "Это может делать только владелец магазина.", text
    # a hand-made button press (a modified client can send any callback data) is refused as well
    refusal = shop.fake.sent(user_id)[-1]
    for name, arg in (("adm_shop", ""), ("adm_promos", ""), ("adm_staff", ""), ("shop_points", ""),
                      ("promo_end", "WELCOME"), ("promo_end_ok", "WELCOME")):
        shop.fake.push_update({"callback_query": {
            "id": f"{name}{user_id}", "from": {"id": user_id, "is_bot": False, "first_name": "Чужой"},
            "data": Act(name=name, arg=arg).pack(), "chat_instance": str(user_id),
            "message": shop.fake._message_json(refusal)}})
        assert (await shop.fake.next_message(user_id)).text == "Это может делать только владелец магазина.", name
    assert await state(engine) == before


# --- VK -----------------------------------------------------------------------------------------------

@pytest.fixture
async def vk(db, clock):
    engine = Engine(db.uow, owners=[OWNER, VK_OWNER], clock=clock, reader=db.reading)
    await engine.start()
    await seed(engine)
    await engine.save_promo(Promo("WELCOME", PromoKind.PERCENT, 10, max_uses=1000))
    async with vk_shop(engine) as shop:
        shop.channel.messenger.limiter = UNPACED
        yield shop


async def test_a_vk_owner_sets_up_the_shop_the_same_way(vk):
    engine, owner = vk.engine, vk.dialogue(int(VK_OWNER.external_id))
    assert (await owner.send("/shop name Витрина ВК")).text == "Готово. Название: Витрина ВК"
    assert "Точка добавлена" in (await owner.send("/point add north Север")).text
    assert "часы: mon-sun 10:00-20:00" in (await owner.send("/point north hours mon-sun 10:00-20:00")).text
    assert "Промокод создан" in (await owner.send("/promo VK2026 200 50")).text
    assert (await owner.send("/staff add vk:777 north")).text == "Готово: vk:777 — сотрудник, north."
    listed = await owner.send("/promo")
    ask = await owner.press(listed, "Завершить WELCOME")
    assert (await owner.press(ask, "Да, завершить")).text == "Промокод WELCOME завершён. Использован 0 раз."
    assert "Неизвестный часовой пояс" in (await owner.send("/shop zone Луна")).text

    view = await engine.shop_settings(VK_OWNER)
    assert view.rules.name == "Витрина ВК" and view.rules.timezone == "Europe/Moscow"
    north = next(p for p in view.points if p.id == "north")
    assert north.hours.format() == "mon-sun 10:00-20:00"
    assert await codes(engine) == {"VK2026": (20000, 50, "active"), "WELCOME": (10, 1000, "ended")}
    assert (CustomerRef(Channel.VK, "777"), "north") in (await engine.staff(VK_OWNER)).staff
    assert {c.actor for c in await engine.changes(VK_OWNER)} == {"vk:601"}


async def test_a_vk_stranger_is_refused_commands_and_hand_made_buttons(vk):
    engine, stranger = vk.engine, vk.dialogue(602)
    before = await state(engine)
    for text in ("/shop name Чужая", "/point add x Икс", "/promo FREE100 100%", "/promo end WELCOME",
                 "/staff add vk:602 *"):
        assert (await stranger.send(text)).text == "Это может делать только владелец магазина.", text
    for payload in ({"a": "promo_end_ok", "id": "WELCOME"}, {"a": "adm_shop"}, {"a": "adm_staff"}):
        vk.fake.message_event(602, payload)
        assert (await vk.fake.next_message(602)).text == "Это может делать только владелец магазина."
    assert await state(engine) == before


# --- the command line, as processes -------------------------------------------------------------------

def audit_rows(db) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT actor, action, target FROM audit_log ORDER BY id").fetchall()


@pytest.mark.slow
def test_the_cli_sets_the_shop_points_and_promo_codes_and_ends_the_demo_code(tmp_path):
    vitrina(tmp_path, "demo", "seed")
    assert "WELCOME\t10%\tused 0/1000\tactive" in vitrina(tmp_path, "promo", "list").stdout
    out = vitrina(tmp_path, "promo", "end", "WELCOME")
    assert out.stdout.strip().splitlines() == ["promo code ended: WELCOME\t10%\tused 0/1000\tended"]
    out = vitrina(tmp_path, "shop", "set", "name", "Кофейня", "на", "Пушкина")
    assert out.stdout.strip() == "shop name is now Кофейня на Пушкина"
    vitrina(tmp_path, "shop", "set", "zone", "Europe/Samara")
    vitrina(tmp_path, "point", "add", "south", "Витрина", "на", "Юге", "--address", "ул. Южная, 5",
            "--hours", "mon-fri 08:00-21:00; sat-sun 10:00-20:00", "--prep", "12")
    vitrina(tmp_path, "point", "set", "park", "prep", "15")
    vitrina(tmp_path, "promo", "add", "SUMMER", "150", "20", "until", "2099-08-31")
    shown = vitrina(tmp_path, "shop", "show").stdout
    assert "name\tКофейня на Пушкина\n" in shown and "zone\tEurope/Samara\n" in shown
    points = vitrina(tmp_path, "point", "list").stdout
    assert "south\tВитрина на Юге\tул. Южная, 5\tmon-fri 08:00-21:00; sat-sun 10:00-20:00\tprep 12 min" in points
    assert "park\t«Витрина» в парке\tПарковая ул., 3\tmon-sun 10:00-20:00\tprep 15 min" in points
    promos = vitrina(tmp_path, "promo", "list").stdout.splitlines()
    assert promos == ["SUMMER\t150 ₽\tused 0/20\tactive\tuntil 2099-08-31 (Europe/Samara)",
                      "WELCOME\t10%\tused 0/1000\tended"]
    assert audit_rows(tmp_path / "vitrina.db") == [
        ("cli:owner", "promo_end", "promo:WELCOME"), ("cli:owner", "shop", "shop:name"),
        ("cli:owner", "shop", "shop:timezone"), ("cli:owner", "point", "point:south"),
        ("cli:owner", "point", "point:park"), ("cli:owner", "promo", "promo:SUMMER")]


@pytest.mark.slow
@pytest.mark.parametrize("args, says", [
    (("shop", "set", "zone", "Mars/Olympus"), "Unknown time zone 'Mars/Olympus'"),
    (("shop", "set", "earn", "150"), "a whole number from 0 to 100"),
    (("shop", "set", "colour", "red"), "There is no setting 'colour'"),
    (("point", "add", "center", "Ещё", "центр"), "Pickup point center exists already"),
    (("point", "add", "north", "Север", "--hours", "mon-fri 8-21"), "Opening hours not understood"),
    (("point", "set", "moon", "prep", "5"), "There is no such pickup point"),
    (("point", "set", "center", "prep", "300"), "from 0 to 240"),
    (("promo", "add", "FREE", "0%"), "from 1 to 100"),
    (("promo", "add", "FREE", "150%"), "from 1 to 100"),
    (("promo", "add", "FREE", "10%", "until", "2026-02-30"), "Date '2026-02-30' not understood"),
    (("promo", "add", "WELCOME", "5%"), "Promo code WELCOME exists (or existed) already"),
    (("promo", "end", "NOSUCH"), "Unknown promo code"),
])
def test_a_cli_refusal_is_one_line_exit_1_and_changes_nothing(tmp_path, args, says):
    vitrina(tmp_path, "demo", "seed")
    before = [vitrina(tmp_path, *what).stdout for what in (("shop", "show"), ("point", "list"), ("promo", "list"))]
    result = vitrina(tmp_path, *args, check=False)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    after = [vitrina(tmp_path, *what).stdout for what in (("shop", "show"), ("point", "list"), ("promo", "list"))]
    assert after == before and audit_rows(tmp_path / "vitrina.db") == []
