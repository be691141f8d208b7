"""``vitrina broadcast "text"`` (or ``--file``), ``vitrina broadcast status``, ``vitrina broadcast stop``.

The command sends with the same claim-based sender as ``vitrina run`` (``bot/broadcaster.py``), through
the channels' own messengers built from the settings (no polling started), so it is safe while
``vitrina run`` sends the same broadcast. Without a text it carries on with the broadcast being sent.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from journey.audit import CLI
from journey.broadcasts import BroadcastStatus, Progress
from journey.channels import Channel, ChannelError
from journey.engine import Engine
from journey.ports import Messenger

from . import channels
from .broadcaster import Broadcaster
from .failures import CommandError
from .settings import Settings

WIDTH = 30  # characters of the progress bar


class ProgressBar:
    """``[#####          ] 45/100`` on one line, redrawn in place (``\\r``)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last = ""

    def draw(self, done: int, total: int) -> None:
        filled = WIDTH * done // total if total else WIDTH
        line = f"\r[{'#' * filled}{' ' * (WIDTH - filled)}] {done}/{total}"
        if line != self.last:
            self.out.write(line)
            self.out.flush()
            self.last = line

    def close(self) -> None:
        if self.last:
            self.out.write("\n")
            self.out.flush()


def _summary(progress: Progress) -> str:
    b = progress.broadcast
    parts = [f"{progress.sent} sent", f"{progress.failed} not delivered"]
    if progress.left:
        parts.append(f"{progress.left} {'not sent' if b.status is BroadcastStatus.STOPPED else 'left'}")
    if progress.unconfirmed:
        parts.append(f"{progress.unconfirmed} unconfirmed")
    return f"broadcast {b.id} ({b.status.value}): {', '.join(parts)} of {progress.total}"


def _counts(per_channel: dict[str, int]) -> str:
    return ", ".join(f"{channel} {count}" for channel, count in per_channel.items())


def _text(args: argparse.Namespace) -> str | None:
    if args.file and args.text:
        raise CommandError("give the text or --file, not both")
    if not args.file:
        return args.text
    path = Path(args.file)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not a UTF-8 text file") from None
    except OSError as e:
        raise CommandError(f"{path}: {e.strerror or e}") from None


@contextlib.asynccontextmanager
async def messengers_of(settings: Settings) -> AsyncIterator[dict[Channel, Messenger]]:
    """The configured channels' messengers, credentials checked, nothing received; closed on the way out."""
    async def no_conversation(inbound: object) -> list:
        return []

    async def no_updates(channel: Channel, update_id: str) -> bool:
        return False

    wiring = channels.Wiring(no_conversation, no_updates, settings.webapp.base_url)
    found: dict[Channel, Messenger] = {}
    async with contextlib.AsyncExitStack() as resources:
        for kind, adapter in channels.build(settings, wiring):
            resources.push_async_callback(adapter.stop)
            if adapter.messenger is None:  # a channel configured for its Mini App alone
                continue
            try:
                await adapter.start()
            except ChannelError as e:
                raise channels.start_error(kind, e) from None
            found[adapter.channel] = adapter.messenger
        if not found:
            raise CommandError("no channel to send through: set VITRINA_TELEGRAM__TOKEN, or VITRINA_VK__TOKEN with "
                               "VITRINA_VK__GROUP_ID")
        yield found


def _ask(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("y", "yes", "д", "да")
    except EOFError:
        return False


async def cmd_broadcast(engine: Engine, args: argparse.Namespace) -> None:
    if not args.file and args.text in ("status", "stop"):
        await (cmd_status if args.text == "status" else cmd_stop)(engine, args)
        return
    text = _text(args)
    async with messengers_of(args.settings) as messengers:
        if text is None:  # carry on with the one being sent
            progress = await engine.broadcast_progress(CLI)
            if progress is None or progress.broadcast.status is not BroadcastStatus.SENDING:
                raise CommandError('no broadcast is being sent: give its text, vitrina broadcast "..." or --file FILE')
            print(f"carrying on with broadcast {progress.broadcast.id}")
        else:
            preview = await engine.draft_broadcast(CLI, text, list(messengers))
            print(f"recipients: {preview.total} ({_counts(preview.per_channel)})", flush=True)
            if not preview.total:
                await engine.cancel_broadcast(CLI, preview.broadcast.id)
                raise CommandError("nobody to send it to: no customer who agreed to news can be reached")
            if not args.yes and not _ask(f"send it to {preview.total}? [y/N] "):
                await engine.cancel_broadcast(CLI, preview.broadcast.id)
                raise CommandError("not sent (answer y to send, or add --yes)")
            progress = await engine.confirm_broadcast(CLI, preview.broadcast.id)
        await _send(engine, messengers, progress.broadcast.id)


async def _send(engine: Engine, messengers: dict[Channel, Messenger], broadcast_id: int) -> None:
    """Send until nothing this command can send is waiting, drawing the bar. Rows in another sender's hands,
    or in a channel this command has no token for, are left to ``vitrina run``."""
    bar = ProgressBar(sys.stderr)
    sender = Broadcaster(engine, messengers, batch=10,
                         on_progress=lambda p: bar.draw(p.processed, p.total))
    try:
        while True:
            await sender.send(broadcast_id)
            progress = await engine.finish_broadcast(broadcast_id)
            bar.draw(progress.processed, progress.total)
            if progress.broadcast.status is not BroadcastStatus.SENDING or not progress.pending:
                break
            now = datetime.now(UTC)
            if progress.next_at is not None and progress.next_at > now:  # a row waits after a failure
                await asyncio.sleep(min((progress.next_at - now).total_seconds(), 5.0))
            elif not await engine.due_broadcast_recipients(broadcast_id, list(messengers), 1):
                break  # what is waiting is in a channel this command cannot send through
    finally:
        bar.close()
    print(_summary(progress))
    if progress.broadcast.status is BroadcastStatus.SENDING:
        print(f"{progress.left} left to `vitrina run` (in another sender's hands, or in a channel this command "
              "has no token for): see `vitrina broadcast status`")


async def cmd_status(engine: Engine, args: argparse.Namespace) -> None:
    progress = await engine.broadcast_progress(CLI)
    print(_summary(progress) if progress else "no broadcasts yet")


async def cmd_stop(engine: Engine, args: argparse.Namespace) -> None:
    progress = await engine.stop_broadcast(CLI)
    print(_summary(progress))


def add_commands(sub: argparse._SubParsersAction) -> None:
    about = "send a message to every customer who agreed to news, in every channel"
    p = sub.add_parser("broadcast", help=about, description=about + '. `vitrina broadcast status` shows how the '
                       'last one goes, `vitrina broadcast stop` stops the one being sent; without a text it carries '
                       'on with the one being sent.')
    p.add_argument("text", nargs="?", help='the message (or "status", or "stop")')
    p.add_argument("--file", help="read the message from this UTF-8 file")
    p.add_argument("--yes", action="store_true", help="send without asking")
    p.set_defaults(fn=cmd_broadcast)
