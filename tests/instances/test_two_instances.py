"""One shop on two ``vitrina run`` instances sharing one PostgreSQL database, behind a round-robin balancer,
with Telegram and VK pushing their updates to it (tests/instances/harness.py):

- every update is handled once and every notification sent once, whichever instance gets what;
- buyers racing for the last units through both instances buy exactly the stock;
- an instance killed with SIGKILL mid-load loses no journey: the balancer sends everything to the other, the
  platforms send again what was cut off, and every order is picked up with every notification delivered.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from harness import (
    ECLAIRS,
    Cluster,
    Customer,
    Order,
)

pytestmark = pytest.mark.slow

# who does the barista's steps for the n-th customer: a button in a staff chat, or the Mini App's staff screen
STAFF_WAYS = [("chat", "telegram"), ("chat", "vk"), ("app", "telegram"), ("app", "vk")]


async def journey(c: Cluster, customer: Customer, n: int, placed: list[Order] | None = None,
                  ways: list[tuple[str, str]] = STAFF_WAYS) -> Order:
    """Hello in the chat, an order in the Mini App, the barista accepts and readies it (in a staff chat or
    the Mini App), hands it over, and the customer asks the chat for their orders."""
    hello = customer.say("start")
    await customer.reply(hello, "Здравствуйте", "the greeting")
    status, answer = await customer.order("latte", f"{customer.channel}-{customer.user_id}")
    assert status == 201, (customer, status, answer)
    order = Order(answer["id"], answer["short_code"])
    if placed is not None:
        placed.append(order)
    way, staff = ways[n % len(ways)]
    if way == "chat":
        pressed = await c.press_in_staff_chat(staff, order.code, "Новый заказ", "Принять")
        accepted = await c.reply_to(staff, pressed, lambda: _has(c.staff_texts(staff), f"Заказ № {order.code} принят."),
                                    f"the barista's 'accepted' for {order.code} in the {staff} staff chat")
        if accepted is None:  # the reply went with a killed instance (``Cluster.reply_to``), and so did the "Готов"
            # button it brings: the barista readies the order in the Mini App, and the chat never says it is ready
            c.lost.append((staff, pressed, f"the barista's 'ready' for {order.code} in the {staff} staff chat"))
            await c.staff_step(order, "ready", staff)
        else:
            pressed = await c.press_in_staff_chat(staff, order.code, f"Заказ № {order.code} принят.", "Готов")
            await c.reply_to(staff, pressed, lambda: _has(c.staff_texts(staff), f"Заказ № {order.code} готов, "),
                             f"the barista's 'ready' for {order.code} in the {staff} staff chat")
    else:
        await c.staff_step(order, "accept", staff)
        await c.staff_step(order, "ready", staff)
    await customer.expect(f"Заказ № {order.code} принят и готовится", "the order accepted")
    await customer.expect(f"Заказ № {order.code} готов!", "the order ready")
    await c.hand_over(order, staff)
    await customer.expect("Начислено баллов", "the order picked up")
    asked = customer.say("orders")
    await customer.reply(asked, "выдан", "the list of orders")
    return order


def _has(texts: list[str], text: str) -> bool:
    return any(text in t for t in texts)


def _count(texts: list[str], text: str) -> int:
    return sum(text in t for t in texts)


def people(c: Cluster, telegram: int, vk: int, first: int) -> list[Customer]:
    """Customers alternating between the channels."""
    tg = [Customer(c, "telegram", first + i) for i in range(telegram)]
    vks = [Customer(c, "vk", first + 500 + i) for i in range(vk)]
    mixed = [who for pair in zip(tg, vks, strict=False) for who in pair]
    return mixed + tg[len(vks):] + vks[len(tg):]


async def test_both_instances_handle_every_update_once_and_send_every_notification_once(cluster_sharing_redis):
    c = cluster_sharing_redis
    customers = people(c, telegram=4, vk=4, first=1000)
    orders = await asyncio.gather(*(journey(c, who, n) for n, who in enumerate(customers)))
    await c.settled("every journey's updates and notifications")

    # each customer heard each thing once: the greeting, accepted, ready, picked up, their orders
    for who, order in zip(customers, orders, strict=True):
        texts = who.texts()
        assert _count(texts, "Здравствуйте") == 1, texts
        assert _count(texts, f"Заказ № {order.code} принят и готовится") == 1, texts
        assert _count(texts, f"Заказ № {order.code} готов!") == 1, texts
        assert _count(texts, "Начислено баллов") == 1, texts
        assert _count(texts, "выдан") == 1, texts
        assert len(texts) == 5, texts
    # each staff chat was told of each order once, and answered each press once
    for channel in ("telegram", "vk"):
        staff = c.staff_texts(channel)
        pressed_here = [o for n, o in enumerate(orders) if STAFF_WAYS[n % 4] == ("chat", channel)]
        for order in orders:
            assert _count(staff, f"Новый заказ № {order.code}") == 1, (channel, order, staff)
            here = order in pressed_here
            assert _count(staff, f"Заказ № {order.code} принят.") == here, (channel, order, staff)
            assert _count(staff, f"Заказ № {order.code} готов, ") == here, (channel, order, staff)
        assert len(staff) == len(orders) + 2 * len(pressed_here), staff

    # every update and event was taken at the first call: nothing failed, nothing was handled twice
    assert [d for d in c.telegram.deliveries if d.status != 200] == []
    assert [d for d in c.vk.deliveries if (d.status, d.body) != (200, "ok")] == []
    assert len(c.telegram.deliveries) == len({d.update_id for d in c.telegram.deliveries})
    # and both instances served both channels and the Mini App, and answered in the chats
    for name in ("a", "b"):
        assert c.balancer.served(name, "/telegram/webhook") and c.balancer.served(name, "/vk/callback")
        assert c.balancer.served(name, "/api/")
    replies = [m for who in customers if who.channel == "telegram" for m in c.telegram.sent(who.user_id)
               if "Здравствуйте" in (m.text or "") or "выдан" in (m.text or "")]
    assert {m.via for m in replies} == {"a", "b"}, Counter(m.via for m in replies)
    assert {m.via for m in c.vk.messages} == {"a", "b"}


async def test_buyers_racing_through_both_instances_buy_exactly_the_last_units(cluster):
    c = cluster
    buyers = people(c, telegram=8, vk=8, first=3000)
    for buyer in buyers:  # everyone has the Mini App open: the race is for the eclairs alone
        status, _ = await c.api("GET", "/api/me", buyer.auth)
        assert status == 200
    assert c.stock("eclair") == ECLAIRS
    before = len(c.balancer.log)

    results = await asyncio.gather(*(buyer.order("eclair", f"race-{buyer.user_id}") for buyer in buyers))

    sold = [answer for status, answer in results if status == 201]
    refused = [(status, answer) for status, answer in results if status != 201]
    assert len(sold) == ECLAIRS, results
    assert {(status, answer["error"]) for status, answer in refused} == {(409, "out_of_stock")}, refused
    assert c.stock("eclair") == 0
    raced = [p for p in c.balancer.log[before:] if p.path == "/api/orders"]
    assert {p.backend for p in raced} == {"a", "b"} and all(p.status in (201, 409) for p in raced), raced
    # the one who comes after is refused too, and the count stays at zero
    late = Customer(c, "telegram", 3999)
    status, answer = await late.order("eclair", "late")
    assert (status, answer["error"]) == (409, "out_of_stock")
    assert c.stock("eclair") == 0
    # the staff chats heard of exactly the orders sold, once each
    await c.settled("the orders' notices")
    for channel in ("telegram", "vk"):
        staff = c.staff_texts(channel)
        assert len(staff) == ECLAIRS and all(_count(staff, f"№ {o['short_code']}") == 1 for o in sold), staff


NOTIFICATIONS = ("Заказ № {code} принят и готовится", "Заказ № {code} готов!", "Начислено баллов")
# the killing test: most baristas' steps are presses in the VK staff chat, one of which instance a is killed in
KILL_WAYS = [("chat", "vk"), ("app", "telegram"), ("chat", "vk"), ("chat", "telegram")]


async def test_an_instance_killed_mid_load_loses_no_journey(cluster):
    """Instance a is killed (SIGKILL) in the middle of handling a barista's press in the VK staff chat, while
    a dozen journeys go on in both channels: it has taken the event (its lease is in the database) and
    answered the button, and handled nothing yet. The other instance answers VK's repeats 503 while the
    lease is fresh and handles the press once it lapses; everything else goes to it meanwhile.

    What is allowed after the kill, and why: a Telegram message the killed instance sent from the outbox but
    had not recorded as sent may be sent once more by the survivor (Telegram has no idempotency key; the
    relay sends, then records) — so a notification may come twice in Telegram only as a copy from ``a``
    followed by one from ``b``. Nothing else: VK drops a resend with the same ``random_id``, so VK gets every
    notification once; every reply to what a person wrote or pressed comes exactly once, except the reply to
    an update ``a`` had handled and recorded when it was killed, before its reply went out (the survivor
    answers the repeat "handled" rather than do the deed twice: ``Cluster.reply_to``); every update is taken
    in the end and every order picked up."""
    c = cluster
    customers = people(c, telegram=6, vk=6, first=5000)
    placed: list[Order] = []
    killed: dict[str, Any] = {}

    def kill_a_in_a_press(call) -> None:  # the fake VK API's hook: a waits for this call's answer
        if call.via == "a" and call.method == "messages.sendMessageEventAnswer" and not killed:
            killed.update(event=call.params["event_id"], log=len(c.balancer.log), placed=len(placed))
            c.instances["a"].kill_now()

    c.vk.on_call = kill_a_in_a_press
    orders = await asyncio.gather(*(journey(c, who, n, placed, KILL_WAYS) for n, who in enumerate(customers)))
    assert killed, "instance a was never sent a press in the VK staff chat to be killed in"
    await c.settled("every journey's updates and notifications after the kill")

    # the press a was killed in: cut off at a, answered 503 by b while a's lease was fresh, then handled by b
    pressed = next(e["event_id"] for e in c.vk.events if (e["object"] or {}).get("event_id") == killed["event"])
    through = [(p.backend, p.status) for p in c.balancer.log if p.update == pressed]
    assert through[0] == ("a", 0) and through[-1] == ("b", 200) and ("b", 503) in through, through
    after = c.balancer.log[killed["log"]:]
    assert {p.backend for p in after if p.status} == {"b"}, "only the survivor answers after the kill"
    resent: list[str] = []

    def once(copies: list, what: str, channel: str) -> None:
        vias = [m.via for m in copies]
        if len(copies) == 2 and channel == "telegram" and vias == ["a", "b"]:
            resent.append(what)
            return
        assert len(copies) == 1, (what, vias, [getattr(m, "text", "") for m in copies])

    for who, order in zip(customers, orders, strict=True):
        messages = who.messages()
        for text in NOTIFICATIONS:
            wanted = text.format(code=order.code)
            once([m for m in messages if wanted in (m.text or "")], f"{wanted} to {who.channel}:{who.user_id}",
                 who.channel)
        for reply in ("Здравствуйте", "выдан"):  # replies to what they wrote: exactly once
            lost = any(f"({reply!r}) in {who.channel} chat {who.user_id}" in what for _, _, what in c.lost)
            assert _count(who.texts(), reply) == (0 if lost else 1), (who.channel, who.user_id, who.texts())
    for channel in ("telegram", "vk"):
        sent = c.telegram.sent(-100777) if channel == "telegram" else c.vk.sent(2000000001)
        for n, order in enumerate(orders):
            once([m for m in sent if f"Новый заказ № {order.code}" in (m.text or "")],
                 f"new order {order.code} in the {channel} staff chat", channel)
            here = KILL_WAYS[n % 4] == ("chat", channel)
            steps = (("accepted", f"Заказ № {order.code} принят."), ("ready", f"Заказ № {order.code} готов, "))
            for step, reply in steps:  # a reply the kill cut off (``Cluster.reply_to``) is not there
                lost = f"the barista's {step!r} for {order.code} in the {channel} staff chat"
                wanted = here and lost not in [what for _, _, what in c.lost]
                assert _count(c.staff_texts(channel), reply) == wanted, (channel, reply, c.staff_texts(channel))
    cut = c.balancer.cut_off("a")
    print(f"\nkilled a in a press after {killed['placed']} orders were placed; calls cut off at a: "
          f"{[(p.method, p.path, p.update[:8]) for p in cut]}; the press went {through[0]}, "
          f"{through.count(('b', 503))} x ('b', 503), {through[-1]}; "
          f"Telegram resends allowed and seen: {resent}; Mini App calls tried again: {len(c.notes)}")
