"""``vitrina outbox failed`` and ``vitrina outbox retry ID``: notifications the relay gave up on."""
from __future__ import annotations

import argparse

from journey.engine import Engine


class OutboxCommandError(Exception):
    """A refusal worth one line on stderr and exit status 1."""


def _summary(data: dict) -> str:
    """What the event was about, in a few words: its order and short code when it has them."""
    parts = [f"{k}={data[k]}" for k in ("short_code", "order_id", "customer_id") if data.get(k)]
    return " ".join(parts[:2])


async def cmd_outbox_failed(engine: Engine, args: argparse.Namespace) -> None:
    dead = await engine.dead_letters()
    for f in dead:
        event = f.event
        kind = event.type.value if event else "?"
        at = f.failed_at.isoformat(timespec="seconds") if f.failed_at else ""
        about = _summary(event.data) if event else ""
        print(f"{f.event_id}\t{kind}\t{f.subscriber}\t{f.attempts} attempts\t{at}\t{about}\t{f.error}")
    waiting = await engine.waiting_deliveries()
    if not dead:
        print("no failed deliveries")
    if waiting:
        print(f"{len(waiting)} more waiting for another attempt")
    elif dead:
        print(f"{len(dead)} given up: `vitrina outbox retry ID` tries one again while `vitrina run` is running")


async def cmd_outbox_retry(engine: Engine, args: argparse.Namespace) -> None:
    count = await engine.retry_dead(args.id)
    if not count:
        raise OutboxCommandError(f"event {args.id} is not among the failed deliveries (vitrina outbox failed)")
    print(f"event {args.id} will be tried again by `vitrina run` ({count} subscriber{'s' if count > 1 else ''})")


def add_commands(sub: argparse._SubParsersAction) -> None:
    outbox = sub.add_parser("outbox", help="notifications that could not be delivered").add_subparsers(
        dest="sub", required=True, metavar="SUB")
    p = outbox.add_parser("failed", help="list notifications given up after every attempt",
                          description="list notifications given up after every attempt")
    p.set_defaults(fn=cmd_outbox_failed)
    p = outbox.add_parser("retry", help="try a failed notification again",
                          description="try a failed notification again")
    p.add_argument("id", type=int, help="the event id from `vitrina outbox failed`")
    p.set_defaults(fn=cmd_outbox_retry)
