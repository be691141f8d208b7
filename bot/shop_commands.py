"""``vitrina shop``, ``vitrina point`` and ``vitrina promo``: the owner's settings from the command line.

They go through the same use cases as ``/shop``, ``/point`` and ``/promo`` in the chat, acting as
``journey.audit.CLI``: the same checks, the same audit log. A refusal is the engine's English message on
one line (exit status 1); a change ends with one line saying what it is now.
"""
from __future__ import annotations

import argparse

from journey.audit import CLI
from journey.engine import Engine
from journey.promo_codes import PromoLine, promo_terms
from journey.setup import SETTINGS, ShopSettings, setting


def _point_line(view: ShopSettings, point_id: str) -> str:
    p = next(p for p in view.points if p.id == point_id)
    return f"{p.id}\t{p.name}\t{p.address or '-'}\t{p.hours.format()}\tprep {p.prep_minutes} min"


def _promo_line(line: PromoLine, view: ShopSettings) -> str:
    p, last_day = line.promo, line.last_day(view.zone)
    until = f"\tuntil {last_day.isoformat()} ({view.rules.timezone})" if last_day else ""
    uses = f"{p.used}/{p.max_uses}" if p.max_uses is not None else f"{p.used}"
    return f"{p.code}\t{line.discount}\tused {uses}\t{line.status}{until}"


async def cmd_shop_show(engine: Engine, args: argparse.Namespace) -> None:
    view = await engine.shop_settings(CLI)
    for item in SETTINGS:
        print(f"{item.key}\t{view.shown(item)}")


async def cmd_shop_set(engine: Engine, args: argparse.Namespace) -> None:
    item = setting(args.key)
    view = await engine.change_shop(CLI, item.key, " ".join(args.value))
    print(f"shop {item.key} is now {view.shown(item) or '(empty)'}")


async def cmd_point_list(engine: Engine, args: argparse.Namespace) -> None:
    view = await engine.shop_settings(CLI)
    for p in view.points:
        print(_point_line(view, p.id))
    if not view.points:
        print('no pickup points yet: vitrina point add center "Coffee on Pushkina" --hours "mon-sun 08:00-22:00"')


async def cmd_point_add(engine: Engine, args: argparse.Namespace) -> None:
    point = await engine.add_point(CLI, args.id, " ".join(args.name), args.address, args.hours, args.prep)
    print(f"pickup point added: {_point_line(await engine.shop_settings(CLI), point.id)}")


async def cmd_point_set(engine: Engine, args: argparse.Namespace) -> None:
    point = await engine.change_point(CLI, args.id, args.key, " ".join(args.value))
    print(f"pickup point changed: {_point_line(await engine.shop_settings(CLI), point.id)}")


async def cmd_promo_list(engine: Engine, args: argparse.Namespace) -> None:
    lines = await engine.promos(CLI)
    view = await engine.shop_settings(CLI)
    for line in lines:
        print(_promo_line(line, view))
    if not lines:
        print("no promo codes yet: vitrina promo add SPRING10 10% 100 until 2026-05-31")


async def cmd_promo_add(engine: Engine, args: argparse.Namespace) -> None:
    line = await engine.create_promo(CLI, promo_terms([args.code, args.value, *args.terms]))
    print(f"promo code created: {_promo_line(line, await engine.shop_settings(CLI))}")


async def cmd_promo_end(engine: Engine, args: argparse.Namespace) -> None:
    line = await engine.end_promo(CLI, args.code)
    print(f"promo code ended: {_promo_line(line, await engine.shop_settings(CLI))}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    def add(parent: argparse._SubParsersAction, name: str, fn, help: str) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(fn=fn)
        return p

    keys = ", ".join(s.key for s in SETTINGS)
    shop = sub.add_parser("shop", help="the shop's name, description, time zone and rules").add_subparsers(
        dest="sub", required=True, metavar="SUB")
    add(shop, "show", cmd_shop_show, "print every setting and its value")
    p = add(shop, "set", cmd_shop_set, f"change one setting: {keys}")
    p.add_argument("key", help=keys)
    p.add_argument("value", nargs="+", help="e.g. 'Coffee on Pushkina', Europe/Moscow, 5; referral in rubles")

    point = sub.add_parser("point", help="pickup points").add_subparsers(dest="sub", required=True, metavar="SUB")
    add(point, "list", cmd_point_list, "list the pickup points")
    p = add(point, "add", cmd_point_add, "add a pickup point")
    p.add_argument("id", help="lowercase latin letters and digits, e.g. center (the menu file's stock:<id>)")
    p.add_argument("name", nargs="+", help="the name customers see")
    p.add_argument("--address", default="", help="street and house")
    p.add_argument("--hours", default=None, help="e.g. 'mon-fri 08:00-21:00; sat-sun 10:00-20:00' (default: "
                                                 "every day 08:00-22:00)")
    p.add_argument("--prep", default=None, help="minutes an order takes, 0..240 (default 10)")
    p = add(point, "set", cmd_point_set, "change a pickup point's name, address, hours or prep (minutes)")
    p.add_argument("id")
    p.add_argument("key", help="name, address, hours or prep")
    p.add_argument("value", nargs="+")

    promo = sub.add_parser("promo", help="promo codes").add_subparsers(dest="sub", required=True, metavar="SUB")
    add(promo, "list", cmd_promo_list, "list promo codes with their uses and status")
    p = add(promo, "add", cmd_promo_add,
            "create a promo code: CODE, a discount in percent or rubles, [USES] [until YYYY-MM-DD]")
    p.add_argument("code", help="4..32 latin letters and digits")
    p.add_argument("value", help="10%% (percent off) or 150 (rubles off)")
    p.add_argument("terms", nargs="*", help="how many times in all, and 'until YYYY-MM-DD' (the last day)")
    p = add(promo, "end", cmd_promo_end, "end a promo code now (its history stays)")
    p.add_argument("code")
