"""``vitrina run``: the Mini App server, the outbox relay and the expiry sweep, until Ctrl-C."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from journey.engine import Engine
from journey.outbox import OutboxRelay

from .settings import Settings

log = logging.getLogger("vitrina")
SWEEP_SECONDS = 30.0


def webapp_config(settings: Settings, shop_name: str):
    from webapp.app import WebappConfig

    return WebappConfig(
        demo=settings.is_demo,
        telegram_token=settings.telegram.token.get_secret_value() if settings.telegram.token else None,
        vk_app_secret=settings.vk.app_secret.get_secret_value() if settings.vk.app_secret else None,
        vk_app_id=settings.vk.app_id,
        telegram_bot="",
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


async def run(engine: Engine, settings: Settings) -> None:
    from adapters.qr import QrcodeRenderer
    from webapp.app import create_app

    from .seed import seed_demo

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.is_demo:
        print(await seed_demo(engine), flush=True)
    async with engine.read() as uow:
        rules = await engine.rules(uow)
    app = create_app(engine, webapp_config(settings, rules.name), QrcodeRenderer())
    relay = OutboxRelay(engine.uow)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webapp.host, settings.webapp.port)
    await site.start()
    mode = "demo" if settings.is_demo else "shop"
    print(f"Vitrina ({mode}) is running at http://{settings.webapp.host}:{settings.webapp.port}/"
          " — press Ctrl-C to stop", flush=True)
    tasks = [asyncio.create_task(relay.run(stop=stop)), asyncio.create_task(sweep(engine, stop))]
    try:
        await stop.wait()
    finally:
        print("stopping…", flush=True)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
