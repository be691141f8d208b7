"""The owner edits the menu from the chat, in Telegram (the real aiogram bot on the fake Bot API server) and
in VK (vkbottle on the fake VK API): each change is seen at once by a customer in the Mini App (its real
aiohttp app) and in the chat menu; customers are refused; bad input changes nothing."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import launch_data
import pytest
import telegram_harness as tg
import vk_harness as vk
from shop_fixtures import OWNER, seed

from adapters.qr import QrcodeRenderer
from adapters.ratelimit import RateLimiter
from adapters.telegram.launch import TelegramMiniApp
from journey.catalog import Item
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.errors import ErrorCode
from journey.money import Money
from webapp import WebappConfig, create_app

VK_OWNER = CustomerRef(Channel.VK, "77")
APP_TOKEN = "123456789:AAtest-bot-token"
NOT_OWNER = ErrorCode.NOT_OWNER.message("ru")


@pytest.fixture
async def engine(db, clock) -> Engine:
    """The demo shop with two owners: telegram:1 and vk:77."""
    eng = Engine(db.uow, owners=[OWNER, VK_OWNER], clock=clock, reader=db.reading)
    await eng.start()
    await seed(eng)
    return eng


def unpaced(messenger: Any) -> None:
    # a chat gets one message a second after a burst of three; a dialogue of twenty steps need not wait
    messenger.limiter = RateLimiter(per_second=10_000, chat_interval=0)


@dataclass
class Side:
    """One channel as the test sees it: the owner's chat, a customer's chat, and how to read buttons."""

    name: str
    owner: Any  # telegram_harness.Chat or vk_harness.Dialogue: send(text), press(message, label)
    customer: Any
    labels: Callable[[Any], list[str]]
    forge: Callable[[Any, Any, str, str], None]  # (chat, a message it got, action, id): a press it never saw


def _tg_labels(message) -> list[str]:
    return [b["text"] for b in tg.buttons(message)]


def _vk_labels(message) -> list[str]:
    return [b["label"] for b in vk.buttons(message)]


@pytest.fixture(params=["telegram", "vk"])
async def side(request, engine):
    if request.param == "telegram":
        async with tg.telegram_shop(engine) as shop:
            unpaced(shop.channel.messenger)

            def forge(chat, message, action, arg):
                shop.fake.push_update({"callback_query": {
                    "id": "forged", "from": shop.fake._user(chat.user_id), "data": f"v:{action}:{arg}",
                    "chat_instance": "x", "message": shop.fake._message_json(message)}})
            yield Side("telegram", shop.chat(int(OWNER.external_id)), shop.chat(5001), _tg_labels, forge)
    else:
        async with vk.vk_shop(engine) as shop:
            unpaced(shop.channel.messenger)

            def forge(chat, message, action, arg):
                shop.fake.message_event(chat.user_id, {"a": action, "id": arg},
                                        conversation_message_id=message.conversation_message_id)
            yield Side("vk", shop.dialogue(int(VK_OWNER.external_id)), shop.dialogue(501), _vk_labels, forge)


@pytest.fixture
async def mini_app(aiohttp_client, engine, clock):
    """``await mini_app(point)``: the Mini App's menu as a customer gets it, item id -> item."""
    config = WebappConfig(demo=False, mini_apps=[TelegramMiniApp(APP_TOKEN, lambda: "vitrina_test_bot")])
    client = await aiohttp_client(create_app(engine, config, QrcodeRenderer()))

    async def menu(point: str | None = None) -> dict[str, dict]:
        init = launch_data.telegram_init_data(5001, int(clock.now().timestamp()), token=APP_TOKEN)
        answer = await client.get("/api/menu" + (f"?point={point}" if point else ""),
                                  headers={"Authorization": f"tma {init}"})
        assert answer.status == 200
        return {i["id"]: i for i in (await answer.json())["items"]}
    return menu


async def chat_menu(side: Side, section: str = "Кофе") -> list[str]:
    """The buttons a customer sees in a section of the chat menu."""
    sections = await side.customer.send("/menu")
    return side.labels(await side.customer.press(sections, section))


async def data(engine: Engine) -> tuple:
    """Everything a menu edit may touch: items (hidden too), stock, categories, the log, open dialogs."""
    menu = await engine.owner_menu(OWNER)
    dialogs = [await engine.dialog(who) for who in (OWNER, VK_OWNER)]
    return [(r.item, r.stock) for r in menu.rows], menu.categories, await engine.changes(OWNER, 100), dialogs


async def test_price_hide_show_and_stock_are_seen_at_once(side, mini_app):
    owner = side.owner
    assert (await owner.send("/price Латте 260")).text == "Латте: цена 250 ₽ → 260 ₽"
    assert (await mini_app())["latte"]["price"]["amount"] == 26000
    assert "Латте — 260 ₽" in await chat_menu(side)

    assert (await owner.send("/hide эспрессо")).text == "Эспрессо: видимость в меню → скрыта"
    assert "espresso" not in await mini_app()
    assert not any("Эспрессо" in label for label in await chat_menu(side))
    assert (await owner.send("/hide Эспрессо")).text == "Эспрессо: уже так, ничего не изменилось."
    assert (await owner.send("/show ESPRESSO")).text == "Эспрессо: видимость скрыта → в меню"
    assert "espresso" in await mini_app() and "Эспрессо — 150 ₽" in await chat_menu(side)

    assert (await owner.send("/stock Круассан 4 center")).text == "Круассан: остаток в «Центр» 10 → 4"
    assert (await mini_app("center"))["croissant"]["stock"] == 4
    assert (await owner.send("/stock croissant 0 park")).text == "Круассан: остаток в «Парк» 3 → 0"
    assert (await mini_app("park"))["croissant"]["sold_out"] is True
    assert (await owner.send("/stock круассан off center")).text == "Круассан: остаток в «Центр» 4 → не считается"
    assert (await mini_app("center"))["croissant"]["stock"] is None


async def test_an_item_is_added_by_the_dialog_a_bad_price_asked_again(side, mini_app, engine):
    owner = side.owner
    ask = await owner.send("/item")
    assert "шаг 1 из 5" in ask.text and side.labels(ask) == ["Кофе", "Выпечка", "Отмена"]
    ask = await owner.press(ask, "Кофе")
    assert "Название позиции" in ask.text
    ask = await owner.send("Раф ванильный")
    assert "Цена в рублях" in ask.text
    again = await owner.send("12,345")
    assert again.text.startswith("Не принято: price: not a price in rubles: '12,345'") and "шаг 3 из 5" in again.text
    assert "Отмена" in side.labels(again)
    ask = await owner.send("260")
    assert "шаг 4 из 5" in ask.text
    ask = await owner.press(ask, "Пропустить")
    ask = await owner.send("Размер: S, M +40")
    assert ask.text == ("Проверьте и сохраните:\nРаздел: Кофе\nНазвание: Раф ванильный\nЦена: 260 ₽\n"
                        "Описание: —\nОпции: Размер: S, M +40 ₽")
    assert "raf-vanilnyy" not in await mini_app() and await engine.changes(OWNER) == []  # nothing before Save

    saved = await owner.press(ask, "Сохранить")
    assert saved.text == "Сохранено. Раф ванильный: новая позиция (Кофе, 260 ₽)"
    raf = (await mini_app())["raf-vanilnyy"]
    assert (raf["name"], raf["price"]["amount"], raf["category"]) == ("Раф ванильный", 26000, "coffee")
    assert [(o["name"], o["price_delta"]["amount"]) for o in raf["options"][0]["options"]] == [("S", 0), ("M", 4000)]
    assert "Раф ванильный — 260 ₽" in await chat_menu(side)
    logged = (await engine.changes(OWNER))[0]
    who = OWNER if side.name == "telegram" else VK_OWNER
    assert (logged.action, logged.target, logged.before, logged.actor) == ("item", "item:raf-vanilnyy", None, who.key)
    assert await engine.dialog(who) is None
    assert (await owner.press(ask, "Сохранить")).text.startswith("Этот диалог уже закрыт")  # saved once
    assert len(await engine.changes(OWNER)) == 1


async def test_a_cancel_in_the_middle_writes_nothing(side, engine, mini_app):
    before = await data(engine)
    owner = side.owner
    await owner.send("/item")
    await owner.send("Чай")  # a new category, typed
    ask = await owner.send("Улун")
    assert "шаг 3 из 5" in ask.text
    assert (await owner.press(ask, "Отмена")).text == "Отменено, ничего не изменилось."
    assert await data(engine) == before
    assert (await owner.send("300")).text.startswith("Не понял вас")  # the dialog is closed

    await owner.send("/item Латте")
    await owner.send("Выпечка")
    assert (await owner.send("/cancel")).text == "Отменено, ничего не изменилось."
    assert await data(engine) == before
    assert (await mini_app())["latte"]["category"] == "coffee"


async def test_editing_keeps_what_is_kept(side, mini_app):
    owner = side.owner
    ask = await owner.send("/item латте")
    assert ask.text.startswith("Изменение «Латте», шаг 1 из 5.") and "Сейчас: Кофе" in ask.text
    ask = await owner.press(ask, "Оставить как есть")
    ask = await owner.press(ask, "Оставить как есть")
    assert "Сейчас: 250 ₽" in ask.text
    again = await owner.send("-5")
    assert again.text.startswith("Не принято: price: not a price in rubles: '-5'") and "шаг 3 из 5" in again.text
    ask = await owner.send("300")
    ask = await owner.send("Большой и горячий")
    summary = await owner.press(ask, "Оставить как есть")
    assert "Опции: Размер: S, M +40 ₽, L +80 ₽; Молоко" in summary.text
    saved = await owner.press(summary, "Сохранить")
    assert saved.text == "Сохранено. Латте: цена 250 ₽ → 300 ₽, описание — → «Большой и горячий»"
    latte = (await mini_app())["latte"]
    assert (latte["price"]["amount"], latte["description"], len(latte["options"])) == (30000, "Большой и горячий", 3)


async def test_undo_takes_back_the_last_changes_one_by_one(side, mini_app):
    owner = side.owner
    await owner.send("/price Латте 260")
    await owner.send("/stock Круассан 2 center")
    assert (await owner.send("/undo")).text == "Отменено. Круассан: остаток в «Центр» 2 → 10"
    assert (await mini_app("center"))["croissant"]["stock"] == 10
    assert (await owner.send("/undo")).text == "Отменено. Латте: цена 260 ₽ → 250 ₽"
    assert (await mini_app())["latte"]["price"]["amount"] == 25000 and "Латте — 250 ₽" in await chat_menu(side)
    assert (await owner.send("/undo")).text == "Отменять нечего."


COMMANDS = ["/admin", "/price Латте 1", "/hide Латте", "/show Латте", "/stock Круассан 0 center",
            "/stock Круассан off", "/item", "/item Латте", "/undo"]


async def test_a_customer_is_refused_every_command_and_button_and_nothing_changes(side, engine):
    await engine.change_price(OWNER, "latte", "260")  # something an undo could take back
    before = await data(engine)
    for text in COMMANDS:
        assert (await side.customer.send(text)).text == NOT_OWNER, text
    got = await side.customer.send("/menu")
    for action, arg in (("adm_hide", "latte"), ("adm_items", ""), ("adm_item", ""), ("adm_save", ""),
                        ("adm_undo", ""), ("adm_log", ""), ("adm_card", "latte"), ("admin", "")):
        side.forge(side.customer, got, action, arg)
        assert (await side.customer.fake.next_message(side.customer.user_id)).text == NOT_OWNER, action
    assert await data(engine) == before
    assert await engine.dialog(side.customer.ref) is None


@pytest.mark.parametrize("text, answer", [
    ("/price Латте 12,345", "Не принято: price: not a price in rubles: '12,345' (expected 250, 249.90 or 249,90)"),
    ("/price Латте -5", "Не принято: price: not a price in rubles: '-5' (expected 250, 249.90 or 249,90)"),
    ("/price Латте abc", "Не принято: price: not a price in rubles: 'abc' (expected 250, 249.90 or 249,90)"),
    ("/price Капучино 100", "Такой позиции нет в меню: «Капучино». Список — /admin, «Позиции меню»."),
    ("/hide Раф ванильный", "Такой позиции нет в меню: «Раф ванильный». Список — /admin, «Позиции меню»."),
    ("/show эклер", "Эклер: уже так, ничего не изменилось."),
    ("/hide круассан", "Не принято: 'круассан' is the name of several items: croissant, kruassan; "
                       "name one by its id"),
    ("/stock Эклер -1 center", "Не принято: stock must be a whole number, zero or more, or off; got '-1'"),
    ("/stock Эклер lots center", "Не принято: stock must be a whole number, zero or more, or off; got 'lots'"),
    ("/stock Эклер lots", "Не принято: stock must be a whole number, zero or more, or off; got 'lots'"),
    ("/stock Эклер 5 mall", "Такой точки выдачи нет: «mall». Точки: center (Центр), park (Парк)."),
    ("/stock Эклер 5", "Не принято: the shop has several pickup points, name one: center, park"),
    ("/price Латте", "Как: /price <позиция> <цена>, например /price Латте 260"),
    ("/hide", "Как: /hide <позиция>, например /hide Латте"),
    ("/stock Эклер", "Как: /stock <позиция> <количество|off> [точка], например /stock Круассан 12 center"),
])
async def test_bad_input_is_explained_and_changes_nothing(side, engine, text, answer):
    await engine.save_item(OWNER, "Кофе", "Круассан", "90", "", "")  # a second item by the name: kruassan
    before = await data(engine)
    assert (await side.owner.send(text)).text == answer
    assert await data(engine) == before


async def test_the_panel_lists_the_commands_and_leads_to_items_and_the_log(side, engine, mini_app):
    owner = side.owner
    panel = await owner.send("/admin")
    for command in ("/price", "/hide", "/show", "/stock", "/item", "/photo", "/undo", "/promo", "/broadcast",
                    "/stats", "/staff", "/shop", "/point"):
        assert f"\n{command} " in panel.text, command
    assert side.labels(panel) == ["Позиции меню", "Новая позиция", "Журнал изменений", "Отменить последнее",
                                  "Магазин", "Промокоды", "Сотрудники", "Рассылка", "Статистика", "Заказы"]
    listing = await owner.press(panel, "Позиции меню")
    assert "Круассан — 180 ₽ · Центр 10, Парк 3" in listing.text
    card = await owner.press(listing, "Латте")
    assert "Цена: 250 ₽\nВ меню: да" in card.text
    hidden = await owner.press(card, "Скрыть")
    assert hidden.text.startswith("Латте: видимость в меню → скрыта") and "В меню: скрыта" in hidden.text
    assert "latte" not in await mini_app()
    edit = await owner.press(hidden, "Изменить")
    assert edit.text.startswith("Изменение «Латте», шаг 1 из 5.")
    await owner.press(edit, "Отмена")

    await owner.send("/price Эклер 175,50")
    log = await owner.press(await owner.send("/admin"), "Журнал изменений")
    who = (OWNER if side.name == "telegram" else VK_OWNER).key
    assert log.text == ("Последние изменения:\n"
                        f"18.11 09:00 · {who} · Эклер: цена 169,90 ₽ → 175,50 ₽\n"
                        f"18.11 09:00 · {who} · Латте: видимость в меню → скрыта")
    undone = await owner.press(log, "Отменить последнее")
    assert undone.text == "Отменено. Эклер: цена 175,50 ₽ → 169,90 ₽"
    log = await owner.press(await owner.send("/admin"), "Журнал изменений")
    assert log.text.splitlines()[1:3] == [f"18.11 09:00 · {who} · ↩ Эклер: цена 175,50 ₽ → 169,90 ₽",
                                          f"18.11 09:00 · {who} · Эклер: цена 169,90 ₽ → 175,50 ₽ (отменено)"]
    new = await owner.press(await owner.send("/admin"), "Новая позиция")
    assert new.text.startswith("Новая позиция, шаг 1 из 5.")


async def test_undo_does_not_overwrite_what_the_other_owner_changed_since(engine, mini_app):
    async with tg.telegram_shop(engine) as telegram, vk.vk_shop(engine) as vk_side:
        unpaced(telegram.channel.messenger)
        unpaced(vk_side.channel.messenger)
        in_telegram, in_vk = telegram.chat(int(OWNER.external_id)), vk_side.dialogue(int(VK_OWNER.external_id))
        await in_telegram.send("/price Латте 260")
        await in_vk.send("/price латте 270")
        before = await data(engine)
        refused = await in_telegram.send("/undo")
        assert refused.text == "Не отменено: «Латте» с тех пор изменил другой владелец. Поправьте вручную."
        assert await data(engine) == before and (await mini_app())["latte"]["price"]["amount"] == 27000
        assert (await in_vk.send("/undo")).text == "Отменено. Латте: цена 270 ₽ → 260 ₽"
        assert (await in_telegram.send("/undo")).text == "Отменено. Латте: цена 260 ₽ → 250 ₽"
        assert (await mini_app())["latte"]["price"]["amount"] == 25000


async def test_a_long_menu_is_paged_and_an_imported_long_id_still_has_its_card(side, engine, mini_app):
    long_id = "syrnik-" + "x" * 57  # 64 characters, as a menu file may give: too long for callback data as is
    for n in range(8):
        await engine.save_item(OWNER, "Выпечка", f"Печенье {n}", "50", "", "")
    async with engine.uow() as uow:
        await uow.catalog.save_item(Item(long_id, "bakery", "Сырник", Money(9000), position=100))
    listing = await side.owner.press(await side.owner.send("/admin"), "Позиции меню")
    assert listing.text.startswith("Позиции меню (1–7 из 13):") and "▶" in side.labels(listing)
    listing = await side.owner.press(listing, "▶")
    assert listing.text.startswith("Позиции меню (8–13 из 13):") and "◀" in side.labels(listing)
    card = await side.owner.press(listing, "Сырник")
    assert card.text.startswith(f"Сырник ({long_id})")
    hidden = await side.owner.press(card, "Скрыть")
    assert hidden.text.startswith("Сырник: видимость в меню → скрыта")
    assert long_id not in await mini_app()


async def test_long_values_and_a_full_log_still_fit_one_message(engine):
    """Telegram refuses a text over 4096 characters: long descriptions and options are shortened in the
    chat (the Mini App shows them whole), and fifteen busy log entries fit one message."""
    options = "; ".join(f"Группа {g}: " + ", ".join(f"вариант {g}{n} +{n}" for n in range(8)) for g in range(6))
    for n in range(15):
        await engine.save_item(OWNER, ("Кофе", "Выпечка")[n % 2], f"Латте большой и горячий номер {n:02}",
                               str(300 + n), f"{n} " + "очень вкусно " * 300, options if n % 2 else "",
                               item_id="latte")
    async with tg.telegram_shop(engine) as shop:
        unpaced(shop.channel.messenger)
        owner = shop.chat(int(OWNER.external_id))
        log = await owner.press(await owner.send("/admin"), "Журнал изменений")
        assert len(log.text.splitlines()) == 16 and "номер 14" in log.text
        listing = await owner.press(await owner.send("/admin"), "Позиции меню")
        card = await owner.press(listing, "Латте большой")
        assert "Описание: 14 очень вкусно" in card.text
        ask = await owner.press(card, "Изменить")
        for _ in range(3):
            ask = await owner.press(ask, "Оставить как есть")
        ask = await owner.send("новое " * 600)
        summary = await owner.press(ask, "Оставить как есть")
        assert "Описание: новое новое" in summary.text
