"""VK benchmark: community events/s through the whole bot against a bare vkbottle bot, and a broadcast.

    python bench/vk.py [--events 2000] [--concurrency 16] [--users 50] [--rounds 3] [--broadcast 100]

Events/s. The full stack is a ``VkChannel`` as ``vitrina run`` wires it, fed with
``channel.handle_event(event)`` (as its long poll and Callback API do): the ``event_id`` de-duplication
``claim`` (a write to SQLite), the real ``Conversation`` and ``Engine`` on a fresh temporary SQLite file
seeded as ``tests/shop_fixtures.seed`` does, and the ``VkMessenger`` sending each reply with
``messages.send`` (its limiter kept, with its pacing lifted to 10^6/s: pacing is what the broadcast
measures). The baseline, in the same run, is a bare vkbottle ``Bot`` whose labeler has one handler for
messages (``message.answer(message.text)``: one ``messages.send``) and one for callback presses
(``send_empty_answer`` and ``send_message``, the two calls the full stack makes), fed with
``bot.router.route(event, bot.api)``. Both get the same events, built before the clock starts the way
``tests/fakes/fake_vk.py`` builds them: ``message_new`` "/help" and "/orders" (each customer has one
order), ``message_event`` presses of "menu" and "points", from ``--users`` users, ``--concurrency`` at a
time. Rounds alternate baseline and full stack; the median is shown.

Both send over real HTTP on loopback to one ``FakeVK`` (``tests/fakes``), which runs in a child process
(multiprocessing, spawn) so that its work is not done on the measured event loop; it counts what
arrived, and the run checks that every event was answered once and a redelivered one not at all.

Broadcast: a ``VkMessenger`` with its default limiter sends ``--broadcast`` messages to as many peers at
once, against the same fake with ``limit(20)`` (error 6 beyond 20 calls in any second).
"""
from __future__ import annotations

import argparse
import asyncio
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


def message_event(n: int, uid: int, action: str) -> dict:
    return {"group_id": GROUP, "type": "message_event", "event_id": secrets.token_hex(20), "v": "5.199",
            "object": {"user_id": uid, "peer_id": uid, "event_id": secrets.token_hex(6), "payload": {"a": action},
                       "conversation_message_id": n}}


def make_events(first: int, count: int, users: int) -> list[dict]:
    out = []
    for n in range(first, first + count):
        uid, kind = 1000 + n % users, (n // users) % 4
        out.append(message_new(n, uid, ("/help", "/orders")[kind]) if kind < 2
                   else message_event(n, uid, ("menu", "points")[kind - 2]))
    return out


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


def bare_bot(api):
    from vkbottle import GroupEventType
    from vkbottle.bot import Bot, Message, MessageEvent

    bot = Bot(api=api)

    @bot.on.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text)

    @bot.on.raw_event(GroupEventType.MESSAGE_EVENT, dataclass=MessageEvent)
    async def press(event: MessageEvent) -> None:
        await event.send_empty_answer()
        await event.send_message(json.dumps(event.payload))

    router = bot.router  # the property builds the router from the labeler each time it is read
    return lambda event: router.route(event, bot.api)


async def run(args: argparse.Namespace, folder: Path, fake, fake_pid: int, api_url: str) -> None:
    from shop_fixtures import OWNER, FakeClock, seed
    from vkbottle import API

    from adapters.ratelimit import RateLimiter
    from adapters.vk import VkChannel, VkMessenger
    from bot.conversation import Conversation
    from journey.channels import Channel, CustomerRef, Text
    from journey.engine import Engine
    from journey.limits import ShopLimits
    from journey.model import CartLine
    from storage.sqlite import SqliteDatabase

    db = await SqliteDatabase(folder / "shop.db").connect()
    engine = Engine(db.uow, owners=[OWNER], clock=FakeClock(), reader=db.reading, limits=ShopLimits.off())
    await engine.start()
    await seed(engine)
    for n in range(args.users):  # one past order each, for /orders to list
        await engine.place_order(CustomerRef(Channel.VK, str(1000 + n)), [CartLine("espresso", 1)], "center")
    conversation = Conversation(engine, public_url="https://coffee.example")
    channel = VkChannel(TOKEN, GROUP, handle=conversation.handle, api_base=api_url, app_id=51234,
                        claim=lambda event_id: engine.claim_update(Channel.VK, event_id))
    channel.messenger.limiter = RateLimiter(per_second=1e6, chat_interval=1e-6)
    bare_api = API(TOKEN)
    stacks = {"bare vkbottle Bot": bare_bot(bare_api), "full stack": channel.handle_event}
    results: dict[str, list[tuple[float, list[float], float, float]]] = {name: [] for name in stacks}
    first = 1
    for round_ in range(args.rounds + 1):  # round 0 warms up
        count = min(200, args.events) if round_ == 0 else args.events
        events = make_events(first, count, args.users)
        first += count
        for name, handle in stacks.items():
            before, cpu0 = fake_stats(fake), (time.process_time(), cpu_seconds(fake_pid))
            elapsed, latencies = await feed(handle, [dict(e) for e in events], args.concurrency)
            after, cpu = fake_stats(fake), (time.process_time() - cpu0[0], cpu_seconds(fake_pid) - cpu0[1])
            presses = sum(e["type"] == "message_event" for e in events)
            assert (after["messages"] - before["messages"], after["answers"] - before["answers"]) == (count, presses), \
                (name, before, after, count, presses)
            if round_:
                results[name].append((elapsed, latencies, cpu[0] / count, cpu[1] / elapsed))
    before = fake_stats(fake)
    await channel.handle_event(events[0])  # redelivered: skipped
    assert fake_stats(fake) == before, "a redelivered event was answered again"

    print(f"{args.events} events a round, {args.rounds} rounds, {args.concurrency} at a time, {args.users} users; "
          "mix: /help, /orders, press menu, press points")
    print(f"{'':<22}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'bot CPU µs':>11}{'fake busy':>10}"
          "   (each round: events/s)")
    rates, cpus = {}, {}
    for name, runs in results.items():
        elapsed, latencies, cpus[name], busy = sorted(runs)[len(runs) // 2]
        rates[name] = args.events / elapsed
        print(f"{name:<22}{rates[name]:10.0f}{latencies[len(latencies) // 2] * 1e3:9.2f}"
              f"{latencies[int(len(latencies) * .99)] * 1e3:9.2f}{cpus[name] * 1e6:11.0f}{busy:10.0%}   "
              + "/".join(f"{args.events / r[0]:.0f}" for r in runs))
    ratio, full, bare = rates["full stack"] / rates["bare vkbottle Bot"], cpus["full stack"], cpus["bare vkbottle Bot"]
    print("(bot CPU µs: this process's CPU time per event, all threads; fake busy: the FakeVK process's CPU / wall)")
    print(f"full stack / bare vkbottle = {ratio:.0%} by events/s, {bare / full:.0%} by the bot's CPU per event; "
          f"target (>= 30%): {'met' if min(ratio, bare / full) >= .3 else 'MISSED'}")

    if args.broadcast:
        fake.send(("limit", 20))
        messenger = VkMessenger(bare_api)
        before, started = fake_stats(fake), time.perf_counter()
        await asyncio.gather(*(messenger.send(CustomerRef(Channel.VK, str(9000 + n)), Text(f"Новинка {n}"), key=f"b{n}")
                               for n in range(args.broadcast)))
        rate, after = args.broadcast / (time.perf_counter() - started), fake_stats(fake)
        assert after["messages"] - before["messages"] == args.broadcast
        errors = after["too_many"] - before["too_many"]
        print(f"\nbroadcast of {args.broadcast} to {args.broadcast} peers, FakeVK limit(20), "
              f"RateLimiter(per_second={1 / messenger.limiter.interval:g}): {rate:.1f} messages/s = {rate / 20:.1%} "
              f"of 20/s, error 6 answers: {errors}; {'met' if rate >= 19 and errors == 0 else 'MISSED'} "
              "(>= 95% of 20/s, no error 6)")
    await bare_api.http_client.close()
    await channel.stop()
    await db.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def fake_stats(fake) -> dict:
    fake.send("stats")
    return fake.recv()


def machine() -> list[str]:
    import vkbottle
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return [f"platform   {platform.platform()}", f"cpu        {cpu} x {os.cpu_count()}",
            f"python     {platform.python_implementation()} {platform.python_version()}, "
            f"vkbottle {getattr(vkbottle, '__version__', '?')}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="events a round (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--broadcast", type=int, default=100, help="messages in the broadcast, 0 to skip")
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
