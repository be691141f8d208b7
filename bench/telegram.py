"""Telegram benchmark: updates/s through the whole bot, and the broadcast rate within Telegram's limits.

    python bench/telegram.py [--updates 2000] [--concurrency 16] [--users 50] [--rounds 5] [--broadcast 300]
                             [--year]

(a) Updates/s. The full stack is a ``TelegramChannel`` wired as ``vitrina run`` wires it (``bot/runner.py``):
its aiogram ``Dispatcher`` fed with ``dispatcher.feed_update(bot, update)``, the update taken under a lease
(``Engine.begin_update``, counted as the runner's metrics count it) and marked handled after
(``Engine.finish_update``): two writes to SQLite, the real ``Conversation`` and ``Engine`` (abuse limits off) on
a fresh temporary SQLite file seeded with the demo shop (``bot.seed.seed_demo``: the 20 items of
``bot/demo/menu.yaml`` at two points), and the ``TelegramMessenger`` sending the replies (its limiter kept,
with its pacing lifted to 10^6/s: pacing is what (b) measures). Two baselines, in the same run, are bare
aiogram ``Dispatcher``s fed the same updates:

- **aiogram, same answers**: its handlers send, from memory, the very Bot API calls the full stack made for
  the same chat and the same command or press (recorded once before the rounds; a callback's answer gets
  the pressed query's id): the text and keyboards of the demo menu serialized the same way, without our
  code (no claim, no conversation, no engine);
- **aiogram echo**: one echo handler for messages and one for presses (answer the callback, send the data
  back): the least a bot does with aiogram.

The mix, made before the clock starts as polling would hand it over (``Update`` models bound to the bot):
``/help``, ``/orders`` (each customer has one order) and presses of "menu" and "points", from ``--users``
chats, ``--concurrency`` at a time (polling handles updates as concurrent tasks). A warm-up round first,
then ``--rounds`` rounds; in each every stack handles its own fresh updates, in an order reversed every
other round (interleaved: a slower or busier stretch of the shared machine falls on all of them); the median
round is shown. ``--year`` runs the same on a year of data (``bench/year.py``: 100,000 orders by 20,000
customers, and the 30 days of handled update ids the retention keeps).

Every bot uses a session that answers at once: aiogram's own ``AiohttpSession`` with ``make_request``
replaced so that each call is still serialized (``build_form_data``) and its answer parsed and validated
(``check_response`` on a canned Bot API result), only the HTTP round trip is left out. So the ratio is
of what differs; a loopback HTTP call to a fake server would add the same fixed cost to all (and the fake's
own work on the loop) and say more about aiohttp than about the bot.

(b) Broadcast. A ``TelegramMessenger`` (its default ``RateLimiter``) sends ``--broadcast`` texts to as
many different chats, all at once (``asyncio.gather``), over real HTTP to ``tests/fakes``'
``FakeTelegram`` with ``limit(per_second=30, per_chat_per_second=1)``, which answers 429 (and a
``retry_after``) to the 31st message within any second. Shown: messages/s from the first send to the
last answer, the 429s, and, as the baseline, the same sends without the limiter against the unlimited fake.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/telegram.py is no package
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests"), str(HERE.parent / "tests" / "fakes")]

from aiogram import Bot, Dispatcher, F, Router  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.methods import AnswerCallbackQuery, Response, SendMessage, TelegramMethod  # noqa: E402
from aiogram.types import CallbackQuery, Message, Update  # noqa: E402
from fake_telegram import FakeTelegram  # noqa: E402
from shop_fixtures import NOON, OWNER, FakeClock  # noqa: E402

from adapters.ratelimit import RateLimiter  # noqa: E402
from adapters.telegram import TelegramChannel, TelegramMessenger  # noqa: E402
from adapters.telegram.translate import Act, from_callback, from_message  # noqa: E402
from bot import observability  # noqa: E402
from bot.conversation import Conversation  # noqa: E402
from bot.seed import seed_demo  # noqa: E402
from journey.channels import Channel, CustomerRef, Text  # noqa: E402
from journey.engine import Engine  # noqa: E402
from journey.limits import ShopLimits  # noqa: E402
from journey.model import CartLine  # noqa: E402
from storage.rows import ts  # noqa: E402
from storage.sqlite import SqliteDatabase  # noqa: E402

TOKEN = "123:ABC"
# aiogram's session parses each answer into ``Response[<the method's result type>]``: pydantic keeps such generic
# classes in a weak cache, so a full garbage collection drops them and the next call builds the class again
# (tens to hundreds of ms on the event loop); --pin-responses holds them here to measure the difference
PINNED: list[type] = []
# the mix: two commands, then presses: the menu's categories, the coffee category's items (9 in the demo),
# one item's card with its options (latte: size, milk, syrups), the points balance
KINDS = ("/help", "/orders", Act(name="menu").pack(), Act(name="cat", arg="kofe").pack(),
         Act(name="item", arg="latte").pack(), Act(name="points").pack())
FULL, SAME, ECHO = "full stack", "aiogram, same answers", "aiogram echo"
# a year of data: what bench/year.py fills, and the handled update ids the 30 days' retention keeps
# (about 4,000 updates a day for 300-500 orders: a few messages and presses per order)
YEAR = {"orders": 100_000, "customers": 20_000}
KEPT_UPDATES = 120_000


FULL_GCS = [0]  # full (generation 2) garbage collections so far


def _count_full_gcs(phase: str, info: dict) -> None:
    if phase == "stop" and info["generation"] == 2:
        FULL_GCS[0] += 1


class InstantSession(AiohttpSession):
    """aiogram's session, minus the network: requests are serialized, answers parsed, as over HTTP."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self.recording: list[TelegramMethod] | None = None

    async def make_request(self, bot, method, timeout=None):
        self.build_form_data(bot=bot, method=method)
        if self.recording is not None:
            self.recording.append(method)
        name = method.__api_method__
        self.counts[name] = self.counts.get(name, 0) + 1
        result = True
        if name == "sendMessage":
            result = {"message_id": self.counts[name], "date": 0, "text": method.text,
                      "chat": {"id": int(method.chat_id), "type": "private", "first_name": "Гость"}}
        content = json.dumps({"ok": True, "result": result})
        return self.check_response(bot=bot, method=method, status_code=200, content=content).result


def raw_update(update_id: int, uid: int, kind: int) -> dict:
    user = {"id": uid, "is_bot": False, "first_name": f"Гость {uid}", "language_code": "ru"}
    chat = {"id": uid, "type": "private", "first_name": user["first_name"]}
    if KINDS[kind].startswith("/"):
        text = KINDS[kind]
        body = {"message": {"message_id": update_id, "date": 0, "chat": chat, "from": user, "text": text,
                            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}
    else:
        bot_message = {"message_id": update_id, "date": 0, "chat": chat, "text": "…",
                       "from": {"id": 123, "is_bot": True, "first_name": "Vitrina"}}
        body = {"callback_query": {"id": str(update_id), "from": user, "chat_instance": str(uid),
                                   "message": bot_message, "data": KINDS[kind]}}
    return {"update_id": update_id, **body}


def raw_updates(first_id: int, count: int, users: int) -> list[dict]:
    return [raw_update(first_id + n, 1000 + n % users, (n // users) % len(KINDS)) for n in range(count)]


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


def echo_dispatcher() -> Dispatcher:
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


def same_answers_dispatcher(canned: dict[tuple[int, str], list[TelegramMethod]]) -> Dispatcher:
    """Sends from memory what the full stack sent to this chat for this command or press."""
    router = Router()

    @router.message(F.text)
    async def answer(message: Message, bot: Bot) -> None:
        for method in canned[(message.chat.id, message.text)]:
            await bot(method)

    @router.callback_query()
    async def press(query: CallbackQuery, bot: Bot) -> None:
        for method in canned[(query.message.chat.id, query.data)]:
            if isinstance(method, AnswerCallbackQuery):
                method = method.model_copy(update={"callback_query_id": query.id})
            await bot(method)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def fill_year(path: Path) -> str:
    """A year of history in the seeded file (bench/year.py), plus the handled update ids retention keeps."""
    import bench_year
    fill = bench_year.load().fill  # tests/bench_year.py: bench/ is left off sys.path
    started = time.perf_counter()
    counts = await fill(str(path), **YEAR, until=NOON)  # the year ends when the run's clock starts
    now = NOON.timestamp()
    with sqlite3.connect(path) as conn:  # update ids as Telegram numbers them, spread over the kept 30 days
        conn.executemany("INSERT OR IGNORE INTO processed_updates (channel, update_id, at) VALUES (?, ?, ?)",
                         ((Channel.TELEGRAM.value, str(10**8 + n),
                           _ts(now - timedelta(days=30).total_seconds() * (1 - n / KEPT_UPDATES)))
                          for n in range(KEPT_UPDATES)))
    return (f"year of data: {', '.join(f'{v} {k}' for k, v in counts.items())}, {KEPT_UPDATES} handled update ids "
            f"({time.perf_counter() - started:.0f} s to fill)")


def _ts(epoch: float) -> str:
    return ts(datetime.fromtimestamp(epoch, UTC))


async def open_shop(path: Path, users: int, year: bool) -> tuple[SqliteDatabase, Engine, str]:
    clock = FakeClock(NOON + timedelta(hours=3))  # noon in Moscow: both demo points open
    db = await SqliteDatabase(path).connect()
    engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading, limits=ShopLimits.off())
    await seed_demo(engine)
    note = "empty database (the demo shop only)"
    if year:
        await db.close()
        note = await fill_year(path)
        db = await SqliteDatabase(path).connect()
        engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    for n in range(users):  # one order each, for /orders to list
        await engine.place_order(CustomerRef(Channel.TELEGRAM, str(1000 + n), f"Гость {1000 + n}"),
                                 [CartLine("espresso", 1)], "center")
    return db, engine, note


def full_stack(engine: Engine) -> TelegramChannel:
    """The channel as bot/runner.py and bot/channels.py wire it (no payments configured, no sharing card)."""
    metrics = observability.PrometheusMetrics()
    engine.metrics = metrics
    conversation = Conversation(engine, public_url="https://coffee.example")
    claim = observability.counting_claims(engine.begin_update, metrics)

    def bound(step: Callable) -> Callable:
        async def call(update_id: str) -> None:
            await step(Channel.TELEGRAM, update_id)
        return call

    channel = TelegramChannel(TOKEN, handle=conversation.handle, mini_app_url="https://coffee.example/",
                              claim=lambda update_id: claim(Channel.TELEGRAM, update_id),
                              release=bound(engine.release_update), finish=bound(engine.finish_update))
    channel.bot.session = InstantSession()
    channel.messenger.limiter = RateLimiter(per_second=1e6, chat_interval=1e-6)
    return channel


async def parts(channel: TelegramChannel, canned: dict[tuple[int, str], list[TelegramMethod]], bare: Bot,
                first_id: int, users: int, repeat: int = 200) -> str:
    """The full stack's steps one at a time (no concurrency), the process's CPU µs per call (CPU, not wall
    time: on a shared machine a step longer than a scheduler slice is stretched by the other programs),
    median of ``repeat``: what an update costs beyond the aiogram work the baselines share."""
    def median(times: list[float]) -> str:
        return f"{sorted(times)[len(times) // 2] * 1e6:8.0f}"

    updates = [Update.model_validate(raw_update(first_id + n, 1000 + n % users, n % len(KINDS)),
                                     context={"bot": channel.bot}) for n in range(repeat * len(KINDS))]
    claims: list[float] = []
    for update in updates[:repeat]:
        t0 = time.process_time()
        assert await channel.claim(str(update.update_id))
        assert channel.finish is not None
        await channel.finish(str(update.update_id))
        claims.append(time.process_time() - t0)
    lines = [f"\nsteps of the full stack one at a time, CPU µs (median of {repeat}):",
             f"{'':<12}{'handle':>8}{'send':>8}{'same from memory':>18}"
             f"   (claim + finish: {median(claims).strip()} µs)"]
    handle: list[list[float]] = [[] for _ in KINDS]
    send: list[list[float]] = [[] for _ in KINDS]
    bare_send: list[list[float]] = [[] for _ in KINDS]
    for n, update in enumerate(updates):  # the kinds in turn, so that a busy stretch falls on all of them
        kind = n % len(KINDS)
        inbound = from_message(update.message, update.update_id) if update.message else \
            from_callback(update.callback_query, update.update_id)
        to = CustomerRef(Channel.TELEGRAM, inbound.sender.external_id)
        t0 = time.process_time()
        replies = await channel.handle(inbound)
        t1 = time.process_time()
        for reply in replies:
            await channel.messenger.send(to, reply)
        t2 = time.process_time()
        for method in canned[(int(to.external_id), KINDS[kind])]:
            if isinstance(method, SendMessage):
                await bare(method)
        bare_send[kind].append(time.process_time() - t2)
        handle[kind].append(t1 - t0)
        send[kind].append(t2 - t1)
    for kind, name in enumerate(KINDS):
        lines.append(f"{name:<12}{median(handle[kind])}{median(send[kind])}{median(bare_send[kind]):>18}")
    return "\n".join(lines)


async def updates_per_second(args: argparse.Namespace, folder: Path) -> None:
    db, engine, note = await open_shop(folder / "shop.db", args.users, args.year)
    try:  # closed whatever happens: its worker thread would keep a failed run from ending
        await measure(args, engine, note)
    finally:
        await db.close()


async def measure(args: argparse.Namespace, engine: Engine, note: str) -> None:
    channel = full_stack(engine)
    full_session = channel.bot.session
    assert isinstance(full_session, InstantSession)
    # start-up is over: freeze what it built, as bot/runner.py does before serving
    gc.freeze()
    # what the full stack answers each chat to each command and press, recorded one update at a time
    canned: dict[tuple[int, str], list[TelegramMethod]] = {}
    next_id = 1
    for uid in range(1000, 1000 + args.users):
        for kind in range(len(KINDS)):
            update = raw_update(next_id, uid, kind)
            next_id += 1
            full_session.recording = canned.setdefault((uid, KINDS[kind]), [])
            await channel.dispatcher.feed_update(channel.bot,
                                                 Update.model_validate(update, context={"bot": channel.bot}))
    full_session.recording = None
    sizes = [sum(len(m.text.encode()) + len(m.reply_markup.model_dump_json(exclude_none=True)
                                              if m.reply_markup else "")
                 for m in canned[(1000, kind)] if isinstance(m, SendMessage)) for kind in KINDS]

    sessions = {SAME: InstantSession(), ECHO: InstantSession()}
    stacks: dict[str, tuple[Dispatcher, Bot]] = {
        FULL: (channel.dispatcher, channel.bot),
        SAME: (same_answers_dispatcher(canned), Bot(TOKEN, session=sessions[SAME])),
        ECHO: (echo_dispatcher(), Bot(TOKEN, session=sessions[ECHO]))}
    sessions[FULL] = full_session
    results: dict[str, list[tuple[float, list[float], int, float]]] = {name: [] for name in stacks}
    for round_ in range(args.rounds + 1):  # round 0 warms up (fills caches)
        count = min(50 * len(KINDS), args.updates) if round_ == 0 else args.updates
        order = list(stacks) if round_ % 2 else list(reversed(stacks))
        for name in order:
            dispatcher, bot = stacks[name]
            raw = raw_updates(next_id, count, args.users)  # fresh update ids: each stack claims its own
            next_id += count
            updates = [Update.model_validate(u, context={"bot": bot}) for u in raw]
            before, gcs, cpu = dict(sessions[name].counts), FULL_GCS[0], time.process_time()
            elapsed, latencies = await feed(dispatcher, bot, updates, args.concurrency)
            gcs, cpu = FULL_GCS[0] - gcs, (time.process_time() - cpu) / count
            made = {k: v - before.get(k, 0) for k, v in sessions[name].counts.items()}
            presses = sum(1 for u in raw if "callback_query" in u)
            # every update answered once (a message; a press also gets its callback answered)
            assert made == {"sendMessage": count, "answerCallbackQuery": presses}, (name, made, count, presses)
            if round_:
                results[name].append((elapsed, latencies, gcs, cpu))
    sent = full_session.counts["sendMessage"]
    await channel.dispatcher.feed_update(channel.bot, Update.model_validate(raw_update(1, 1000, 0),
                                                                          context={"bot": channel.bot}))
    assert full_session.counts["sendMessage"] == sent, "a redelivered update was answered again"
    parts_report = await parts(channel, canned, stacks[SAME][1], next_id + 1, args.users) if args.parts else ""

    print(f"(a) {note}")
    print(f"{args.updates} updates a round, {args.rounds} rounds, {args.concurrency} at a time, {args.users} chats; "
          "mix: /help, /orders, presses of menu, a category, an item, points; the answers' text and keyboard: "
          + ", ".join(f"{size} B" for size in sizes))
    print(f"{'':<24}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs':>8}{'full GCs':>9}"
          "   (each round: updates/s)")
    rates, cpus = {}, {}
    for name in (ECHO, SAME, FULL):
        runs = results[name]
        elapsed, latencies, gcs, cpus[name] = sorted(runs)[len(runs) // 2]
        rates[name] = args.updates / elapsed
        each = "/".join(f"{args.updates / r[0]:.0f}" for r in runs)
        print(f"{name:<24}{rates[name]:10.0f}{latencies[len(latencies) // 2] * 1e3:9.2f}"
              f"{latencies[int(len(latencies) * .99)] * 1e3:9.2f}{cpus[name] * 1e6:8.0f}{gcs:9}   {each}")
    print("(CPU µs: this process's CPU time per update, all threads, in the median round)")
    for base, target in ((ECHO, .3), (SAME, None)):
        ratio, by_cpu = rates[FULL] / rates[base], cpus[base] / cpus[FULL]
        verdict = f"; target (>= 30%): {'met' if min(ratio, by_cpu) >= target else 'MISSED'}" if target else \
            " (what the claim, the conversation and the engine cost)"
        print(f"full stack / {base} = {ratio:.0%} by updates/s, {by_cpu:.0%} by CPU per update{verdict}")
    print(f"Bot API calls, recording and warm-up included: full stack {full_session.counts}")
    if parts_report:
        print(parts_report)
    print("(full GCs: garbage collections of the oldest generation during the median round; each one lets aiogram's "
          "Response[...] classes go, rebuilt at the next call" + (": pinned in this run)" if PINNED else ")"))
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
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--broadcast", type=int, default=300, help="messages in (b), 0 to skip (default 300)")
    parser.add_argument("--year", action="store_true", help="(a) on a year of data (bench/year.py)")
    parser.add_argument("--parts", action="store_true", help="+ the full stack's steps timed one at a time")
    parser.add_argument("--pin-responses", action="store_true",
                        help="keep aiogram's Response[...] classes of the calls made alive across full GCs")
    args = parser.parse_args()
    gc.callbacks.append(_count_full_gcs)
    if args.pin_responses:
        PINNED.extend(Response[m.__returning__] for m in (SendMessage, AnswerCallbackQuery))
    print("\n".join(machine()) + "\ncommand    python bench/telegram.py " + " ".join(sys.argv[1:]) + "\n")
    if args.updates:
        with tempfile.TemporaryDirectory(prefix="vitrina-bench-tg-") as folder:
            await updates_per_second(args, Path(folder))
    if args.broadcast:
        await broadcast(args.broadcast)


if __name__ == "__main__":
    asyncio.run(main())
