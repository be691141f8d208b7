"""Conversations in Telegram, read as dialogues: the real aiogram bot against the fake Bot API server."""
from __future__ import annotations

import pytest
from shop_fixtures import BARISTA, OWNER
from telegram_harness import button, buttons, telegram_shop

from journey.channels import Channel, CustomerRef
from journey.model import CartLine

LATTE_M_OAT = CartLine("latte", 2, {"size": ("m",), "milk": ("oat",)})


@pytest.fixture
async def shop(engine):
    async with telegram_shop(engine, staff_chat=-100500) as shop:
        yield shop


async def customer_of(engine, chat):
    return (await engine.profile(chat.ref)).customer


async def test_start_from_a_map_listing_to_a_repeated_order(shop, engine):
    anna = shop.chat(501)
    hello = await anna.send("/start s2gis")
    assert "Здравствуйте, Аня!" in hello.text
    assert button(hello, "Открыть меню")["web_app"]["url"] == "https://coffee.example/?start=s2gis"
    assert (await customer_of(engine, anna)).source == "2gis"

    sections = await anna.press(hello, "Меню в чате")
    assert [b["text"] for b in buttons(sections)][:2] == ["Кофе", "Выпечка"]
    coffee = await anna.press(sections, "Кофе")
    assert "Латте — 250 ₽" in [b["text"] for b in buttons(coffee)]
    latte = await anna.press(coffee, "Латте")
    assert "Размер: S, M +40 ₽, L +80 ₽" in latte.text

    first = await engine.place_order(anna.ref, [LATTE_M_OAT], "center")  # ordered in the Mini App
    offer = await anna.send("/repeat")
    assert "Латте (M, Овсяное) × 2 — 700 ₽" in offer.text and "Итого: 700 ₽" in offer.text
    placed = await anna.press(offer, "Подтвердить")
    assert "Заказ №" in placed.text and "700 ₽" in placed.text
    orders = await engine.orders_of(anna.ref)
    assert len(orders) == 2 and orders[0].id != first.order.id
    assert orders[0].lines == first.order.lines and orders[0].source == "chat:repeat"

    # pressing the same confirmation again places nothing new
    anna.fake.press_button(anna.user_id, offer.message_id, button(offer, "Подтвердить")["callback_data"])
    again = await anna.fake.next_message(anna.user_id)
    assert again.text == placed.text
    assert len(await engine.orders_of(anna.ref)) == 2


@pytest.mark.parametrize("param, expected", [
    ("pcenter", "Вы у точки «Центр»"),
    ("tcenter_7", "Стол 7, «Центр»"),
    ("gGIFT1", "Здравствуйте"),
    ("syamaps", "Здравствуйте"),
    ("pmars", "Ссылку не удалось распознать"),
    ("%%bad%%", "Ссылку не удалось распознать"),
])
async def test_deep_links_are_recorded_and_answered_politely(shop, engine, param, expected):
    chat = shop.chat(600)
    reply = await chat.send(f"/start {param}")
    assert expected in reply.text
    async with engine.read() as uow:
        assert await uow.visits.count() == 1


async def test_a_referral_link_names_the_friend(shop, engine):
    friend = await engine.profile(CustomerRef(Channel.VK, "77"))
    chat = shop.chat(601)
    reply = await chat.send(f"/start r{friend.customer.referral_code}")
    assert "Вас пригласил друг" in reply.text
    assert (await customer_of(engine, chat)).referred_by == friend.customer.id


async def test_orders_points_help_and_unknown_text(shop, engine):
    chat = shop.chat(602)
    assert "Заказов пока нет" in (await chat.send("/orders")).text
    await engine.place_order(chat.ref, [LATTE_M_OAT], "center")
    listing = await chat.send("/orders")
    assert "700 ₽, оформлен" in listing.text
    points = await chat.send("/points")
    assert "У вас 0 баллов" in points.text and "https://coffee.example/go/r" in points.text
    assert "/link" in (await chat.send("/help")).text
    assert "Не понял вас" in (await chat.send("как дела?")).text


async def test_english_speakers_hear_english_and_can_switch(shop, engine):
    chat = shop.chat(603, first_name="Ann", language="en")
    assert (await chat.send("/start")).text.startswith("Hello, Ann!")
    assert "Язык: русский" in (await chat.send("/lang")).text
    assert "Меню" in (await chat.send("/menu")).text
    assert "Language: English" in (await chat.send("/lang en")).text


async def test_link_a_second_telegram_account_with_a_code(shop, engine):
    phone, tablet = shop.chat(604), shop.chat(605)
    await engine.place_order(phone.ref, [LATTE_M_OAT], "center")
    code = (await phone.send("/link")).text.split("код: ")[1].split()[0]
    assert len(code) == 6 and code.isdigit()
    assert "аккаунты связаны" in (await tablet.send(code)).text
    assert [o.id for o in await engine.orders_of(tablet.ref)] == [o.id for o in await engine.orders_of(phone.ref)]
    assert "неверный или устарел" in (await tablet.send(code)).text  # single use


async def test_a_whole_journey_is_told_in_order_and_once(shop, engine):
    chat = shop.chat(606)
    await chat.send("/start pcenter")
    view = await engine.place_order(chat.ref, [LATTE_M_OAT, CartLine("croissant")], "center")
    code = view.order.short_code
    await shop.notify()
    staff_note = await shop.fake.next_message(-100500)
    assert f"Новый заказ № {code}" in staff_note.text and "Латте (M, Овсяное) × 2" in staff_note.text

    await engine.accept(BARISTA, view.order.id)
    await engine.mark_ready(BARISTA, view.order.id)
    await engine.hand_over(BARISTA, short_code=code)
    await shop.notify()
    told = [m for m in shop.fake.sent(chat.user_id)][1:]  # after the greeting
    assert [m.text.split("!")[0].split(".")[0] for m in told] == [
        f"Заказ № {code} принят и готовится", f"Заказ № {code} готов", "Приятного аппетита"]
    assert told[1].photo and told[1].photo.startswith(b"\x89PNG")
    assert "Начислено баллов: 4400" in told[2].text

    # the relay handing the same events over again sends nothing new
    async with engine.read() as uow:
        stored = await uow.outbox.pending("someone-else", 100)
    for event in stored:
        assert await shop.relay.deliver("notify", event) is False
    assert len(shop.fake.sent(chat.user_id)) == 4


async def test_staff_accept_from_the_staff_chat_and_strangers_are_refused(shop, engine):
    chat = shop.chat(607)
    view = await engine.place_order(chat.ref, [LATTE_M_OAT], "center")
    await shop.notify()
    note = await shop.fake.next_message(-100500)
    data = button(note, "Принять")["callback_data"]

    shop.fake.press_button(-100500, note.message_id, data)  # pressed by someone who is not staff
    refused = await shop.fake.next_message(-100500)
    assert "только сотрудники" in refused.text
    assert (await engine.order_view(OWNER, view.order.id)).order.status.value == "placed"

    barista = shop.chat(int(BARISTA.external_id))
    shop.fake.push_update({"update_id": 9001, "callback_query": {
        "id": "cb1", "from": {"id": int(BARISTA.external_id), "is_bot": False, "first_name": "Бариста"},
        "chat_instance": "x", "data": data, "message": {"message_id": note.message_id, "date": 0,
                                                      "chat": {"id": -100500, "type": "group", "title": "Бар"}}}})
    accepted = await shop.fake.next_message(-100500)
    assert "принят" in accepted.text
    assert (await engine.order_view(OWNER, view.order.id)).order.status.value == "accepted"
    assert barista.ref.external_id == BARISTA.external_id


async def test_stop_means_no_more_unsolicited_messages(shop, engine):
    chat = shop.chat(608)
    await chat.send("/start")
    assert "больше не будем писать" in (await chat.send("/stop")).text
    view = await engine.place_order(chat.ref, [LATTE_M_OAT], "center")
    await engine.accept(BARISTA, view.order.id)
    await shop.notify()
    assert len(shop.fake.sent(chat.user_id)) == 2
    assert "Здравствуйте" in (await chat.send("/start")).text  # consent is back
    assert (await customer_of(engine, chat)).consent is True


async def test_a_429_is_waited_out_and_retried(shop, engine):
    chat = shop.chat(609)
    shop.fake.fail_next("sendMessage", retry_after=1)
    reply = await chat.send("/help")
    assert "Что я умею" in reply.text
    assert shop.fake.too_many == 1
    assert len(shop.fake.calls_of("sendMessage")) == 1


async def test_commands_and_menu_button_are_set_up(shop):
    commands = shop.fake.calls_of("setMyCommands")
    assert {c.get("language_code") for c in commands} == {None, "en"}
    menu = shop.fake.calls_of("setChatMenuButton")
    assert menu and menu[0]["menu_button"]["web_app"]["url"] == "https://coffee.example/"


async def test_data_sent_from_the_mini_app_shows_the_order(shop, engine):
    chat = shop.chat(610)
    view = await engine.place_order(chat.ref, [LATTE_M_OAT], "center")
    shop.fake.push_update({"message": {
        "message_id": 5, "date": 0, "chat": {"id": 610, "type": "private"},
        "from": {"id": 610, "is_bot": False, "first_name": "Аня"},
        "web_app_data": {"data": view.order.id, "button_text": "Заказать"}}})
    reply = await shop.fake.next_message(610)
    assert f"Заказ № {view.order.short_code}" in reply.text
    shop.fake.push_update({"message": {
        "message_id": 6, "date": 0, "chat": {"id": 610, "type": "private"},
        "from": {"id": 610, "is_bot": False, "first_name": "Аня"},
        "web_app_data": {"data": "o_forged", "button_text": "Заказать"}}})
    assert "Заказ не найден" in (await shop.fake.next_message(610)).text
