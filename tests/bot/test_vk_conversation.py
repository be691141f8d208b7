"""The same conversation in VK, read as dialogues: the real vkbottle against the fake VK API server."""
from __future__ import annotations

import json

import pytest
from shop_fixtures import BARISTA, OWNER
from vk_harness import APP_ID, build_channel, button, buttons, vk_shop

from journey.channels import Channel, CustomerRef
from journey.model import CartLine

LATTE_M_OAT = CartLine("latte", 2, {"size": ("m",), "milk": ("oat",)})
STAFF_PEER = 2000000001


@pytest.fixture
async def shop(engine):
    async with vk_shop(engine, staff_peer=STAFF_PEER) as shop:
        yield shop


async def test_start_from_a_vk_me_link_to_a_repeated_order(shop, engine):
    shop.fake.users[501] = ("Ира", "Котова")
    ira = shop.dialogue(501)
    hello = await ira.send("Привет", ref="s2gis")
    assert "Здравствуйте, Ира!" in hello.text
    app = button(hello, "Открыть меню")
    assert (app["type"], app["app_id"], app["hash"], app["owner_id"]) == ("open_app", APP_ID, "s2gis", -7)
    assert (await engine.profile(ira.ref)).customer.source == "2gis"

    sections = await ira.press(hello, "Меню в чате")
    assert [b["label"] for b in buttons(sections)][:2] == ["Кофе", "Выпечка"]
    coffee = await ira.press(sections, "Кофе")
    latte = await ira.press(coffee, "Латте")
    assert "Размер: S, M +40 ₽, L +80 ₽" in latte.text
    assert shop.fake.answers, "callback buttons are answered"

    await engine.place_order(ira.ref, [LATTE_M_OAT], "center")
    offer = await ira.send("повторить")
    assert "Итого: 700 ₽" in offer.text
    placed = await ira.press(offer, "Подтвердить")
    assert "Заказ №" in placed.text
    again = await ira.press(offer, "Подтвердить")
    assert again.text == placed.text
    assert len(await engine.orders_of(ira.ref)) == 2


async def test_a_whole_journey_is_told_once_even_when_events_come_twice(shop, engine):
    ira = shop.dialogue(502)
    await ira.send("начать", ref="pcenter")
    view = await engine.place_order(ira.ref, [LATTE_M_OAT], "center")
    code = view.order.short_code
    await shop.notify()
    note = await shop.fake.next_message(STAFF_PEER)
    assert f"Новый заказ № {code}" in note.text
    await engine.accept(BARISTA, view.order.id)
    await engine.mark_ready(BARISTA, view.order.id)
    await engine.hand_over(BARISTA, order_id=view.order.id)
    await shop.notify()
    told = shop.fake.sent(502)[1:]
    assert [m.text.split("!")[0].split(".")[0] for m in told] == [
        f"Заказ № {code} принят и готовится", f"Заказ № {code} готов", "Приятного аппетита"]
    assert told[1].attachment.startswith("photo-7_")

    # the same events handed to the notifier again: VK drops the repeats by random_id
    async with engine.read() as uow:
        stored = await uow.outbox.pending("someone-else", 100)
    for event in stored:
        await shop.notifier(event)
    assert len(shop.fake.sent(502)) == 4


async def test_when_the_photo_upload_fails_the_short_code_goes_alone(shop, engine):
    shop.fake.fail_uploads = True
    ira = shop.dialogue(503)
    view = await engine.place_order(ira.ref, [LATTE_M_OAT], "center")
    await engine.accept(BARISTA, view.order.id)
    await engine.mark_ready(BARISTA, view.order.id)
    await shop.notify()
    ready = shop.fake.sent(503)[-1]
    assert f"код {view.order.short_code}" in ready.text and not ready.attachment


async def test_a_telegram_customer_links_vk_and_sees_the_same_points(shop, engine):
    telegram = CustomerRef(Channel.TELEGRAM, "9001", "Ира")
    view = await engine.place_order(telegram, [LATTE_M_OAT], "center")
    for step in (engine.accept, engine.mark_ready):
        await step(BARISTA, view.order.id)
    await engine.hand_over(BARISTA, order_id=view.order.id)
    code = (await engine.issue_link_code(telegram)).code

    ira = shop.dialogue(504)
    linked = await ira.send(code)
    assert "аккаунты связаны. Баллов: 3500" in linked.text
    assert "У вас 3500 баллов" in (await ira.send("баллы")).text
    assert (await engine.profile(telegram)).points == (await engine.profile(ira.ref)).points == 3500
    assert [o.id for o in await engine.orders_of(ira.ref)] == [view.order.id]


async def test_vk_first_then_telegram_links_the_other_way_round(shop, engine):
    ira = shop.dialogue(505)
    code = (await ira.send("/link")).text.split("код: ")[1].split()[0]
    telegram = CustomerRef(Channel.TELEGRAM, "9002")
    await engine.redeem_link_code(telegram, code)
    assert (await engine.profile(telegram)).customer.id == (await engine.profile(ira.ref)).customer.id


@pytest.mark.parametrize("payload", ["not json", {"a": "launch_rockets"}, {"nothing": 1}, None])
async def test_malformed_button_payloads_are_answered_politely(shop, payload):
    shop.fake.message_event(506, payload)
    reply = await shop.fake.next_message(506)
    assert "Не понял вас" in reply.text


async def test_too_many_requests_is_waited_out(shop):
    shop.fake.fail_next("messages.send", 6)
    reply = await shop.dialogue(507).send("помощь")
    assert "Что я умею" in reply.text and len(shop.fake.sent(507)) == 1


async def test_staff_accept_from_the_staff_conversation(shop, engine):
    view = await engine.place_order(CustomerRef(Channel.VK, "508"), [LATTE_M_OAT], "center")
    await shop.notify()
    note = await shop.fake.next_message(STAFF_PEER)
    payload = json.loads(button(note, "Принять")["payload"])
    shop.fake.message_event(int(BARISTA.external_id), payload, peer_id=STAFF_PEER)  # not staff on VK
    assert "только сотрудники" in (await shop.fake.next_message(STAFF_PEER)).text
    await engine.add_staff(CustomerRef(Channel.VK, "77"), "center")
    shop.fake.message_event(77, payload, peer_id=STAFF_PEER)
    assert "принят" in (await shop.fake.next_message(STAFF_PEER)).text
    assert (await engine.order_view(OWNER, view.order.id)).order.status.value == "accepted"


# --- the Callback API ------------------------------------------------------------------------------

@pytest.fixture
async def callback(aiohttp_client, engine):
    from aiohttp import web
    from fake_vk import FakeVK

    async with FakeVK(group_id=7) as fake:
        channel = build_channel(fake, engine, callback_secret="s3cret", confirmation_code="a1b2c3")
        app = web.Application()
        for route in channel.routes():
            app.router.add_route(route.method, route.path, route.handler)
        client = await aiohttp_client(app)
        yield client, fake
        await channel.stop()


async def test_callback_api_confirms_checks_the_secret_and_handles_an_event_once(callback):
    client, fake = callback
    confirm = await client.post("/vk/callback", json={"type": "confirmation", "group_id": 7})
    assert await confirm.text() == "a1b2c3"
    assert (await client.post("/vk/callback", json={"type": "confirmation", "group_id": 8})).status == 403
    event = {"type": "message_new", "group_id": 7, "event_id": "e1", "v": "5.199", "secret": "wrong",
             "object": {"message": {"from_id": 42, "peer_id": 42, "id": 1, "text": "помощь", "date": 0},
                        "client_info": {"lang_id": 3}}}
    refused = await client.post("/vk/callback", json=event)
    assert refused.status == 403 and fake.sent(42) == []
    event["secret"] = "s3cret"
    for _ in range(2):  # VK retries when it did not hear "ok" in time
        answer = await client.post("/vk/callback", json=event)
        assert await answer.text() == "ok"
    reply = await fake.next_message(42)
    assert "What I can do" in reply.text  # lang_id 3 is English
    assert (await client.post("/vk/callback", data="{not json")).status == 400
    await fake.wait_for(lambda: True)
    assert len(fake.sent(42)) == 1


async def test_a_button_press_delivered_twice_is_answered_and_handled_once(shop):
    ira = shop.dialogue(503)
    hello = await ira.send("начать")
    payload = json.loads(button(hello, "Меню в чате")["payload"])
    event = shop.fake.message_event(ira.user_id, payload, conversation_message_id=hello.conversation_message_id)
    sections = await shop.fake.next_message(ira.user_id)
    answered, told = len(shop.fake.answers), len(shop.fake.sent(ira.user_id))
    await shop.channel.handle_event(event)  # VK delivers the same event again (a retry of the callback)
    assert (len(shop.fake.answers), len(shop.fake.sent(ira.user_id))) == (answered, told)
    assert "Кофе" in [b["label"] for b in buttons(sections)]
