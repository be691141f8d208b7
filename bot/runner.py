"""``vitrina run``: the Mini App server, the configured bots, the outbox relay and the expiry sweep.

Runs until Ctrl-C (or SIGTERM), then stops everything cleanly.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

from aiohttp import web

from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.outbox import OutboxRelay

from .conversation import Conversation
from .notifications import Notifier
from .settings import Settings

log = logging.getLogger("vitrina")
SWEEP_SECONDS = 30.0


def webapp_config(settings: Settings, shop_name: str, telegram_bot: str = ""):
    from webapp.config import WebappConfig

    return WebappConfig(
        demo=settings.is_demo,
        telegram_token=settings.telegram.token.get_secret_value() if settings.telegram.token else None,
        vk_app_secret=settings.vk.app_secret.get_secret_value() if settings.vk.app_secret else None,
        vk_app_id=settings.vk.app_id,
        telegram_bot=telegram_bot,
        auth_max_age=settings.webapp.auth_max_age,
        public_url=settings.webapp.base_url,
        shop_name=shop_name,
    )


async def sweep(engine: Engine, stop: asyncio.Event) -> None:
    """Expire unpaid and uncollected orders now and then."""
    while not stop.is_set():
        try:
            expired = await engine.expire_due()
            if expired:
                log.info("expired %d orders", len(expired))
        except Exception:
            log.exception("expiry sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)


def telegram_channel(settings: Settings, engine: Engine, conversation: Conversation):
    from adapters.telegram import TelegramChannel

    tg = settings.telegram
    return TelegramChannel(
        tg.token.get_secret_value(), handle=conversation.handle,
        claim=lambda update_id: engine.claim_update(Channel.TELEGRAM, update_id),
        api_base=tg.api_base, mini_app_url=settings.webapp.base_url + "/", webhook_url=tg.webhook_url,
        webhook_secret=tg.webhook_secret.get_secret_value() if tg.webhook_secret else None)


def vk_channel(settings: Settings, engine: Engine, conversation: Conversation):
    from adapters.vk import VkChannel

    vk = settings.vk
    return VkChannel(
        vk.token.get_secret_value(), vk.group_id, handle=conversation.handle,
        claim=lambda event_id: engine.claim_update(Channel.VK, event_id), api_base=vk.api_base, app_id=vk.app_id,
        callback_secret=vk.callback_secret.get_secret_value() if vk.callback_secret else None,
        confirmation_code=vk.confirmation_code)


async def run(engine: Engine, settings: Settings) -> None:
    from adapters.qr import QrcodeRenderer
    from webapp.app import create_app

    from .seed import seed_demo

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.is_demo:
        print(await seed_demo(engine), flush=True)
    async with engine.read() as uow:
        rules = await engine.rules(uow)
    qr = QrcodeRenderer()
    conversation = Conversation(engine, public_url=settings.webapp.base_url)
    notifier = Notifier(engine, qr)
    relay = OutboxRelay(engine.uow, {"notify": notifier})
    stop = asyncio.Event()
    pollers: list[asyncio.Task] = []

    telegram = None
    if settings.telegram.token:
        telegram = telegram_channel(settings, engine, conversation)
        await telegram.setup()
        notifier.messengers[Channel.TELEGRAM] = telegram.messenger
        if settings.telegram.staff_chat_id:
            notifier.staff_chats.append(CustomerRef(Channel.TELEGRAM, str(settings.telegram.staff_chat_id)))

    vk = None
    if settings.vk.token:
        vk = vk_channel(settings, engine, conversation)
        notifier.messengers[Channel.VK] = vk.messenger
        if settings.vk.staff_peer_id:
            notifier.staff_chats.append(CustomerRef(Channel.VK, str(settings.vk.staff_peer_id)))

    app = create_app(engine, webapp_config(settings, rules.name, telegram.username if telegram else ""), qr)
    if telegram and settings.telegram.webhook_url:
        telegram.mount_webhook(app)
    if vk and settings.vk.callback_secret:
        vk.mount_callback(app)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    # What start-up built (imports, the SDKs' models) lives as long as the process: keep the full garbage
    # collections from walking it again and again under load (bench/webapp.py: p99 136 -> 28 ms).
    gc.freeze()
    await web.TCPSite(runner, settings.webapp.host, settings.webapp.port).start()
    if telegram and settings.telegram.webhook_url:
        await telegram.set_webhook()
    elif telegram:
        pollers.append(asyncio.create_task(telegram.run_polling()))
    if vk and not settings.vk.callback_secret:
        pollers.append(asyncio.create_task(vk.run_polling()))
    workers = [asyncio.create_task(relay.run(stop=stop)), asyncio.create_task(sweep(engine, stop))]
    mode = "demo" if settings.is_demo else "shop"
    channels = ", ".join(name for name, on in (("Telegram @" + (telegram.username if telegram else ""), telegram),
                                               (f"VK club{settings.vk.group_id}", vk)) if on) or "no bots"
    print(f"Vitrina ({mode}, {channels}) is running at http://{settings.webapp.host}:{settings.webapp.port}/"
          " — press Ctrl-C to stop", flush=True)
    try:
        await stop.wait()
    finally:
        print("stopping…", flush=True)
        stop.set()
        if telegram:
            await telegram.stop_polling()
        for task in pollers:  # a long poll may be waiting on the server: do not wait for it
            task.cancel()
        await asyncio.gather(*pollers, *workers, return_exceptions=True)
        await runner.cleanup()
        if telegram:
            await telegram.close()
        if vk:
            await vk.close()
