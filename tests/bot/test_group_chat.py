"""Group orders in the chat: the real aiogram bot against the fake Bot API server. A friend's /start j<code>
answers with a Mini App button into the group; the organiser hears who joined and when the goal is
reached; once ordered everyone hears their order, the discount, the point and the time, each in their
language; a group called off is told to everyone."""
from __future__ import annotations

import pytest
from telegram_harness import button, telegram_shop
from vk_harness import APP_ID, vk_shop
from vk_harness import button as vk_button

from journey.channels import Channel, CustomerRef
from journey.model import CartLine

LATTE = [CartLine("latte", 1, {"size": ("m",)})]
ESPRESSO = [CartLine("espresso", 2)]


@pytest.fixture
async def shop(engine):
    async with telegram_shop(engine) as shop:
        yield shop


def named(chat, name: str) -> CustomerRef:
    return CustomerRef(Channel.TELEGRAM, str(chat.user_id), name, chat.language)


async def test_everyone_is_told_in_their_language(shop, engine):
    anna, boris, vera = shop.chat(901, first_name="Анна"), shop.chat(902), shop.chat(903, language="en")
    await anna.send("/start")
    code = (await engine.open_group(named(anna, "Анна"), LATTE, "center", payer="each")).group.code
    hello = await boris.send(f"/start j{code}")
    assert "групповой заказ" in hello.text
    assert button(hello, "Открыть меню")["web_app"]["url"] == f"https://coffee.example/?start=j{code}"
    await vera.send("/start")

    await engine.join_group(named(boris, "Борис Петров"), code, ESPRESSO)
    await shop.notify()
    assert shop.fake.sent(anna.user_id)[-1].text == "Борис в вашем групповом заказе: 2 из 3."
    await engine.join_group(named(vera, "Vera"), code, [CartLine("croissant")])
    await shop.notify()
    reached = shop.fake.sent(anna.user_id)[-1]
    assert reached.text == "Vera в вашем групповом заказе: 3 из 3 — скидка 10% для всех!"
    assert button(reached, "Открыть групповой заказ")["web_app"]["url"] == f"https://coffee.example/?start=j{code}"

    done = await engine.close_group(anna.ref, code)
    await shop.notify()
    numbers = {m.member.account.external_id: (await engine.order_view(m.member.account, m.member.order_id or ""))
               .order.short_code for m in done.members}
    for chat in (anna, boris):
        told = shop.fake.sent(chat.user_id)[-1].text
        assert told.startswith("Групповой заказ оформлен, скидка 10% для всех. Ваш заказ № "
                               f"{numbers[str(chat.user_id)]}: Центр, к 09:05, оплата на кассе."), told
    assert shop.fake.sent(vera.user_id)[-1].text == (
        f"The group order is placed, 10% off for everyone. Your order No. {numbers[str(vera.user_id)]}: Центр, "
        "by 09:05, paid at the counter.")


async def test_when_the_organiser_pays_friends_hear_whose_order_carries_their_items(shop, engine):
    anna, boris = shop.chat(911), shop.chat(912)
    for chat in (anna, boris):
        await chat.send("/start")
    code = (await engine.open_group(anna.ref, LATTE, "center")).group.code
    await engine.join_group(boris.ref, code, ESPRESSO)
    done = await engine.close_group(anna.ref, code)
    number = (await engine.order_view(anna.ref, done.my_order or "")).order.short_code
    await shop.notify()
    assert shop.fake.sent(anna.user_id)[-1].text == (
        f"Групповой заказ оформлен, без скидки: собралось 2 из 3: один заказ № {number} на всех, Центр, к 09:05. "
        "Платите вы.")
    assert shop.fake.sent(boris.user_id)[-1].text == (
        f"Групповой заказ оформлен, без скидки: собралось 2 из 3: ваши позиции в заказе № {number}, Центр, "
        "к 09:05. Платит организатор.")


async def test_a_group_called_off_is_told_to_everyone(shop, engine):
    anna, boris = shop.chat(921), shop.chat(922)
    for chat in (anna, boris):
        await chat.send("/start")
    code = (await engine.open_group(anna.ref, LATTE, "center")).group.code
    await engine.join_group(boris.ref, code, ESPRESSO)
    await engine.cancel_group(anna.ref, code)
    await shop.notify()
    for chat in (anna, boris):
        assert shop.fake.sent(chat.user_id)[-1].text == "Групповой заказ отменён организатором."


async def test_a_friend_who_writes_to_the_vk_community_by_the_groups_link_gets_a_button_into_it(engine):
    code = (await engine.open_group(CustomerRef(Channel.TELEGRAM, "931", "Анна"), LATTE, "center")).group.code
    async with vk_shop(engine) as shop:
        hello = await shop.dialogue(7931).send("Привет", ref=f"j{code}")
    assert "групповой заказ" in hello.text
    app = vk_button(hello, "Открыть меню")
    assert (app["type"], app["app_id"], app["hash"]) == ("open_app", APP_ID, f"j{code}")
