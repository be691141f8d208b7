"""``vitrina run`` killed with SIGKILL under load, several times, and restarted on the same database: nothing
acknowledged is lost or doubled, stock and points balance, every notification owed goes out.

One instance behind the balancer of tests/instances/harness.py (which answers 502 for a request the dying
process dropped, and refuses nothing else), the fake Bot API and VK API (notifications are really sent),
the shop seeded through the CLI. Customers in Telegram and VK order in the Mini App (signed launch data)
at once, spending points once they have some; baristas accept, ready and hand over most orders through
the Mini App's staff screen. Meanwhile the process is killed three times: at random moments, and once in the
middle of a notification (the fake VK API kills it while it has recorded the message and not answered).
Each incarnation calls the fakes under a name of its own (``r0``, ``r1`` ...), so every message says which
process sent it.

A placement cut off by a kill is tried again with the same ``request_id`` (as the Mini App does), except by
the customers who give up; their requests are sent once more at the end, and must not make a second order.

What may be seen twice, and why: a Telegram message a killed process sent and had not recorded as sent is
sent again by the next one (Telegram has no idempotency key; the relay sends, then records a batch at a
time), so a message may come again in Telegram only as a copy from a killed incarnation followed by one from
a later one, at most once per kill, and only what that incarnation sent in its last moments. VK drops a
resend with the same ``random_id``: every VK message comes once.

Runs on SQLite with ``VITRINA_SQLITE_SYNCHRONOUS=FULL`` and with the default, and on PostgreSQL
(``VITRINA_TEST_POSTGRES_URL``; skipped without it, failing in CI). ``VITRINA_TEST_KILL_SEED`` repeats a
run's moments.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fake_telegram import FakeTelegram
from fake_vk import FakeVK
from harness import (
    ECLAIRS,
    POINT,
    STAFF_CHAT,
    STAFF_PEER,
    TOKEN,
    VK_CODE,
    VK_GROUP,
    VK_SECRET,
    WAIT,
    Balancer,
    Cluster,
    Customer,
    Instance,
    Order,
    free_port,
    instance_env,
    seed,
)
from pg_support import fresh_database

pytestmark = pytest.mark.slow

KILLS = 3
IN_A_SEND = 1  # the kill that comes in the middle of a notification; the others at random moments
CUSTOMERS = 10  # half in Telegram, half in VK
# each customer's orders: at least ORDERS, and on until the last restart, at most MAX_ORDERS (every order is a
# message in the staff chats, which the bot paces at one a second per chat: more orders, a longer test)
ORDERS, MAX_ORDERS = 2, 4
STOCK = {"croissant": 500, "eclair": ECLAIRS}  # tests/instances/harness.py's menu
DONE = {"picked_up"}
TEXTS = {  # what a customer is told of an order's steps (bot/texts.py)
    "accepted": "Заказ № {code} принят и готовится",
    "ready": "Заказ № {code} готов!",
}
EARNED = "Начислено баллов: {points}."


@pytest.fixture(params=["sqlite-full", "sqlite-default", "postgres"])
async def database(request, tmp_path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    if request.param == "postgres":
        async with fresh_database() as url:
            yield url, {}
        return
    extra = {"VITRINA_SQLITE_SYNCHRONOUS": "FULL"} if request.param == "sqlite-full" else {}
    yield f"sqlite:///{tmp_path / 'shop.db'}", extra


# --- the shop, restarted -----------------------------------------------------------------------------------

@dataclass
class Restarts:
    """One ``vitrina run`` at a time on one port; each restart is an incarnation of its own."""
    cluster: Cluster
    port: int
    env: dict[str, str]
    killed: list[str] = field(default_factory=list)  # incarnations killed, in order
    restarts: list[float] = field(default_factory=list)  # seconds each took to be up again
    current: Instance | None = None

    async def start(self) -> None:
        name = f"r{len(self.cluster.instances)}"
        c = self.cluster
        env = {**instance_env(name, self.port, c.database_url, c.telegram, c.vk, c.balancer.url), **self.env}
        self.current = Instance(name, self.port, env, c.tmp)
        c.instances[name] = self.current
        await self.current.start()

    async def kill_and_restart(self) -> None:
        assert self.current is not None and self.current.process is not None
        if not self.current.killed:
            self.current.kill_now()
        self.killed.append(self.current.name)
        await self.current.process.wait()  # gone (and reaped): the next one may take its port and its leases
        await self.current.stop()
        started = time.monotonic()
        await self.start()
        self.restarts.append(time.monotonic() - started)


@contextlib.asynccontextmanager
async def restartable(tmp: Path, database_url: str, env: dict[str, str]) -> AsyncIterator[Restarts]:
    port = free_port()
    async with contextlib.AsyncExitStack() as stack:
        telegram = await stack.enter_async_context(FakeTelegram(token=TOKEN, push=True))
        vk = await stack.enter_async_context(FakeVK(group_id=VK_GROUP))
        balancer = await stack.enter_async_context(Balancer({"shop": f"http://127.0.0.1:{port}"}, down_for=0.1))
        http = await stack.enter_async_context(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)))
        cluster = Cluster(tmp, database_url, telegram, vk, balancer, {}, http, None)
        # every customer comes from one address and one barista hands over every order: the abuse limits
        # (tested in their own files) would rightly stop them
        shop = Restarts(cluster, port, {"VITRINA_PRIVACY__ASK_CONSENT": "false", "VITRINA_LIMITS__ENABLED": "false",
                                        **env})

        async def stop() -> None:
            if shop.current is not None:
                await shop.current.stop()

        stack.push_async_callback(stop)
        # the owner seeds the shop while it starts (the CLI and the server apply migrations one at a time)
        await asyncio.gather(asyncio.to_thread(seed, tmp, database_url), shop.start())
        await vk.set_callback(balancer.url + "/vk/callback", VK_SECRET, VK_CODE)
        from bot.main import open_database
        from bot.settings import load_settings

        cluster.db = await open_database(load_settings(database_url=database_url))
        stack.push_async_callback(cluster.db.close)
        yield shop


# --- customers and baristas ------------------------------------------------------------------------------

@dataclass
class Placed:
    request_id: str
    who: Customer
    body: dict[str, Any]
    outcome: str  # "acknowledged", "refused" (a 409: nothing may exist), "abandoned" (cut off, not tried again)
    order: Order | None = None
    points: int = 0


@dataclass
class Ledgerbook:
    placed: list[Placed] = field(default_factory=list)
    handed_over: set[str] = field(default_factory=set)
    cut_off: int = 0  # placements a kill dropped


async def place(c: Cluster, who: Customer, body: dict[str, Any]) -> tuple[bool, int, Any]:
    """One placement through the balancer: (cut off by a kill, status, answer). A request the instance
    never saw (refused while it restarts) is simply sent again, as ``Cluster.api`` does."""
    deadline = time.monotonic() + WAIT
    while True:
        async with c.http.post(c.balancer.url + "/api/orders", json=body, headers=who.auth) as answer:
            if answer.status != 502:
                return False, answer.status, await answer.json()
            if "dropped" in (what := await answer.text()):
                return True, 502, None
        assert time.monotonic() < deadline, f"placing {body['request_id']}: {what}\n{c.diagnosis()}"
        await asyncio.sleep(0.05)


async def customer(c: Cluster, book: Ledgerbook, who: Customer, n: int, until: asyncio.Event) -> None:
    """Orders croissants (the first of every other customer's also has an eclair, raced for), spending 100
    points when they have them; every order but the second is accepted, readied and handed over. Customers
    with n % 4 == 3 give up a placement a kill cut off; the others send it again with the same request id."""
    staff = "telegram" if n % 2 else "vk"
    i = 0
    while i < ORDERS or (i < MAX_ORDERS and not until.is_set()):
        status, me = await c.api("GET", "/api/me", who.auth)
        assert status == 200, me
        points = 100 if me["points"] >= 100 else 0
        lines = [{"item": "croissant", "quantity": 1 + i % 2, "options": {}}]
        if i == 0 and n % 2 == 0:
            lines.append({"item": "eclair", "quantity": 1, "options": {}})
        request_id = f"kill9-{who.channel}-{who.user_id}-{i}"
        body = {"point": POINT, "lines": lines, "promo": None, "points": points, "pickup_at": None,
                "payment": "counter", "request_id": request_id}
        cut, status, answer = await place(c, who, body)
        if cut:
            book.cut_off += 1
            if n % 4 == 3:
                book.placed.append(Placed(request_id, who, body, "abandoned"))
                i += 1
                continue
            status, answer = await c.api("POST", "/api/orders", who.auth, body)  # the same request id
        if status == 409 and answer["error"] in ("out_of_stock", "too_many_open_orders"):
            book.placed.append(Placed(request_id, who, body, "refused"))
        else:
            assert status == 201, (who, request_id, status, answer)
            order = Order(answer["id"], answer["short_code"])
            book.placed.append(Placed(request_id, who, body, "acknowledged", order, points))
            if i != 1:
                await c.staff_step(order, "accept", staff)
                await c.staff_step(order, "ready", staff)
                await c.hand_over(order, staff)
                book.handed_over.add(order.id)
        i += 1


async def killer(shop: Restarts, rng: random.Random, done: asyncio.Event) -> None:
    """Kill the process ``KILLS`` times and start it again on the same database; the ``IN_A_SEND``-th kill
    comes while the fake VK API has recorded a message from it and not answered it yet."""
    c = shop.cluster
    try:
        for k in range(KILLS):
            await asyncio.sleep(rng.uniform(0.2, 1.2))
            if k == IN_A_SEND:
                current = shop.current
                assert current is not None
                in_send = asyncio.Event()

                def kill_in_a_send(call, current=current, in_send=in_send) -> None:
                    if call.via == current.name and call.method == "messages.send" and not current.killed:
                        current.kill_now()
                        in_send.set()

                c.vk.on_call = kill_in_a_send
                try:
                    await c.until(in_send.is_set, f"a VK message sent by {current.name} to kill it in")
                finally:
                    c.vk.on_call = None
            await shop.kill_and_restart()
    finally:
        done.set()


# --- reading the database -------------------------------------------------------------------------------

async def rows(db: Any, sql: str) -> list[tuple]:
    """The same SQL on either backend (the test reads what the storage wrote, not through the engine)."""
    if hasattr(db, "reader"):
        return [tuple(r) for r in db.reader.execute(sql).fetchall()]
    return [tuple(r) for r in await db.pool.fetch(sql)]


def copies_allowed(copies: list[str], wanted: int, channel: str, killed: list[str], order: list[str]) -> list[str]:
    """Which of ``copies`` (the sending incarnations, in the order sent) were resent: none, or in Telegram one
    per killed incarnation whose copy came before a later incarnation's (it sent, then died before recording
    it). Fails otherwise."""
    extra = len(copies) - wanted
    if extra == 0:
        return []
    resenders = [a for i, a in enumerate(copies)
                 if a in killed and any(order.index(b) > order.index(a) for b in copies[i + 1:])]
    assert channel == "telegram" and 0 < extra <= len(set(resenders)), (channel, wanted, copies)
    return resenders[:extra]


# --- the test -------------------------------------------------------------------------------------------

async def test_killed_three_times_under_orders_nothing_acknowledged_is_lost_or_doubled(database, tmp_path):
    database_url, env = database
    seed_value = int(os.environ.get("VITRINA_TEST_KILL_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed_value)
    print(f"\nVITRINA_TEST_KILL_SEED={seed_value}")
    async with restartable(tmp_path, database_url, env) as shop:
        c = shop.cluster
        who = [Customer(c, "telegram" if n % 2 == 0 else "vk", 7000 + n) for n in range(CUSTOMERS)]
        book, restarted = Ledgerbook(), asyncio.Event()
        started = time.monotonic()
        await asyncio.gather(killer(shop, rng, restarted),
                             *(customer(c, book, person, n, restarted) for n, person in enumerate(who)))
        assert len(shop.killed) == KILLS

        # the requests given up on: sent once more, the same request id places nothing new
        existing = await orders_by_request(c.db)
        for placed in [p for p in book.placed if p.outcome == "abandoned"]:
            status, answer = await c.api("POST", "/api/orders", placed.who.auth, placed.body)
            before = existing.get(placed.request_id)
            if status == 201:
                assert before is None or before == answer["id"], (placed.request_id, before, answer)
                placed.outcome, placed.order = "acknowledged", Order(answer["id"], answer["short_code"])
                placed.points = placed.body["points"]
            else:
                assert before is None and status == 409, (placed.request_id, before, status, answer)
                placed.outcome = "refused"
        await c.settled("every notification owed after the last restart")
        await check_orders(c, book)
        await check_stock(c)
        await check_points(c, book, who)
        resent = await check_notifications(c, shop, who)
        order_count = sum(p.outcome == "acknowledged" for p in book.placed)
        print(f"{order_count} orders ({len(book.handed_over)} handed over) in {time.monotonic() - started:.1f} s, "
              f"killed {shop.killed}, up again in {[round(s, 1) for s in shop.restarts]} s; placements cut off by "
              f"a kill: {book.cut_off}; Telegram resends seen: {resent}")


async def orders_by_request(db: Any) -> dict[str, str]:
    """request id -> the order it made (the payment's idempotency key is ``req:<account>:<request id>``)."""
    found: dict[str, str] = {}
    for key, order_id in await rows(db, "SELECT idempotency_key, order_id FROM payments"):
        assert key.startswith("req:"), key  # every order here comes from a Mini App request
        request_id = key.split(":", 3)[3]
        assert request_id not in found, (request_id, found[request_id], order_id)
        found[request_id] = order_id
    return found


async def check_orders(c: Cluster, book: Ledgerbook) -> None:
    """Every acknowledged placement is there once, as acknowledged; nothing else is."""
    made = await orders_by_request(c.db)
    orders = {row[0]: row[1] for row in await rows(c.db, "SELECT id, status FROM orders")}
    acknowledged = {p.request_id: p.order.id for p in book.placed if p.outcome == "acknowledged" and p.order}
    refused = [p.request_id for p in book.placed if p.outcome == "refused"]
    assert made == acknowledged, {"lost or other": set(acknowledged.items()) ^ set(made.items())}
    assert set(orders) == set(acknowledged.values()), set(orders) ^ set(acknowledged.values())
    assert not [r for r in refused if r in made], refused
    for order_id, status in orders.items():
        assert status == ("picked_up" if order_id in book.handed_over else "placed"), (order_id, status)


async def check_stock(c: Cluster) -> None:
    """Stock at the start = what is left + what the orders' lines took."""
    taken: Counter[str] = Counter()
    for (lines,) in await rows(c.db, "SELECT lines FROM orders"):
        for line in json.loads(lines):
            taken[line["item"]] += line["qty"]
    left = dict(await rows(c.db, f"SELECT item_id, quantity FROM stock WHERE point_id = '{POINT}'"))
    for item, initial in STOCK.items():
        assert left[item] >= 0 and left[item] + taken[item] == initial, (item, left[item], taken[item], initial)


async def check_points(c: Cluster, book: Ledgerbook, who: list[Customer]) -> None:
    """The ledger: each handed-over order earned once, each order that spent points spent them once, the
    running balance never went below zero, and each customer's balance is the sum of their entries."""
    entries = await rows(c.db, "SELECT customer_id, delta, reason, order_id FROM ledger ORDER BY id")
    orders = await rows(c.db, "SELECT id, customer_id, account, points_spent FROM orders")
    customer_of = {order_id: customer_id for order_id, customer_id, _, _ in orders}
    running: dict[str, int] = defaultdict(int)
    earned: dict[str, list[int]] = defaultdict(list)
    spends: dict[str, list[int]] = defaultdict(list)
    for customer_id, delta, reason, order_id in entries:
        assert reason in ("earn", "spend") and customer_of.get(order_id) == customer_id, (reason, order_id)
        running[customer_id] += delta
        assert running[customer_id] >= 0, (customer_id, delta, reason, order_id)
        (earned if reason == "earn" else spends)[order_id].append(delta)
    asked = {p.order.id: p.points for p in book.placed if p.order}
    for order_id, _, _, spent in orders:
        assert len(earned[order_id]) == (order_id in book.handed_over) and all(d > 0 for d in earned[order_id])
        assert spends[order_id] == ([-spent] if spent else []) and spent == asked[order_id], (order_id, spent)
    accounts = {account: customer_id for _, customer_id, account, _ in orders}
    for person in who:
        status, me = await c.api("GET", "/api/me", person.auth)
        mine = accounts.get(f"{person.channel}:{person.user_id}")
        assert status == 200 and me["points"] == (running[mine] if mine else 0), (person, me, mine)


async def check_notifications(c: Cluster, shop: Restarts, who: list[Customer]) -> list[str]:
    """Each step of each order told once (the staff chats of each new order, the customer of accepted, ready
    and the points earned), but for the resends a kill allows; returns those."""
    orders = await rows(c.db, "SELECT id, short_code, status, account FROM orders")
    earned = dict(await rows(c.db, "SELECT order_id, delta FROM ledger WHERE reason = 'earn'"))
    incarnations = list(c.instances)
    resent: list[str] = []
    last_moments: dict[str, list[int]] = defaultdict(list)  # a killed incarnation: when it sent what came again
    wanted: Counter[tuple[str, int, str]] = Counter()
    by_account = {f"{p.channel}:{p.user_id}": p for p in who}
    for order_id, code, status, account in orders:
        wanted["telegram", STAFF_CHAT, f"Новый заказ № {code} "] += 1
        wanted["vk", STAFF_PEER, f"Новый заказ № {code} "] += 1
        person = by_account[account]
        if status in DONE:
            for text in TEXTS.values():
                wanted[person.channel, person.user_id, text.format(code=code)] += 1
            wanted[person.channel, person.user_id, EARNED.format(points=earned[order_id])] += 1
    for (channel, chat, text), count in wanted.items():
        sent = c.telegram.sent(chat) if channel == "telegram" else c.vk.sent(chat)
        copies = [m for m in sent if text in (m.text or "")]
        resenders = copies_allowed([m.via for m in copies], count, channel, shop.killed, incarnations)
        if resenders:
            resent.append(f"{channel}:{chat} {text!r} via {[m.via for m in copies]}")
        for name in resenders:
            last_moments[name].append(max(m.date for m in copies if m.via == name))
    # nothing else was said to the customers: every message is one of the above
    for person in who:
        sent = c.telegram.sent(person.user_id) if person.channel == "telegram" else c.vk.sent(person.user_id)
        told = [key for key in wanted if key[:2] == (person.channel, person.user_id)]
        stray = [m.text for m in sent if not any(text in (m.text or "") for _, _, text in told)]
        assert not stray, (person.channel, person.user_id, stray)
    # what a killed incarnation sent again is what it sent in its last moments (the relay records what it sent
    # a batch at a time, every ``linger``); a relay that recorded late or never would resend its whole life
    chats = {chat for channel, chat, _ in wanted if channel == "telegram"}
    for name, dates in last_moments.items():
        last = max(m.date for chat in chats for m in c.telegram.sent(chat) if m.via == name)
        assert min(dates) >= last - 2, (name, dates, last)
    return resent
