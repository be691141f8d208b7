"""``vitrina run``: the Mini App server, the configured channels, the outbox relay, the expiry sweep, the
broadcast sender and the payments' reconcile.

Runs until Ctrl-C (or SIGTERM), then stops everything cleanly. A channel that cannot start (a refused
token, an unreachable API) stops start-up with one line naming the setting, after closing what was opened.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from datetime import timedelta
from typing import Any

from aiohttp import web

from journey.channels import ChannelError
from journey.engine import Engine
from journey.outbox import OutboxRelay
from journey.ports import ChannelAdapter, JobLocks, ProcessLocks, SendBudget

from . import channels, payments, sharing_chat
from .broadcaster import Broadcaster
from .conversation import Conversation
from .failures import ListenError, listen_problem
from .notifications import Notifier
from .settings import Settings

log = logging.getLogger("vitrina")
SWEEP_SECONDS = 30.0
PRUNE_SECONDS = 6 * 3600.0


def once_per(seconds: float) -> float:
    """Several instances: a periodic job's round is skipped when any instance began one less than 90 % of its
    period ago (``JobLocks.hold(every=...)``), so across instances it runs about once per period, and a timer
    that fires a hair early does not make a whole period go by without it."""
    return seconds * 0.9


async def sweep(engine: Engine, stop: asyncio.Event, locks: JobLocks | None = None) -> None:
    """Expire unpaid and uncollected orders now and then, and what ``expire_due`` sweeps with them (groups
    whose window ended, points written off, birthday greetings, gifts); one instance at a time, once a period."""
    locks = locks or ProcessLocks()
    while not stop.is_set():
        try:
            async with locks.hold("expiry", every=once_per(SWEEP_SECONDS)) as held:
                expired = await engine.expire_due() if held else []
            if expired:
                log.info("expired %d orders", len(expired))
        except Exception:
            log.exception("expiry sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)


async def prune(engine: Engine, retention_days: int, stop: asyncio.Event, locks: JobLocks | None = None) -> None:
    """Forget old bookkeeping now and then: delivered outbox events, processed update ids, wrong link codes."""
    locks = locks or ProcessLocks()
    while not stop.is_set():
        try:
            async with locks.hold("prune", every=once_per(PRUNE_SECONDS)) as held:
                pruned = await engine.prune(timedelta(days=retention_days)) if held else None
            if pruned and (pruned.events or pruned.updates or pruned.link_failures):
                log.info("pruned %d outbox events, %d update ids, %d link failures older than %d days",
                         pruned.events, pruned.updates, pruned.link_failures, retention_days)
        except Exception:
            log.exception("pruning failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PRUNE_SECONDS)


def job_locks(engine: Engine) -> JobLocks:
    """The database's job locks (``vitrina run`` opened it: bot/main.py); alone in the process without one."""
    database: Any = getattr(engine, "database", None)
    return database.job_locks() if hasattr(database, "job_locks") else ProcessLocks()


async def share_send_budget(settings: Settings, engine: Engine, adapters: list[ChannelAdapter],
                            resources: contextlib.AsyncExitStack) -> SendBudget | None:
    """Pace each bot's sends in a budget every instance shares: Redis when VITRINA_REDIS_URL is set, else the
    PostgreSQL database; on SQLite (one machine) each process paces its own."""
    from adapters.ratelimit import RateLimiter

    budget: SendBudget | None
    if settings.redis_url:
        from adapters.redis_budget import RedisSendBudget

        redis_budget = RedisSendBudget(settings.redis_url)
        resources.push_async_callback(redis_budget.close)
        budget = redis_budget
    else:
        database: Any = getattr(engine, "database", None)
        budget = database.send_budget() if hasattr(database, "send_budget") else None
    if budget is None:
        return None
    for adapter in adapters:
        limiter = getattr(adapter.messenger, "limiter", None)
        if isinstance(limiter, RateLimiter):
            limiter.share(budget, f"{adapter.channel}:{adapter.describe()}")  # the bot: "telegram:Telegram @shop"
    return budget


async def run(engine: Engine, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set; without one, until Ctrl-C or SIGTERM."""
    from adapters.qr import QrcodeRenderer
    from webapp.app import create_app
    from webapp.config import WebappConfig

    from .seed import seed_demo

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    demo = channels.is_demo(settings)
    if demo:
        print(await seed_demo(engine), flush=True)
    qr = QrcodeRenderer()
    conversation = Conversation(engine, public_url=settings.webapp.base_url)
    notifier = Notifier(engine, qr, public_url=settings.webapp.base_url)  # gifts: links in the chat
    locks = job_locks(engine)  # several instances: each background job runs at one of them at a time
    relay = OutboxRelay(engine.uow, {notifier.name: notifier}, max_attempts=settings.delivery_attempts,
                        locks=locks)
    wiring = channels.Wiring(conversation.handle, engine.claim_update, settings.webapp.base_url,
                             payments.PaymentDesk(engine),
                             cards=sharing_chat.card_maker(engine, settings.webapp.base_url))  # sharing

    async with contextlib.AsyncExitStack() as resources:
        adapters = []
        for kind, adapter in channels.build(settings, wiring):
            resources.push_async_callback(adapter.stop)  # also when another channel fails to start
            try:
                await adapter.start()
            except ChannelError as e:
                raise channels.start_error(kind, e) from None
            adapters.append(adapter)
            if adapter.messenger is not None:
                notifier.messengers[adapter.channel] = adapter.messenger
            notifier.staff_chats.extend(adapter.staff_chats)
            invitations = getattr(adapter, "invitations", None)  # regulars: a closed chat is configured
            if invitations is not None:
                notifier.invitations[adapter.channel] = invitations

        # the channels a broadcast can go through, recorded for the owner's /broadcast (it counts recipients there)
        await engine.set_broadcast_channels(notifier.messengers)
        broadcaster = Broadcaster(engine, notifier.messengers, locks=locks)
        await share_send_budget(settings, engine, adapters, resources)  # several instances: one pace per bot

        config = WebappConfig(demo=demo, mini_apps=[a.mini_app for a in adapters if a.mini_app is not None],
                              auth_max_age=settings.webapp.auth_max_age, public_url=settings.webapp.base_url,
                              receipt_email=settings.yookassa.configured and settings.yookassa.receipts)
        app = create_app(engine, config, qr)
        for route in [*(r for adapter in adapters for r in adapter.routes()), *payments.routes(engine)]:
            app.router.add_route(route.method, route.path, route.handler)

        if stop is None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)

        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        resources.push_async_callback(runner.cleanup)
        # What start-up built (imports, the SDKs' models) lives as long as the process: keep the full garbage
        # collections from walking it again and again under load (bench/webapp.py: p99 136 -> 28 ms).
        gc.freeze()
        try:
            await web.TCPSite(runner, settings.webapp.host, settings.webapp.port).start()
        except OSError as e:  # the port is taken, privileged, or the host is no address of this machine
            raise ListenError(listen_problem(settings.webapp.host, settings.webapp.port, e)) from None
        receivers = [asyncio.create_task(a.run()) for a in adapters]
        workers = [asyncio.create_task(relay.run(stop=stop)), asyncio.create_task(sweep(engine, stop, locks)),
                   asyncio.create_task(prune(engine, settings.retention_days, stop, locks))]
        if any(provider.online for provider in engine.providers.values()):
            workers.append(asyncio.create_task(
                payments.reconcile_now_and_then(engine, settings.reconcile_seconds, stop, locks)))
        if broadcaster.messengers:
            workers.append(asyncio.create_task(broadcaster.run(stop)))
        names = ", ".join(a.describe() for a in adapters) or "no bots"
        print(f"Vitrina ({'demo' if demo else 'shop'}, {names}) is running at "
              f"http://{settings.webapp.host}:{settings.webapp.port}/ — press Ctrl-C to stop", flush=True)
        try:
            await stop.wait()
        finally:
            print("stopping…", flush=True)
            stop.set()
            for task in receivers:  # a long poll may be waiting on the server: do not wait for it
                task.cancel()
            await asyncio.gather(*receivers, *workers, return_exceptions=True)
