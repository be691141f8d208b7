"""Referrals in the chat: ``/start r<code>`` in Telegram and ``ref`` on a first message from
``vk.me/<group>?ref=r<code>`` in VK reward the friend and the inviter on the friend's first pickup, both told;
the greeting and /points say what really happens."""
from __future__ import annotations

import re

import pytest
from cli import vitrina
from shop_fixtures import BARISTA
from telegram_harness import telegram_shop
from vk_harness import vk_shop

from journey.channels import Channel, CustomerRef
from journey.deeplinks import parse_start
from journey.engine import Engine
from journey.model import CartLine


async def pick_up(engine: Engine, ref: CustomerRef) -> None:
    order = (await engine.place_order(ref, [CartLine("eclair")], "center")).order
    await engine.accept(BARISTA, order.id)
    await engine.mark_ready(BARISTA, order.id)
    await engine.hand_over(BARISTA, order_id=order.id)


async def until(fake_next, wanted: str) -> str:
    """The next message containing ``wanted`` (order notices may come first)."""
    for _ in range(10):
        text = (await fake_next()).text
        if wanted in text:
            return text
    raise AssertionError(f"no message with {wanted!r}")


@pytest.fixture
async def telegram(engine):
    async with telegram_shop(engine) as shop:
        yield shop


@pytest.fixture
async def vk(engine):
    async with vk_shop(engine) as shop:
        yield shop


async def test_telegram_start_rewards_both_and_tells_both(telegram, engine):
    bonus = (await engine.set_rules()).referral_bonus
    anna = telegram.chat(701, first_name="Анна")
    await anna.send("/start")
    code = (await engine.profile(anna.ref)).customer.referral_code
    olga = telegram.chat(702, first_name="Ольга")
    hello = await olga.send(f"/start r{code}")
    assert f"Вас пригласил друг: когда вы заберёте свой первый заказ, вы оба получите {bonus} баллов" in hello.text
    await telegram.notify()
    assert "По вашей ссылке пришёл друг Ольга" in (await telegram.fake.next_message(anna.user_id)).text

    await pick_up(engine, olga.ref)
    await telegram.notify()
    assert f"+{bonus} баллов" in await until(lambda: telegram.fake.next_message(olga.user_id), "Бонус за приглашение")
    told = await until(lambda: telegram.fake.next_message(anna.user_id), "Ваш друг Ольга")
    assert f"вам +{bonus} баллов" in told
    points = await anna.send("/points")
    assert f"У вас {bonus} баллов" in points.text
    assert f"вы оба получите {bonus} баллов" in points.text and f"/go/r{code}" in points.text
    assert "Пришло друзей: 1, вам начислено за них: " + str(bonus) in points.text
    assert "осталось: 9 из 10" in points.text


async def test_telegram_start_after_a_first_message_still_counts(telegram, engine):
    bonus = (await engine.set_rules()).referral_bonus
    anna = telegram.chat(711)
    await anna.send("/start")
    olga = telegram.chat(712)
    await olga.send("/help")  # she wrote to the bot before she opened the link
    await olga.send(f"/start r{(await engine.profile(anna.ref)).customer.referral_code}")
    await pick_up(engine, olga.ref)
    assert (await engine.profile(anna.ref)).points == bonus


async def test_one_cannot_invite_oneself_in_the_chat(telegram, engine):
    anna = telegram.chat(721)
    await anna.send("/start")
    own = await anna.send(f"/start r{(await engine.profile(anna.ref)).customer.referral_code}")
    assert "Это ваша собственная ссылка-приглашение" in own.text
    assert "Вас пригласил друг" not in own.text
    assert (await engine.referral_summary(anna.ref)).friends == []


async def test_a_customer_who_ordered_is_told_the_bonus_is_for_new_ones(telegram, engine):
    anna = telegram.chat(731)
    await anna.send("/start")
    olga = telegram.chat(732)
    await olga.send("/start")
    await pick_up(engine, olga.ref)
    late = await olga.send(f"/start r{(await engine.profile(anna.ref)).customer.referral_code}")
    assert "Бонус за приглашение получают новые покупатели" in late.text


async def test_the_monthly_cap_is_told_to_the_inviter(telegram, engine):
    bonus = (await engine.set_rules(referral_monthly_cap=1)).referral_bonus
    anna = telegram.chat(741)
    await anna.send("/start")
    code = (await engine.profile(anna.ref)).customer.referral_code
    for user_id in (742, 743):
        friend = telegram.chat(user_id, first_name=f"Друг{user_id}")
        await friend.send(f"/start r{code}")
        await pick_up(engine, friend.ref)
    await telegram.notify()
    assert "вам +" in await until(lambda: telegram.fake.next_message(anna.user_id), "Ваш друг Друг742")
    capped = await until(lambda: telegram.fake.next_message(anna.user_id), "Ваш друг Друг743")
    assert "Вам бонус не начислен" in capped and "за 1 друзей" in capped
    assert "+" in await until(lambda: telegram.fake.next_message(743), "Бонус за приглашение")
    assert (await engine.profile(anna.ref)).points == bonus


async def test_vk_ref_on_a_first_message_rewards_both(vk, engine):
    bonus = (await engine.set_rules()).referral_bonus
    vk.fake.users[801] = ("Анна", "Котова")
    vk.fake.users[802] = ("Ира", "Петрова")
    anna = vk.dialogue(801)
    await anna.send("Привет")
    code = (await engine.profile(anna.ref)).customer.referral_code
    ira = vk.dialogue(802)
    hello = await ira.send("Привет", ref=f"r{code}")
    assert f"вы оба получите {bonus} баллов" in hello.text
    await pick_up(engine, ira.ref)
    await vk.notify()
    assert "Бонус за приглашение" in await until(lambda: vk.fake.next_message(802), "Бонус за приглашение")
    assert f"вам +{bonus} баллов" in await until(lambda: vk.fake.next_message(801), "Ваш друг Ира")
    assert (await engine.profile(anna.ref)).points == bonus


async def test_linking_ones_invited_second_account_takes_the_bonus_back_and_says_so(telegram, engine):
    bonus = (await engine.set_rules()).referral_bonus
    anna = telegram.chat(751, first_name="Анна")
    await anna.send("/start")
    web = CustomerRef(Channel.WEB, "anna")  # her browser, opened from her own link
    await engine.profile(web, parse_start(f"r{(await engine.profile(anna.ref)).customer.referral_code}"))
    await pick_up(engine, web)
    issued = await anna.send("/link")
    code = re.search(r"\b(\d{6})\b", issued.text)[1]
    await engine.redeem_link_code(web, code)
    await telegram.notify()
    told = await until(lambda: telegram.fake.next_message(anna.user_id), "не засчитывается")
    assert f"списано {2 * bonus} баллов" in told
    assert (await engine.profile(anna.ref)).points == (await engine.profile(web)).points < bonus


def test_the_referral_poster_promises_points_not_a_discount(tmp_path):
    vitrina(tmp_path, "qr", "referral", "AbC123", "--format", "svg")
    svg = (tmp_path / "qr-rAbC123.svg").read_text(encoding="utf-8")
    caption = " ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg))  # wrapped into lines
    assert "заберите первый заказ — и вы с другом получите баллы" in caption and "скидк" not in svg
