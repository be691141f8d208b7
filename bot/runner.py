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
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from journey.channels import ChannelError
from journey.engine import Engine
from journey.outbox import OutboxRelay
from journey.ports import ChannelAdapter, JobLocks, ProcessLocks, SendBudget

from . import channels, observability, payments, sharing_chat
from .broadcaster import Broadcaster
from .conversation import Conversation
from .failures import ListenError, listen_problem
from .notifications import Notifier
from .settings import Settings

if TYPE_CHECKING:
    from webapp.ops import Traffic

log = logging.getLogger("vitrina")
SWEEP_SECONDS = 30.0
PRUNE_SECONDS = 6 * 3600.0
# PostgreSQL commits event ids out of their order: the relay reads this many ids behind its cursor again
# (journey/outbox.py); thousands of events committed meanwhile, far more than a unit of work lasts for
LOOKBACK = 5000


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
            if pruned and pruned.buckets:  # abuse limits: buckets idle for a day are full again
                log.info("pruned %d idle rate-limit buckets", pruned.buckets)
        except Exception:
            log.exception("pruning failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PRUNE_SECONDS)


async def retain(engine: Engine, inactive_days: int, stop: asyncio.Event, locks: JobLocks | None = None) -> None:
    """Personal data: anonymize customers inactive for ``VITRINA_PRIVACY__INACTIVE_DAYS`` now and then, like
    /forget (journey/privacy.py); one instance at a time, once a period."""
    locks = locks or ProcessLocks()
    while not stop.is_set():
        try:
            async with locks.hold("retention", every=once_per(PRUNE_SECONDS)) as held:
                anonymized = await engine.anonymize_inactive(timedelta(days=inactive_days)) if held else 0
            if anonymized:
                log.info("anonymized %d customers inactive for %d days", anonymized, inactive_days)
        except Exception:
            log.exception("anonymizing inactive customers failed")
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


LATE_SECONDS = 1.0  # a response still being written when the shutdown timeout is over gets this much more


def closing(runner: web.AppRunner, traffic: Traffic, seconds: float) -> Callable[[], Awaitable[None]]:
    """Stop the server once: close the listening socket (no new connections), let the requests in flight
    finish within ``seconds`` (a body still on its way is read: aiohttp's own shutdown would stop reading
    it), then close the connections, cutting off what is still running."""
    closed = False

    async def close() -> None:
        nonlocal closed
        if closed:
            return
        closed = True
        for site in list(runner.sites):
            await site.stop()
        try:
            await asyncio.wait_for(traffic.drain(), seconds)
        except TimeoutError:
            log.warning("stopping: %d requests did not finish within VITRINA_SHUTDOWN_SECONDS=%s: cut off",
                        traffic.active, seconds)
        await runner.cleanup()

    return close


async def drain(close_server: Callable[[], Awaitable[None]], tasks: list[asyncio.Task], seconds: float) -> None:
    """Graceful shutdown: the server stops taking connections and finishes its requests while the workers
    finish the round they are in (they see ``stop`` set); whatever still runs after ``seconds`` is cancelled."""
    server = asyncio.ensure_future(close_server())
    _, late = await asyncio.wait([server, *tasks], timeout=seconds)
    for task in late:
        if task is not server:  # the server cancels its own late requests (shutdown_timeout)
            log.warning("stopping: %s did not finish within VITRINA_SHUTDOWN_SECONDS=%s: cancelled",
                        getattr(task.get_coro(), "__qualname__", task.get_name()), seconds)
            task.cancel()
    await asyncio.gather(server, *tasks, return_exceptions=True)


WEBAPP = "webapp"  # vitrina run --only webapp


def warn_of_polling(settings: Settings, adapters: list[ChannelAdapter]) -> None:
    """On PostgreSQL several instances may run, and a channel that polls must be polled by one alone
    (Telegram answers a second poller 409 Conflict; every VK long poll gets every event): say so."""
    if settings.sqlite_path() is not None:
        return
    for adapter in channels.polling(adapters):
        print(f"warning: {adapter.describe()} receives by long polling: run this one instance so and the others "
              f"with 'vitrina run --only webapp', or receive by webhook (VITRINA_TELEGRAM__WEBHOOK_URL, "
              f"VITRINA_VK__CALLBACK_SECRET) on every instance", file=sys.stderr, flush=True)


async def serve_webapp_only(adapters: list[ChannelAdapter], settings: Settings, demo: bool,
                            stop: asyncio.Event) -> None:
    """``vitrina run --only webapp``: the server already serves the Mini App's API and pages, the landing
    pages, /media and the payment providers' webhooks (a YooKassa notification may reach any instance);
    the channels were built for their Mini App checks and the calls it makes at once (an invoice link).
    Nothing else runs here: no updates are received (no polling, no webhook or callback routes, the
    webhook neither set nor deleted) and no background work (the outbox relay, the expiry sweep,
    pruning, the payments' reconcile, broadcasts), which the instances receiving the chats do."""
    names = " for " + ", ".join(a.describe() for a in adapters) if adapters else ""
    print(f"Vitrina ({'demo' if demo else 'shop'}, only the Mini App{names}: no chats, no background "
          f"jobs) is running at http://{settings.webapp.host}:{settings.webapp.port}/ — press Ctrl-C to stop",
          flush=True)
    try:
        await stop.wait()
    finally:
        print("stopping…", flush=True)


async def run(engine: Engine, settings: Settings, stop: asyncio.Event | None = None, *,
              only: str | None = None) -> None:
    """Serve until ``stop`` is set; without one, until Ctrl-C or SIGTERM. ``only="webapp"``: the Mini App
    alone (``serve_webapp_only``)."""
    from adapters.qr import QrcodeRenderer
    from webapp.app import create_app
    from webapp.config import WebappConfig
    from webapp.ops import TRAFFIC

    from .policy import privacy_policy
    from .seed import seed_demo

    # operations: JSON or plain logs without secrets or personal data, the numbers of /metrics, /readyz
    own_signals = stop is None  # run as the process (vitrina run), not inside another program or a test
    if own_signals:  # the process's logging is its own to set; a host program keeps its handlers
        observability.setup_logging(settings, key=engine.secret)
    metrics = observability.PrometheusMetrics()
    engine.metrics = metrics
    stop = stop or asyncio.Event()  # set: stop taking work; /readyz answers 503 from then on
    demo = channels.is_demo(settings)
    if demo:
        print(await seed_demo(engine), flush=True)
    policy = await privacy_policy(settings, engine)  # personal data: /privacy, and the version consented to
    qr = QrcodeRenderer()
    conversation = Conversation(engine, public_url=settings.webapp.base_url)
    notifier = Notifier(engine, qr, public_url=settings.webapp.base_url)  # gifts: links in the chat
    locks = job_locks(engine)  # several instances: each background job runs at one of them at a time
    relay = OutboxRelay(engine.uow, {notifier.name: observability.counting_events(notifier, metrics)},
                        max_attempts=settings.delivery_attempts, locks=locks, reader=engine.reader,
                        lookback=0 if settings.sqlite_path() is not None else LOOKBACK)
    wiring = channels.Wiring(conversation.handle, observability.counting_claims(engine.begin_update, metrics),
                             settings.webapp.base_url,
                             payments.PaymentDesk(engine),
                             cards=sharing_chat.card_maker(engine, settings.webapp.base_url),  # sharing
                             release=engine.release_update, finish=engine.finish_update,  # several instances
                             receive=only != WEBAPP)

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
                notifier.messengers[adapter.channel] = observability.CountingMessenger(adapter.messenger, metrics)
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
                              photo_sources=settings.webapp.photo_sources,  # the menu's https photo hosts
                              receipt_email=settings.yookassa.configured and settings.yookassa.receipts,
                              ready=observability.readiness(getattr(engine, "database", None), stop),
                              metrics_page=lambda: observability.metrics_page(engine, metrics, relay.subscribers,
                                                                              relay.lookback),
                              metrics_token=settings.metrics_token.get_secret_value() if settings.metrics_token
                              else "",
                              privacy=policy,  # personal data
                              trusted_proxies=settings.webapp.trusted_proxies)  # abuse limits: X-Forwarded-For
        app = create_app(engine, config, qr)
        for route in [*(r for adapter in adapters for r in adapter.routes()), *payments.routes(engine)]:
            app.router.add_route(route.method, route.path, route.handler)

        if own_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)

        # stopping, requests in flight get VITRINA_SHUTDOWN_SECONDS to finish (then are cancelled)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=LATE_SECONDS)
        await runner.setup()
        close_server = closing(runner, app[TRAFFIC], settings.shutdown_seconds)
        resources.push_async_callback(close_server)
        # What start-up built (imports, the SDKs' models) lives as long as the process: keep the full garbage
        # collections from walking it again and again under load (bench/webapp.py: p99 136 -> 28 ms).
        gc.freeze()
        try:
            await web.TCPSite(runner, settings.webapp.host, settings.webapp.port).start()
        except OSError as e:  # the port is taken, privileged, or the host is no address of this machine
            raise ListenError(listen_problem(settings.webapp.host, settings.webapp.port, e)) from None
        if only == WEBAPP:
            await serve_webapp_only(adapters, settings, demo, stop)
            return
        warn_of_polling(settings, adapters)
        receivers = [asyncio.create_task(a.run()) for a in adapters]
        workers = [asyncio.create_task(relay.run(stop=stop)), asyncio.create_task(sweep(engine, stop, locks)),
                   asyncio.create_task(prune(engine, settings.retention_days, stop, locks))]
        if any(provider.online for provider in engine.providers.values()):
            workers.append(asyncio.create_task(
                payments.reconcile_now_and_then(engine, settings.reconcile_seconds, stop, locks)))
        if broadcaster.messengers:
            workers.append(asyncio.create_task(broadcaster.run(stop)))
        if settings.privacy.inactive_days > 0:  # personal data: the retention period
            workers.append(asyncio.create_task(retain(engine, settings.privacy.inactive_days, stop, locks)))
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
            await drain(close_server, [*receivers, *workers], settings.shutdown_seconds)
