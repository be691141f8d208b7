"""The orders board in the chat, as staff use it: the real aiogram bot against the fake Bot API and vkbottle
against the fake VK API. A table's order shows its table, every order its pickup time and, once past it,
how late it is; accept, ready, hand over (the customer's code typed) and cancel (confirmed) go through the
buttons, each press says what changed, a stale press changes nothing; customers are refused and learn nothing.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from shop_fixtures import BARISTA, OWNER
from telegram_harness import button, buttons, telegram_shop
from vk_harness import vk_shop

from adapters.ratelimit import RateLimiter
from journey.channels import Channel, CustomerRef
from journey.deeplinks import parse_start
from journey.engine import Engine
from journey.model import CartLine
from journey.states import OrderStatus

STAFF_CHAT = -100500
LATTE = CartLine("latte", 2, {"size": ("m",), "milk": ("oat",)})
# a board is several messages at once: the one-message-a-second pacing of a chat would only slow the tests
UNPACED = RateLimiter(per_second=1000, chat_interval=0.001)


@pytest.fixture
async def shop(engine):
    async with telegram_shop(engine, staff_chat=STAFF_CHAT) as shop:
        shop.channel.messenger.limiter = UNPACED
        yield shop


async def table_order(shop, engine: Engine, user_id: int = 701, param: str = "tcenter_7"):
    """A guest scans table 7's QR code: the bot greets them with a button that opens the Mini App with the
    table's start parameter, and the Mini App places the order with it as its source (webapp/views_orders)."""
    guest = shop.chat(user_id)
    hello = await guest.send(f"/start {param}")
    assert "Стол 7" in hello.text
    start = parse_qs(urlsplit(button(hello, "Открыть меню")["web_app"]["url"]).query)["start"][0]
    view = await engine.place_order(guest.ref, [LATTE, CartLine("croissant")], "center",
                                    source=parse_start(start).label)
    return guest, view.order


async def history(engine: Engine, order_id: str) -> list[OrderStatus]:
    return [s for s, _ in (await engine.order_view(OWNER, order_id)).order.history]


async def board(shop, chat, count: int, command: str = "/board") -> list:
    first = await chat.send(command)
    return [first] + [await shop.fake.next_message(chat.user_id) for _ in range(count - 1)]


# --- Telegram -----------------------------------------------------------------------------------------

async def test_a_table_order_from_the_staff_notice_to_the_customer(shop, engine):
    guest, order = await table_order(shop, engine)
    await shop.notify()
    note = await shop.fake.next_message(STAFF_CHAT)
    assert note.text.startswith(f"Новый заказ № {order.short_code} — Центр · Стол 7, к 09:05")
    assert [b["text"] for b in buttons(note)] == ["Принять", "Отменить"]

    barista = shop.chat(int(BARISTA.external_id))
    [card] = await board(shop, barista, 1)
    assert card.text.splitlines()[:2] == [f"№ {order.short_code} · Центр · Стол 7", "К 09:05 · оформлен"]
    assert "• Латте (M, Овсяное) × 2" in card.text and "Итого 880 ₽, оплата на кассе" in card.text

    accepted = await barista.press(card, "Принять")
    assert accepted.text.startswith(f"Заказ № {order.short_code} принят.") and "готовится" in accepted.text
    ready = await barista.press(accepted, "Готов")
    assert ready.text.startswith(f"Заказ № {order.short_code} готов, покупатель уведомлён.")
    asked = await barista.press(ready, "Выдать")
    assert "напишите код" in asked.text
    other = await engine.place_order(shop.chat(702).ref, [CartLine("espresso")], "center")
    wrong = await barista.send(other.order.short_code)  # the code of another order: nothing handed over
    assert f"не от заказа № {order.short_code}" in wrong.text
    assert (await barista.send("abc")).text == wrong.text.replace(other.order.short_code, "abc")
    assert await history(engine, order.id) == [OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.READY]
    given = await barista.send(order.short_code)
    assert given.text.startswith(f"Заказ № {order.short_code} выдан.") and buttons(given) == []
    assert (await engine.order_view(OWNER, other.order.id)).order.status is OrderStatus.PLACED

    # the customer heard each step, once
    await shop.notify()
    told = [m.text or m.caption for m in shop.fake.sent(guest.user_id)][1:]
    assert [t.split(".")[0].split("!")[0] for t in told] == [
        f"Заказ № {order.short_code} принят и готовится", f"Заказ № {order.short_code} готов", "Приятного аппетита"]


async def test_a_stale_button_says_what_the_order_is_and_changes_nothing(shop, engine):
    _, order = await table_order(shop, engine)
    barista = shop.chat(int(BARISTA.external_id))
    [card] = await board(shop, barista, 1)
    await barista.press(card, "Принять")
    again = await barista.press(card, "Принять")  # the first message's button, pressed a second time
    assert again.text.startswith(f"Заказ № {order.short_code} уже готовится: ничего не изменилось.")
    assert [b["text"] for b in buttons(again)] == ["Готов", "Отменить"]
    assert await history(engine, order.id) == [OrderStatus.PLACED, OrderStatus.ACCEPTED]

    await engine.mark_ready(BARISTA, order.id)  # done in the Mini App meanwhile
    assert "уже готов:" in (await barista.press(again, "Готов")).text
    await engine.hand_over(BARISTA, order_id=order.id)
    late_give = await barista.press(card, "Принять")
    assert "уже выдан: ничего не изменилось" in late_give.text and buttons(late_give) == []
    assert await history(engine, order.id) == [OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.READY,
                                               OrderStatus.PICKED_UP]


async def test_cancel_asks_first_and_gives_the_stock_back_once(shop, engine):
    _, order = await table_order(shop, engine)
    barista = shop.chat(int(BARISTA.external_id))
    [card] = await board(shop, barista, 1)
    asked = await barista.press(card, "Отменить")
    assert asked.text.startswith(f"Отменить заказ № {order.short_code}?")
    kept = await barista.press(asked, "Нет, оставить")
    assert kept.text.startswith(f"Заказ № {order.short_code} не отменён.")
    assert await history(engine, order.id) == [OrderStatus.PLACED]

    done = await barista.press(asked, "Да, отменить")
    assert done.text.startswith(f"Заказ № {order.short_code} отменён, покупатель уведомлён.")
    again = await barista.press(asked, "Да, отменить")
    assert "уже отменён: ничего не изменилось" in again.text
    assert (await engine.menu("center")).stock["croissant"] == 10  # given back once
    assert "уже отменён" in (await barista.press(card, "Отменить")).text
    assert (await barista.send("/board")).text == "Открытых заказов нет."


async def test_a_late_order_is_flagged(shop, engine, clock):
    _, order = await table_order(shop, engine)  # to be picked up at 09:05
    walk_in = await engine.place_order(shop.chat(703).ref, [CartLine("espresso")], "center",
                                       pickup_at=clock.now() + timedelta(minutes=40))
    barista = shop.chat(int(BARISTA.external_id))
    clock.advance(minutes=17)  # 09:17
    first, second = await board(shop, barista, 2)
    assert first.text.splitlines()[:2] == [f"№ {order.short_code} · Центр · Стол 7",
                                           "К 09:05 ⚠ опаздывает на 12 мин · оформлен"]
    assert second.text.splitlines()[:2] == [f"№ {walk_in.order.short_code} · Центр", "К 09:40 · оформлен"]


async def test_the_board_shows_only_the_staff_members_points_and_the_soonest_first(shop, engine):
    await engine.place_order(shop.chat(704).ref, [CartLine("espresso")], "park")
    _, order = await table_order(shop, engine)
    barista = shop.chat(int(BARISTA.external_id))  # staff at "center" only
    [card] = await board(shop, barista, 1, "доска")
    assert card.text.startswith(f"№ {order.short_code} · Центр")
    owner = shop.chat(int(OWNER.external_id))  # staff everywhere, from the panel's button too
    panel = await owner.send("/admin")
    owner_board = [await owner.press(panel, "Заказы"), await shop.fake.next_message(owner.user_id)]
    assert [m.text.splitlines()[0].split(" · ")[1] for m in owner_board] == ["Центр", "Парк"]


async def test_a_long_board_comes_a_page_at_a_time_with_a_next_button(shop, engine, clock):
    codes = []
    for n in range(10):  # one more than a page and a half: the pages are 8 and 2
        view = await engine.place_order(shop.chat(720 + n).ref, [CartLine("espresso")], "center")
        codes.append(view.order.short_code)
        clock.advance(minutes=1)
    barista = shop.chat(int(BARISTA.external_id))
    first = await board(shop, barista, 9)
    assert [m.text.split(" · ")[0] for m in first[:8]] == [f"№ {c}" for c in codes[:8]]
    more = first[8]
    assert more.text.startswith("Показаны 8 ближайших")
    second = [await barista.press(more, "Следующие"), await shop.fake.next_message(barista.user_id)]
    assert [m.text.split(" · ")[0] for m in second] == [f"№ {c}" for c in codes[8:]]
    assert all("Следующие" not in b["text"] for m in second for b in buttons(m))  # the last page


async def test_a_customer_asking_for_the_board_is_refused_and_learns_nothing(shop, engine):
    guest, order = await table_order(shop, engine)
    for asked in ("/board", "доска"):
        refused = await guest.send(asked)
        assert refused.text == "Это могут делать только сотрудники."
    # the staff buttons, forged with the order's id: refused, nothing changed, nothing shown
    for action in ("bd_accept", "bd_cancel", "bd_cancel_ok", "bd_give", "bd_keep"):
        shop.fake.push_update({"callback_query": {
            "id": f"cb-{action}", "from": {"id": guest.user_id, "is_bot": False, "first_name": "Аня"},
            "chat_instance": "x", "data": f"v:{action}:{order.id}",
            "message": {"message_id": 1, "date": 0, "chat": {"id": guest.user_id, "type": "private"}}}})
        answer = await shop.fake.next_message(guest.user_id)
        assert answer.text in ("Это могут делать только сотрудники.", "Заказ не найден."), answer.text
        assert order.short_code not in answer.text
    assert await history(engine, order.id) == [OrderStatus.PLACED]
    assert await engine.dialog(guest.ref) is None


async def test_english_staff_read_the_board_in_english(shop, engine):
    await table_order(shop, engine)
    await engine.add_staff(CustomerRef(Channel.TELEGRAM, "705"), "center")
    staff = shop.chat(705, first_name="Sam", language="en")
    [card] = await board(shop, staff, 1)
    assert "· Table 7" in card.text and "By 09:05 · placed" in card.text
    assert [b["text"] for b in buttons(card)] == ["Accept", "Cancel"]


# --- VK -----------------------------------------------------------------------------------------------

async def test_the_board_in_vk(engine):
    staff = CustomerRef(Channel.VK, "77")
    await engine.add_staff(staff, "center")
    async with vk_shop(engine) as shop:
        shop.channel.messenger.limiter = UNPACED
        guest = shop.dialogue(501)
        assert "Стол 7" in (await guest.send("Начать", ref="tcenter_7")).text
        view = await engine.place_order(guest.ref, [CartLine("espresso")], "center",
                                        source=parse_start("tcenter_7").label)
        code = view.order.short_code
        refused = await guest.send("/board")
        assert refused.text == "Это могут делать только сотрудники."

        barista = shop.dialogue(77)
        card = await barista.send("/board")
        assert card.text.splitlines()[:2] == [f"№ {code} · Центр · Стол 7", "К 09:05 · оформлен"]
        accepted = await barista.press(card, "Принять")
        assert accepted.text.startswith(f"Заказ № {code} принят.")
        ready = await barista.press(accepted, "Готов")
        stale = await barista.press(card, "Принять")
        assert "уже готов: ничего не изменилось" in stale.text
        asked = await barista.press(ready, "Выдать")
        assert "напишите код" in asked.text
        given = await barista.send(code)
        assert given.text.startswith(f"Заказ № {code} выдан.")
        assert (await engine.order_view(staff, view.order.id)).order.status is OrderStatus.PICKED_UP
        assert not (given.keyboard or {}).get("buttons")
