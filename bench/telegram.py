"""Telegram benchmark: updates/s through the whole bot, and the broadcast rate within Telegram's limits.

    python bench/telegram.py [--updates 2000] [--concurrency 16] [--users 50] [--rounds 3] [--broadcast 300]

(a) Updates/s. The full stack is a ``TelegramChannel`` as ``vitrina run`` wires it: its aiogram
``Dispatcher`` fed with ``dispatcher.feed_update(bot, update)``, the update de-duplication ``claim``
(a write to SQLite), the real ``Conversation`` and ``Engine`` on a fresh temporary SQLite file seeded as
``tests/shop_fixtures.seed`` does, and the ``TelegramMessenger`` sending the replies (its limiter kept,
with its pacing lifted to 10^6/s: pacing is what (b) measures). The baseline, in the same run, is a bare
aiogram ``Dispatcher`` with one echo handler for messages and one for callback presses (answer the
callback, send the data back): the same aiogram work without our code. Both are fed the same mix, made
before the clock starts as polling would hand them over (``Update`` models bound to the bot): ``/help``,
``/orders`` (each customer has one order) and presses of "menu" and "points", from ``--users`` chats,
``--concurrency`` at a time (polling handles updates as concurrent tasks). The rounds alternate baseline
and full stack; the median is shown.

Both bots use a session that answers at once: aiogram's own ``AiohttpSession`` with ``make_request``
replaced so that each call is still serialized (``build_form_data``) and its answer parsed and validated
(``check_response`` on a canned Bot API result), only the HTTP round trip is left out. So the ratio is
of what differs, the dispatcher's handlers; a loopback HTTP call to a fake server would add the same
fixed cost to both (and the fake's own work on the loop) and say more about aiohttp than about the bot.

(b) Broadcast. A ``TelegramMessenger`` (its default ``RateLimiter``) sends ``--broadcast`` texts to as
many different chats, all at once (``asyncio.gather``), over real HTTP to ``tests/fakes``'
``FakeTelegram`` with ``limit(per_second=30, per_chat_per_second=1)``, which answers 429 (and a
``retry_after``) to the 31st message within any second. Shown: messages/s from the first send to the
last answer, the 429s, and, as the baseline, the same sends without the limiter against the unlimited fake.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/telegram.py is no package
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests"), str(HERE.parent / "tests" / "fakes")]

from aiogram import Bot, Dispatcher, F, Router  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.types import CallbackQuery, Message, Update  # noqa: E402
from fake_telegram import FakeTelegram  # noqa: E402
from shop_fixtures import OWNER, FakeClock, seed  # noqa: E402

from adapters.ratelimit import RateLimiter  # noqa: E402
from adapters.telegram import TelegramChannel, TelegramMessenger  # noqa: E402
from adapters.telegram.translate import Act  # noqa: E402
from bot.conversation import Conversation  # noqa: E402
from journey.channels import Channel, CustomerRef, Text  # noqa: E402
from journey.engine import Engine  # noqa: E402
from journey.limits import ShopLimits  # noqa: E402
from journey.model import CartLine  # noqa: E402
from storage.sqlite import SqliteDatabase  # noqa: E402

TOKEN = "123:ABC"


class InstantSession(AiohttpSession):
    """aiogram's session, minus the network: requests are serialized, answers parsed, as over HTTP."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}

    async def make_request(self, bot, method, timeout=None):
        self.build_form_data(bot=bot, method=method)
        name = method.__api_method__
        self.counts[name] = self.counts.get(name, 0) + 1
        result = True
        if name == "sendMessage":
            result = {"message_id": self.counts[name], "date": 0, "text": method.text,
                      "chat": {"id": int(method.chat_id), "type": "private", "first_name": "Гость"}}
        content = json.dumps({"ok": True, "result": result})
        return self.check_response(bot=bot, method=method, status_code=200, content=content).result


def raw_updates(first_id: int, count: int, users: int) -> list[dict]:
    out = []
    for n in range(count):
        uid, kind = 1000 + n % users, (n // users) % 4
        user = {"id": uid, "is_bot": False, "first_name": f"Гость {uid}", "language_code": "ru"}
        chat = {"id": uid, "type": "private", "first_name": user["first_name"]}
        if kind < 2:
            text = ("/help", "/orders")[kind]
            body = {"message": {"message_id": n + 1, "date": 0, "chat": chat, "from": user, "text": text,
                                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}
        else:
            bot_message = {"message_id": n + 1, "date": 0, "chat": chat, "text": "…",
                           "from": {"id": 123, "is_bot": True, "first_name": "Vitrina"}}
            body = {"callback_query": {"id": str(n), "from": user, "chat_instance": str(uid), "message": bot_message,
                                       "data": Act(name=("menu", "points")[kind - 2]).pack()}}
        out.append({"update_id": first_id + n, **body})
    return out


async def feed(dispatcher: Dispatcher, bot: Bot, updates: list[Update], concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(updates)

    async def worker() -> None:
        for update in queue:
            t0 = time.perf_counter()
            await dispatcher.feed_update(bot, update)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, sorted(latencies)


def bare_dispatcher() -> Dispatcher:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text)

    @router.callback_query()
    async def press(query: CallbackQuery) -> None:
        await query.answer()
        await query.message.answer(query.data)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def updates_per_second(args: argparse.Namespace, folder: Path) -> None:
    db = await SqliteDatabase(folder / "shop.db").connect()
    engine = Engine(db.uow, owners=[OWNER], clock=FakeClock(), reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    await seed(engine)
    for n in range(args.users):  # one past order each, for /orders to list
        await engine.place_order(CustomerRef(Channel.TELEGRAM, str(1000 + n), f"Гость {1000 + n}"),
                                 [CartLine("espresso", 1)], "center")
    conversation = Conversation(engine, public_url="https://coffee.example")
    channel = TelegramChannel(TOKEN, handle=conversation.handle, mini_app_url="https://coffee.example/",
                              claim=lambda update_id: engine.claim_update(Channel.TELEGRAM, update_id))
    channel.bot.session = full_session = InstantSession()
    channel.messenger.limiter = RateLimiter(per_second=1e6, chat_interval=1e-6)
    bare_bot = Bot(TOKEN, session=(bare_session := InstantSession()))
    bare = bare_dispatcher()
    stacks = {"bare aiogram Dispatcher": (bare, bare_bot), "full stack": (channel.dispatcher, channel.bot)}
    results: dict[str, list[tuple[float, list[float]]]] = {name: [] for name in stacks}
    next_id = 1
    for round_ in range(args.rounds + 1):  # round 0 warms up (creates the customers, fills caches)
        count = min(200, args.updates) if round_ == 0 else args.updates
        raw = raw_updates(next_id, count, args.users)
        next_id += count
        for name, (dispatcher, bot) in stacks.items():
            updates = [Update.model_validate(u, context={"bot": bot}) for u in raw]
            elapsed, latencies = await feed(dispatcher, bot, updates, args.concurrency)
            if round_:
                results[name].append((elapsed, latencies))
    # every update answered once; a redelivered update is skipped by the full stack
    total = min(200, args.updates) + args.rounds * args.updates
    sent = full_session.counts.get("sendMessage", 0)
    assert sent == total == bare_session.counts["sendMessage"], (sent, total, bare_session.counts)
    await channel.dispatcher.feed_update(channel.bot, Update.model_validate(raw[0], context={"bot": channel.bot}))
    assert full_session.counts["sendMessage"] == sent, "a redelivered update was answered again"
    await db.close()

    print(f"(a) {args.updates} updates a round, {args.rounds} rounds, {args.concurrency} at a time, "
          f"{args.users} chats; mix: /help, /orders, press menu, press points")
    print(f"{'':<26}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'µs/update':>11}   (each round: updates/s)")
    rates = {}
    for name, runs in results.items():
        elapsed, latencies = sorted(runs)[len(runs) // 2]
        rates[name] = args.updates / elapsed
        each = "/".join(f"{args.updates / e:.0f}" for e, _ in runs)
        print(f"{name:<26}{rates[name]:10.0f}{latencies[len(latencies) // 2] * 1e3:9.2f}"
              f"{latencies[int(len(latencies) * .99)] * 1e3:9.2f}{elapsed / args.updates * 1e6:11.0f}   {each}")
    ratio = rates["full stack"] / rates["bare aiogram Dispatcher"]
    print(f"full stack / bare dispatcher = {ratio:.0%}; target (>= 30%): {'met' if ratio >= .3 else 'MISSED'}")
    print(f"Bot API calls, warm-up included: full stack {full_session.counts}, bare {bare_session.counts}")


async def broadcast(count: int) -> None:
    async with FakeTelegram(TOKEN) as fake:
        bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))

        async def run(messenger: TelegramMessenger | None) -> tuple[float, int]:
            before = fake.too_many
            started = time.perf_counter()
            if messenger:
                await asyncio.gather(*(messenger.send(CustomerRef(Channel.TELEGRAM, str(5000 + n)),
                                                      Text(f"Новинка {n}")) for n in range(count)))
            else:
                await asyncio.gather(*(bot.send_message(6000 + n, f"Новинка {n}") for n in range(count)))
            return count / (time.perf_counter() - started), fake.too_many - before

        raw, _ = await run(None)  # the baseline: no limiter, no limit
        fake.limit(per_second=30, per_chat_per_second=1)
        limiter = TelegramMessenger(bot).limiter
        rate, too_many = await run(TelegramMessenger(bot, limiter=limiter))
        await bot.session.close()
    delivered = len([c for c in fake.calls if c.method == "sendMessage" and c.status == 200])
    assert delivered == 2 * count, delivered
    print(f"\n(b) broadcast of {count} messages to {count} chats, FakeTelegram limit(per_second=30, "
          f"per_chat_per_second=1), RateLimiter(per_second={1 / limiter.interval:g})")
    print(f"without limiter or limit (baseline): {raw:.0f} messages/s")
    print(f"TelegramMessenger: {rate:.1f} messages/s = {rate / 30:.1%} of 30/s, 429 answers: {too_many}; "
          f"target (>= 95% of 30/s, no 429): {'met' if rate >= 28.5 and too_many == 0 else 'MISSED'}")


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    import aiogram
    return [f"platform   {platform.platform()}", f"cpu        {cpu} x {os.cpu_count()}",
            f"python     {platform.python_implementation()} {platform.python_version()}, aiogram {aiogram.__version__}"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000, help="updates a round (default 2000), 0 to skip (a)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--users", type=int, default=50, help="chats the updates come from (default 50)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--broadcast", type=int, default=300, help="messages in (b), 0 to skip (default 300)")
    args = parser.parse_args()
    print("\n".join(machine()) + "\ncommand    python bench/telegram.py " + " ".join(sys.argv[1:]) + "\n")
    if args.updates:
        with tempfile.TemporaryDirectory(prefix="vitrina-bench-tg-") as folder:
            await updates_per_second(args, Path(folder))
    if args.broadcast:
        await broadcast(args.broadcast)


if __name__ == "__main__":
    asyncio.run(main())
