"""The ``vitrina`` command: the composition root that builds and wires everything.

This is the one module that imports ``adapters``, ``storage`` and ``webapp``. Every command opens the
database first, which applies pending migrations.
"""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from journey.audit import CLI
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.errors import DomainError
from journey.menu import MenuError

from . import channels, outbox_commands, payments
from .failures import CommandError, ListenError, not_a_database, path_problem
from .qr_codes import QrError
from .settings import Settings, SettingsError, load_settings

DEMO_STAFF = CustomerRef(Channel.WEB, "staff")


@asynccontextmanager
async def open_engine(settings: Settings) -> AsyncIterator[Engine]:
    from adapters.chart import PillowCharts
    from adapters.images import PillowPhotos
    from adapters.story import PillowStories  # sharing

    db = await open_database(settings)
    gateways, stars = {}, None
    try:
        gateways, stars = payments.providers(settings), payments.stars(settings)
        owners = list(settings.owners) + ([DEMO_STAFF] if channels.is_demo(settings) else [])
        secret = settings.secret_key.get_secret_value().encode() if settings.secret_key else b""
        engine = Engine(db.uow, secret=secret, owners=owners, reader=db.reading, photos=PillowPhotos(),
                        charts=PillowCharts(), providers=gateways, stars=stars,
                        stories=PillowStories(),  # sharing: the story picture
                        limits=settings.limits.shop_limits())  # abuse limits
        engine.database = db  # type: ignore[attr-defined]  # for db backup
        await engine.start()
        yield engine
    finally:
        await payments.close(*gateways.values(), stars)
        await db.close()


async def open_database(settings: Settings) -> Any:
    """The database the settings name, connected and migrated: SQLite by default, PostgreSQL for several
    instances. A database that cannot be opened ends the command with one line naming the setting."""
    path = settings.sqlite_path()
    if path is None:
        return await open_postgres(settings.database_url)
    from storage.sqlite import SqliteDatabase

    problem = not_a_database(path) if path != Path(":memory:") else None
    if problem:
        raise CommandError(f"VITRINA_DATABASE_URL: {problem}")
    db = SqliteDatabase(path, synchronous=settings.sqlite_synchronous)
    try:
        await db.connect()
    except (OSError, sqlite3.Error) as e:
        await db.close()
        raise CommandError(f"VITRINA_DATABASE_URL: cannot open the database: {path_problem(path, e)}") from None
    return db


async def open_postgres(url: str) -> Any:
    import asyncpg

    from storage.postgres import PostgresDatabase

    db = PostgresDatabase(url)
    try:
        await db.connect()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        raise CommandError(f"VITRINA_DATABASE_URL: cannot open the PostgreSQL database: {postgres_problem(e)}"
                           ) from None
    return db


def postgres_problem(e: Exception) -> str:
    """What went wrong connecting, without the password the URL may carry."""
    if isinstance(e, ConnectionRefusedError | OSError) and not hasattr(e, "sqlstate"):
        return f"the server does not answer ({e.strerror or e})"
    return str(e).splitlines()[0] or type(e).__name__


# --- commands ---------------------------------------------------------------------------------------

async def cmd_db_migrate(engine: Engine, args: argparse.Namespace) -> None:
    version = await engine.database.schema_version()  # type: ignore[attr-defined]
    print(f"database is at schema version {version}")


async def cmd_db_backup(engine: Engine, args: argparse.Namespace) -> None:
    if not hasattr(engine.database, "backup"):  # type: ignore[attr-defined]
        raise CommandError("db backup copies a SQLite file; back PostgreSQL up with pg_dump (docs/DEPLOY.md)")
    try:
        await engine.database.backup(args.file)  # type: ignore[attr-defined]
    except (OSError, sqlite3.Error) as e:
        raise CommandError(f"db backup {args.file}: {path_problem(Path(args.file), e)}") from None
    print(f"backup written to {args.file}")


async def cmd_db_copy(args: argparse.Namespace) -> None:
    from .db_copy import copy_shop

    await copy_shop(args.source, args.target)


async def cmd_menu_import(engine: Engine, args: argparse.Namespace) -> None:
    from .menu_file import read_menu, unlisted_photo_hosts

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    menu = read_menu(path)
    count = await engine.import_menu(menu)
    print(f"imported {count} items from {path}")
    for warning in unlisted_photo_hosts(menu, args.settings.webapp.photo_hosts):  # the CSP would block them
        print(warning, file=sys.stderr)


async def cmd_menu_export(engine: Engine, args: argparse.Namespace) -> None:
    from .menu_file import write_menu

    menu = await engine.export_menu()
    try:
        write_menu(Path(args.file), menu)
    except ValueError as e:  # a name the file format cannot carry, e.g. option ids not made from names
        raise CommandError(f"the menu cannot be written as a file: {e}") from None
    except OSError as e:
        raise CommandError(f"menu export {args.file}: {path_problem(Path(args.file), e)}") from None
    except MenuError as e:  # the file's name says no format (only .csv, .yaml, .yml do)
        raise CommandError(f"menu export {args.file}: {'; '.join(p.message for p in e.problems)}") from None
    print(f"exported {len(menu.entries)} items to {args.file}")


def _ref(text: str) -> CustomerRef:
    try:
        return CustomerRef.parse(text)
    except ValueError as e:
        raise CommandError(str(e)) from None


async def cmd_staff_add(engine: Engine, args: argparse.Namespace) -> None:
    ref = _ref(args.account)
    await engine.add_staff(ref, args.point, actor=CLI)
    print(f"{ref.key} is staff at {'every point' if args.point == '*' else args.point}")


async def cmd_staff_remove(engine: Engine, args: argparse.Namespace) -> None:
    ref = _ref(args.account)
    removed = await engine.remove_staff(ref, args.point, actor=CLI)
    if not removed:
        raise CommandError(f"{ref.key} is not staff{'' if args.point is None else ' at ' + args.point}")
    print(f"{ref.key} removed from staff ({removed})")


async def cmd_staff_list(engine: Engine, args: argparse.Namespace) -> None:
    rows = await engine.list_staff()
    for ref, point in rows:
        print(f"{ref.key}\t{point}")
    for owner in sorted(o.key for o in engine.owners):
        print(f"{owner}\t* (owner)")
    if not rows and not engine.owners:
        print("no staff yet: vitrina staff add telegram:<id> --point <point>")


async def cmd_demo_seed(engine: Engine, args: argparse.Namespace) -> None:
    from .seed import seed_demo

    print(await seed_demo(engine))


async def cmd_qr(engine: Engine, args: argparse.Namespace) -> None:
    from adapters.qr import QrcodeRenderer

    from .qr_codes import qr_param
    settings: Settings = args.settings
    param, caption = qr_param(args.kind, args.value, args.table, args.caption)
    if args.kind == "gift":  # gifts: a real gift's card, or a one-line refusal
        from .gift_chat import card_caption

        described = await card_caption(engine, args.value)
        caption = args.caption if args.caption is not None else described
    points = {p.id for p in (await engine.menu()).points}
    if args.kind in ("counter", "table") and param[1:].split("_")[0] not in points:
        raise CommandError(f"unknown pickup point {args.value!r}: see 'vitrina menu export'")
    url = f"{settings.webapp.base_url.rstrip('/')}/go/{param}"
    out = Path(args.out or f"qr-{param}.{args.format}")
    renderer = QrcodeRenderer()
    data = renderer.svg(url, caption) if out.suffix == ".svg" else renderer.png(url, caption)
    try:
        out.write_bytes(data)
    except OSError as e:
        raise CommandError(f"qr --out {out}: {path_problem(out, e)}") from None
    print(f"{out}: {url}")


async def cmd_run(engine: Engine, args: argparse.Namespace) -> None:
    from .runner import run

    await run(engine, args.settings, only=args.only)


# --- the parser -------------------------------------------------------------------------------------

Command = Callable[[Engine, argparse.Namespace], Awaitable[None]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vitrina", description="Sell through Telegram and VK mini-apps.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(parent, name: str, fn: Command, help: str) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(fn=fn)
        return p

    run = add(sub, "run", cmd_run, "serve the Mini App and the configured bots (the demo when no token is set)")
    run.add_argument("--only", choices=["webapp"], default=None,
                     help="webapp: serve the Mini App, its pages and the payment webhooks alone, for instances "
                          "beside the ones that receive the chats and run the background jobs")

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="sub", required=True, metavar="SUB")
    add(db, "migrate", cmd_db_migrate, "apply pending migrations")
    add(db, "backup", cmd_db_backup, "write an online backup, safe while the shop runs").add_argument("file")
    p = db.add_parser("copy", help="copy a SQLite shop into an empty PostgreSQL database, safe while the shop runs",
                      description="copy a SQLite shop into an empty PostgreSQL database, safe while the shop runs; "
                                  "both are migrated first, and the row counts are compared before committing")
    p.add_argument("source", help="the shop's SQLite file, sqlite:///shop.db")
    p.add_argument("target", help="an empty PostgreSQL database, postgresql://user@host:5432/database")
    p.set_defaults(alone=cmd_db_copy)  # opens the two databases it names, not the settings' one

    menu = sub.add_parser("menu", help="the menu file (CSV or YAML)").add_subparsers(dest="sub", required=True,
                                                                                      metavar="SUB")
    add(menu, "import", cmd_menu_import, "replace the menu from a file, all or nothing").add_argument("file")
    add(menu, "export", cmd_menu_export, "write the menu to a file").add_argument("file")

    staff = sub.add_parser("staff", help="who works at the counter").add_subparsers(dest="sub", required=True,
                                                                                     metavar="SUB")
    p = add(staff, "add", cmd_staff_add, "make an account staff at a pickup point")
    p.add_argument("account", help="channel:id, e.g. telegram:123456")
    p.add_argument("--point", default="*", help="pickup point id (default: every point)")
    p = add(staff, "remove", cmd_staff_remove, "remove an account from staff")
    p.add_argument("account")
    p.add_argument("--point", default=None, help="only at this point (default: everywhere)")
    add(staff, "list", cmd_staff_list, "list staff and owners")

    outbox_commands.add_commands(sub)
    # the owner's command modules, each adds its own subcommands (``add_commands(sub)``) and raises
    # ``failures.CommandError`` for a refusal
    from . import broadcast_commands  # the command only: nothing of it runs while building the parser
    broadcast_commands.add_commands(sub)
    from . import shop_commands  # vitrina shop, point, promo
    shop_commands.add_commands(sub)
    from . import stats_commands  # vitrina stats [--days N] [--csv DIR]
    stats_commands.add_commands(sub)
    payments.add_commands(sub)  # vitrina payments reconcile | refund

    demo = sub.add_parser("demo", help="the demo coffee shop").add_subparsers(dest="sub", required=True, metavar="SUB")
    add(demo, "seed", cmd_demo_seed, "fill an empty database with the demo coffee shop (once)")

    p = add(sub, "qr", cmd_qr, "print a QR code that opens the shop in Telegram, VK or the browser")
    p.add_argument("kind", choices=["counter", "table", "referral", "source", "gift"])
    p.add_argument("value", help="point id (counter, table), referral or gift code, or source name")
    p.add_argument("table", nargs="?", help="table number (for kind 'table')")
    p.add_argument("--caption", default=None, help="text under the code (default: a fitting Russian caption)")
    p.add_argument("--format", choices=["png", "svg"], default="png")
    p.add_argument("--out", default=None, help="file to write (default: qr-<param>.<format>)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "alone", None):  # db copy: needs no settings and no engine
            asyncio.run(args.alone(args))
            return 0
        settings = load_settings()
        for warning in settings.warnings():
            print(f"warning: {warning}", file=sys.stderr)
        args.settings = settings

        async def go() -> None:
            async with open_engine(settings) as engine:
                await args.fn(engine, args)

        asyncio.run(go())
    except SettingsError as e:
        print(f"vitrina: setting {e}", file=sys.stderr)
        return 2
    except MenuError as e:
        print(f"vitrina: the menu file was not imported, nothing changed:\n{e}", file=sys.stderr)
        return 1
    except DomainError as e:
        print(f"vitrina: {e.message('en')} ({e.code.value}{': ' + e.detail if e.detail else ''})", file=sys.stderr)
        return 1
    except (CommandError, QrError, channels.ChannelStartError, outbox_commands.OutboxCommandError, ListenError) as e:
        print(f"vitrina: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as e:  # a file or folder this command needs; the commands above name theirs
        print(f"vitrina: {f'{e.filename}: ' if e.filename else ''}{e.strerror or e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
