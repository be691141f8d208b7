"""VK benchmark: community events/s through the whole bot against a raw handler, and a broadcast.

    python bench/vk.py [--events 2000] [--concurrency 16] [--users 50] [--rounds 5] [--broadcast 100] [--year]

Events/s. The full stack is a ``VkChannel`` wired as ``vitrina run`` wires it (``bot/runner.py``), fed with
``channel.handle_event(event)`` (as its long poll and Callback API do): the event taken under a lease
(``Engine.begin_update``, counted as the runner's metrics count it) and marked handled after
(``Engine.finish_update``): two writes to SQLite, the real ``Conversation`` and ``Engine`` (abuse limits off) on a
fresh temporary SQLite file seeded with the demo shop (``bot.seed.seed_demo``: the 20 items of
``bot/demo/menu.yaml`` at two points), and the ``VkMessenger`` sending each reply with ``messages.send`` (its
limiter kept, with its pacing lifted to 10^6/s: pacing is what the broadcast measures). The full stack
does not go through vkbottle's router (it reads the event's dict itself), so neither do the baselines,
in the same run: raw handlers of the event's dict calling the API through a vkbottle ``API`` (the same
HTTP client as the full stack's):

- **raw, same answers**: sends, from memory, the very ``messages.send`` the full stack made for the same
  user and the same command or press (recorded once before the rounds, a fresh ``random_id`` each), after
  ``messages.sendMessageEventAnswer`` for a press, as the full stack does: the same calls and bytes
  without our code (no claim, no conversation, no engine);
- **raw echo**: a message is answered with its text, a press with ``sendMessageEventAnswer`` and its
  payload: the least a bot does.

The mix, built before the clock starts the way ``tests/fakes/fake_vk.py`` builds events: ``message_new``
"/help" and "/orders" (each customer has one order), ``message_event`` presses of the menu's categories,
the coffee category (9 items in the demo), the latte's card (its options) and "points", from ``--users``
users, ``--concurrency`` at a time. A warm-up round first, then ``--rounds`` rounds; in each every stack
handles its own fresh events, in an order reversed every other round (interleaved); the median round is
shown. ``--year`` runs the same on a year of data (``bench/year.py``: 100,000 orders by 20,000 customers,
and the 30 days of handled event ids the retention keeps).

All send over real HTTP on loopback to one ``FakeVK`` (``tests/fakes``), which runs in a child process
(multiprocessing, spawn) so that its work is not done on the measured event loop; it counts what
arrived, and the run checks that every event was answered once and a redelivered one not at all.

Broadcast: a ``VkMessenger`` with its default limiter sends ``--broadcast`` messages to as many peers at
once, against the same fake with ``limit(20)`` (error 6 beyond 20 calls in any second).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/vk.py is no package
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests"), str(HERE.parent / "tests" / "fakes")]

TOKEN, GROUP = "vk-token", 7


def serve_fake(conn) -> None:
    from fake_vk import FakeVK

    async def run() -> None:
        fake = await FakeVK(TOKEN, GROUP).start()
        conn.send(fake.api_url)
        loop = asyncio.get_running_loop()
        while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
            if command == "stats":
                conn.send({"messages": len(fake.messages), "answers": len(fake.answers), "too_many": fake.too_many})
            else:  # ("limit", n)
                fake.limit(command[1])
        await fake.stop()
    asyncio.run(run())


def message_new(n: int, uid: int, text: str) -> dict:
    message = {"date": int(time.time()), "from_id": uid, "peer_id": uid, "id": n, "conversation_message_id": n,
               "out": 0, "version": 1, "text": text, "attachments": [], "fwd_messages": [], "important": False,
               "is_hidden": False, "random_id": 0}
    client_info = {"button_actions": ["text", "callback", "open_app", "open_link"], "keyboard": True,
                   "inline_keyboard": True, "carousel": True, "lang_id": 0}
    return {"group_id": GROUP, "type": "message_new", "event_id": secrets.token_hex(20), "v": "5.199",
            "object": {"message": message, "client_info": client_info}}


def message_event(n: int, uid: int, payload: dict) -> dict:
    return {"group_id": GROUP, "type": "message_event", "event_id": secrets.token_hex(20), "v": "5.199",
            "object": {"user_id": uid, "peer_id": uid, "event_id": secrets.token_hex(6), "payload": payload,
                       "conversation_message_id": n}}


# the mix: two messages, then presses: the menu's categories, the coffee category's items (9 in the demo), one
# item's card with its options (latte: size, milk, syrups), the points balance
KINDS: tuple[str | dict, ...] = ("/help", "/orders", {"a": "menu"}, {"a": "cat", "id": "kofe"},
                                 {"a": "item", "id": "latte"}, {"a": "points"})
FULL, SAME, ECHO = "full stack", "raw, same answers", "raw echo"
# a year of data: what bench/year.py fills, and the handled event ids the 30 days' retention keeps
# (about 4,000 events a day for 300-500 orders: a few messages and presses per order)
YEAR = {"orders": 100_000, "customers": 20_000}
KEPT_EVENTS = 120_000


def make_events(first: int, count: int, users: int) -> list[dict]:
    out = []
    for n in range(first, first + count):
        uid, kind = 1000 + n % users, KINDS[(n // users) % len(KINDS)]
        out.append(message_new(n, uid, kind) if isinstance(kind, str) else message_event(n, uid, kind))
    return out


def what(event: dict) -> tuple[int, str]:
    """The user and the command or press of an event: the key of the answers recorded for it."""
    obj = event["object"]
    if event["type"] == "message_new":
        return obj["message"]["peer_id"], obj["message"]["text"]
    return obj["peer_id"], json.dumps(obj["payload"], sort_keys=True)


async def feed(handle, events: list[dict], concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(events)

    async def worker() -> None:
        for event in queue:
            t0 = time.perf_counter()
            await handle(event)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, sorted(latencies)


def raw_handlers(api, canned: dict[tuple[int, str], list[dict]]):
    """Two bots a skilled engineer would write on the event's dict with vkbottle's ``API`` and no router:
    one sending the recorded answers, one echoing."""
    random_ids = iter(range(1, 2**31))

    async def answer_press(obj: dict) -> None:
        await api.request("messages.sendMessageEventAnswer",
                          {"event_id": obj["event_id"], "user_id": obj["user_id"], "peer_id": obj["peer_id"]})

    async def same_answers(event: dict) -> None:
        if event["type"] == "message_event":
            await answer_press(event["object"])
        for params in canned[what(event)]:
            await api.request("messages.send", {**params, "random_id": next(random_ids)})

    async def echo(event: dict) -> None:
        obj = event["object"]
        if event["type"] == "message_new":
            message = obj["message"]
            await api.request("messages.send", {"peer_id": message["peer_id"], "random_id": next(random_ids),
                                                "message": message["text"]})
        elif event["type"] == "message_event":
            await answer_press(obj)
            await api.request("messages.send", {"peer_id": obj["peer_id"], "random_id": next(random_ids),
                                                "message": json.dumps(obj["payload"])})

    return same_answers, echo


async def fill_year(path: Path) -> str:
    """A year of history in the seeded file (bench/year.py), plus the handled event ids retention keeps."""
    import sqlite3
    from datetime import timedelta

    import bench_year
    from shop_fixtures import NOON

    from storage.rows import ts
    fill = bench_year.load().fill  # tests/bench_year.py: bench/ is left off sys.path
    started = time.perf_counter()
    counts = await fill(str(path), **YEAR, until=NOON)  # the year ends when the run's clock starts
    month = timedelta(days=30)
    with sqlite3.connect(path) as conn:  # event ids as VK makes them, spread over the kept 30 days
        conn.executemany("INSERT OR IGNORE INTO processed_updates (channel, update_id, at) VALUES (?, ?, ?)",
                         (("vk", secrets.token_hex(20), ts(NOON - month * (1 - n / KEPT_EVENTS)))
                          for n in range(KEPT_EVENTS)))
    return (f"year of data: {', '.join(f'{v} {k}' for k, v in counts.items())}, {KEPT_EVENTS} handled event ids "
            f"({time.perf_counter() - started:.0f} s to fill)")


async def run(args: argparse.Namespace, folder: Path, fake, fake_pid: int, api_url: str) -> None:
    from datetime import timedelta

    from shop_fixtures import NOON, OWNER, FakeClock
    from vkbottle import API

    from adapters.ratelimit import RateLimiter
    from adapters.vk import VkChannel, VkMessenger
    from bot import observability
    from bot.conversation import Conversation
    from bot.seed import seed_demo
    from journey.channels import Channel, CustomerRef, Text
    from journey.engine import Engine
    from journey.limits import ShopLimits
    from journey.model import CartLine
    from storage.sqlite import SqliteDatabase

    path, clock = folder / "shop.db", FakeClock(NOON + timedelta(hours=3))  # noon in Moscow: both points open
    db = await SqliteDatabase(path).connect()
    engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading, limits=ShopLimits.off())
    await seed_demo(engine)
    note = "empty database (the demo shop only)"
    if args.year:
        await db.close()
        note = await fill_year(path)
        db = await SqliteDatabase(path).connect()
        engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    try:  # closed whatever happens: its worker thread would keep a failed run from ending
        for n in range(args.users):  # one order each, for /orders to list
            await engine.place_order(CustomerRef(Channel.VK, str(1000 + n)), [CartLine("espresso", 1)], "center")

        # the channel as bot/runner.py and bot/channels.py wire it (no Mini App secret, no staff chat)
        metrics = observability.PrometheusMetrics()
        engine.metrics = metrics
        conversation = Conversation(engine, public_url="https://coffee.example")
        claim = observability.counting_claims(engine.begin_update, metrics)

        def bound(step):
            async def call(event_id: str) -> None:
                await step(Channel.VK, event_id)
            return call

        channel = VkChannel(TOKEN, GROUP, handle=conversation.handle, api_base=api_url, app_id=51234,
                            claim=lambda event_id: claim(Channel.VK, event_id), release=bound(engine.release_update),
                            finish=bound(engine.finish_update))
        channel.messenger.limiter = RateLimiter(per_second=1e6, chat_interval=1e-6)

        # start-up is over: freeze what it built, as bot/runner.py does before serving
        gc.freeze()
        # what the full stack sends each user for each command and press, recorded one event at a time
        canned: dict[tuple[int, str], list[dict]] = {}
        api, request = channel.api, channel.api.request
        recording: list[dict] = []

        async def recorded(method: str, data: dict, version: str | None = None) -> dict:
            if method == "messages.send":
                recording.append({k: v for k, v in data.items() if k != "random_id"})
            return await request(method, data, version)

        api.request = recorded
        handled = make_events(1, args.users * len(KINDS), args.users)  # each user's every kind once
        for event in handled:
            recording = canned.setdefault(what(event), [])
            await channel.handle_event(event)
        api.request = request
        first = 1 + len(handled)
        assert len(canned) == args.users * len(KINDS) and all(canned.values()), "an event got no answer"
        sizes = [sum(len(p.get("message", "").encode()) + len(p.get("keyboard", "")) for p in canned[what(e)])
                 for e in (message_new(0, 1000, k) if isinstance(k, str) else message_event(0, 1000, k) for k in KINDS)]

        bare_api = API(TOKEN)
        same_answers, echo = raw_handlers(bare_api, canned)
        stacks = {FULL: channel.handle_event, SAME: same_answers, ECHO: echo}
        results: dict[str, list[tuple[float, list[float], float, float]]] = {name: [] for name in stacks}
        for round_ in range(args.rounds + 1):  # round 0 warms up
            count = min(50 * len(KINDS), args.events) if round_ == 0 else args.events
            for name in list(stacks) if round_ % 2 else list(reversed(stacks)):
                events = make_events(first, count, args.users)  # fresh event ids: each stack claims its own
                first += count
                before, cpu0 = fake_stats(fake), (time.process_time(), cpu_seconds(fake_pid))
                elapsed, latencies = await feed(stacks[name], [dict(e) for e in events], args.concurrency)
                after, cpu = fake_stats(fake), (time.process_time() - cpu0[0], cpu_seconds(fake_pid) - cpu0[1])
                presses = sum(e["type"] == "message_event" for e in events)
                made = (after["messages"] - before["messages"], after["answers"] - before["answers"])
                assert made == (count, presses), (name, before, after, count, presses)
                if round_:
                    results[name].append((elapsed, latencies, cpu[0] / count, cpu[1] / elapsed))
        before = fake_stats(fake)
        await channel.handle_event(handled[0])  # redelivered
        assert fake_stats(fake) == before, "a redelivered event was answered again"

        print(note)
        print(f"{args.events} events a round, {args.rounds} rounds, {args.concurrency} at a time, {args.users} users; "
              "mix: /help, /orders, presses of menu, a category, an item, points; the answers' text and keyboard: "
              + ", ".join(f"{size} B" for size in sizes))
        print(f"{'':<22}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'bot CPU µs':>11}{'fake busy':>10}"
              "   (each round: events/s)")
        rates, cpus = {}, {}
        for name in (ECHO, SAME, FULL):
            runs = results[name]
            elapsed, latencies, cpus[name], busy = sorted(runs)[len(runs) // 2]
            rates[name] = args.events / elapsed
            print(f"{name:<22}{rates[name]:10.0f}{latencies[len(latencies) // 2] * 1e3:9.2f}"
                  f"{latencies[int(len(latencies) * .99)] * 1e3:9.2f}{cpus[name] * 1e6:11.0f}{busy:10.0%}   "
                  + "/".join(f"{args.events / r[0]:.0f}" for r in runs))
        print("(bot CPU µs: this process's CPU time per event, all threads; "
              "fake busy: the FakeVK process's CPU / wall)")
        for base, target in ((ECHO, .3), (SAME, None)):
            ratio, by_cpu = rates[FULL] / rates[base], cpus[base] / cpus[FULL]
            verdict = f"; target (>= 30%): {'met' if min(ratio, by_cpu) >= target else 'MISSED'}" if target else \
                " (what the claim, the conversation and the engine cost)"
            print(f"full stack / {base} = {ratio:.0%} by events/s, {by_cpu:.0%} by the bot's CPU per event{verdict}")

        if args.broadcast:
            fake.send(("limit", 20))
            messenger = VkMessenger(bare_api)
            before, started = fake_stats(fake), time.perf_counter()
            await asyncio.gather(*(messenger.send(CustomerRef(Channel.VK, str(9000 + n)), Text(f"Новинка {n}"),
                                                  key=f"b{n}") for n in range(args.broadcast)))
            rate, after = args.broadcast / (time.perf_counter() - started), fake_stats(fake)
            assert after["messages"] - before["messages"] == args.broadcast
            errors = after["too_many"] - before["too_many"]
            print(f"\nbroadcast of {args.broadcast} to {args.broadcast} peers, FakeVK limit(20), "
                  f"RateLimiter(per_second={1 / messenger.limiter.interval:g}): {rate:.1f} messages/s = "
                  f"{rate / 20:.1%} "
                  f"of 20/s, error 6 answers: {errors}; {'met' if rate >= 19 and errors == 0 else 'MISSED'} "
                  "(>= 95% of 20/s, no error 6)")
        await bare_api.http_client.close()
        await channel.stop()
    finally:
        await db.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def fake_stats(fake) -> dict:
    fake.send("stats")
    return fake.recv()


def machine() -> list[str]:
    from importlib.metadata import version
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return [f"platform   {platform.platform()}", f"cpu        {cpu} x {os.cpu_count()}",
            f"python     {platform.python_implementation()} {platform.python_version()}, "
            f"vkbottle {version('vkbottle')}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="events a round (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--broadcast", type=int, default=100, help="messages in the broadcast, 0 to skip")
    parser.add_argument("--year", action="store_true", help="the events on a year of data (bench/year.py)")
    args = parser.parse_args()
    print("\n".join(machine()) + "\ncommand    python bench/vk.py " + " ".join(sys.argv[1:]) + "\n")
    ctx = multiprocessing.get_context("spawn")
    fake, child = ctx.Pipe()
    process = ctx.Process(target=serve_fake, args=(child,), daemon=True)
    process.start()
    try:
        if not fake.poll(60):
            raise RuntimeError("the fake VK did not start")
        api_url = fake.recv()
        with tempfile.TemporaryDirectory(prefix="vitrina-bench-vk-") as folder:
            asyncio.run(run(args, Path(folder), fake, process.pid, api_url))
    finally:
        fake.send("stop")
        process.join(30)


if __name__ == "__main__":
    main()
