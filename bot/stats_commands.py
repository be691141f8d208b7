"""``vitrina stats [--days N]`` prints the owner's numbers; ``vitrina stats --csv DIR`` writes every order and
every customer to ``DIR/orders.csv`` and ``DIR/customers.csv``.

Both go through the engine's use cases as ``journey.audit.CLI``. The files are UTF-8 with a byte order mark
so Excel opens Cyrillic names as they are; times are the shop's local time, money in rubles ("250.50").
A directory that cannot be written is one line on stderr (``CommandError``), and no file is left half done:
each is written beside its name and moved into place when complete.
"""
from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path
from typing import TextIO

from journey.audit import CLI
from journey.engine import Engine
from journey.money import format_rubles
from journey.stats import DEFAULT_DAYS, MAX_DAYS, channel_of

from .failures import CommandError
from .stats_chat import summary

ORDER_COLUMNS = ("id", "created", "channel", "source", "point", "status", "total", "items")
CUSTOMER_COLUMNS = ("id", "first_seen", "source", "channels", "orders", "spent")


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"days are 1 to {MAX_DAYS}, got {days}")
    return days


def _target(directory: str) -> Path:
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise CommandError(f"--csv {directory}: not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"--csv {directory}: cannot create the directory: {e.strerror or e}") from None
    if not os.access(path, os.W_OK):
        raise CommandError(f"--csv {directory}: the directory is not writable")
    return path


def _open(path: Path) -> TextIO:
    try:
        return path.open("w", encoding="utf-8-sig", newline="")
    except OSError as e:
        raise CommandError(f"--csv {path}: cannot write: {e.strerror or e}") from None


async def _export(engine: Engine, directory: Path, days: int | None) -> tuple[int, int]:
    zone = (await engine.shop_settings(CLI)).zone
    orders = customers = 0
    part = directory / "orders.csv.part"
    with _open(part) as f:
        out = csv.writer(f)
        out.writerow(ORDER_COLUMNS)
        async for o in engine.export_orders(CLI, days):
            items = "; ".join(f"{line.name}{' (' + ', '.join(line.options) + ')' if line.options else ''}"
                              f" x{line.quantity}" for line in o.lines)
            out.writerow((o.id, o.created_at.astimezone(zone).isoformat(timespec="seconds"), channel_of(o),
                          o.source, o.point_id, o.status.value, format_rubles(o.total.amount), items))
            orders += 1
    part.replace(directory / "orders.csv")
    part = directory / "customers.csv.part"
    with _open(part) as f:
        out = csv.writer(f)
        out.writerow(CUSTOMER_COLUMNS)
        async for c in engine.export_customers(CLI):
            out.writerow((c.id, c.first_seen.astimezone(zone).isoformat(timespec="seconds"), c.source,
                          " ".join(c.channels), c.orders, format_rubles(c.spent)))
            customers += 1
    part.replace(directory / "customers.csv")
    return orders, customers


async def cmd_stats(engine: Engine, args: argparse.Namespace) -> None:
    if args.csv is not None:
        directory = _target(args.csv)
        orders, customers = await _export(engine, directory, args.days)
        print(f"{orders} orders -> {directory / 'orders.csv'}, {customers} customers -> {directory / 'customers.csv'}")
        return
    print(summary("en", await engine.stats(CLI, args.days or DEFAULT_DAYS)))


def add_commands(sub: argparse._SubParsersAction) -> None:
    text = "the funnel by channel and source, repeat customers, the average check, top items"
    p = sub.add_parser("stats", help=text, description=text)
    p.add_argument("--days", type=_days, default=None,
                   help=f"the last N days in the shop's time zone, 1 to {MAX_DAYS} (default {DEFAULT_DAYS}; "
                        "with --csv: every order)")
    p.add_argument("--csv", metavar="DIR", default=None,
                   help="write DIR/orders.csv and DIR/customers.csv (UTF-8 with BOM, for Excel)")
    p.set_defaults(fn=cmd_stats)
