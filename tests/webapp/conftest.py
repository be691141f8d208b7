"""The Mini App through its real factory: launch data signed exactly as Telegram and VK sign it.

Every conftest.py outside a package is imported as the one module ``conftest``, so the tests get what
they share from fixtures here rather than by importing this module.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from html import escape

import launch_data
import pytest

from adapters.telegram.launch import TelegramMiniApp
from adapters.vk.launch import VkMiniApp
from adapters.yookassa import YookassaProvider
from bot.payments import close, routes
from journey.engine import Engine
from journey.ports import MiniApp
from webapp import WebappConfig, create_app

BOT_TOKEN = "123456789:AAtest-bot-token"
VK_SECRET = "vk-app-secure-key"
VK_APP_ID = 51234567
Headers = dict[str, str]


class FakeQrRenderer:
    """Shows what it was asked to draw, so a test can read the token back."""

    def svg(self, data: str, caption: str = "") -> bytes:
        return (f'<svg xmlns="http://www.w3.org/2000/svg"><desc>{escape(data)}</desc>'
                f"<text>{escape(caption)}</text></svg>").encode()

    def png(self, data: str, caption: str = "") -> bytes:
        return b"\x89PNG fake " + data.encode()


def mini_apps(*, telegram_token: str | None = BOT_TOKEN, telegram_bot: str = "vitrina_test_bot",
              vk_app_secret: str | None = VK_SECRET, vk_app_id: int | None = VK_APP_ID) -> list[MiniApp]:
    """The channels' launch checks as ``vitrina run`` gives them to the webapp (None: not configured)."""
    found: list[MiniApp] = []
    if telegram_token:
        found.append(TelegramMiniApp(telegram_token, lambda: telegram_bot))
    if vk_app_secret:
        found.append(VkMiniApp(vk_app_id, vk_app_secret))
    return found


def make_config(*, telegram_token: str | None = BOT_TOKEN, telegram_bot: str = "vitrina_test_bot",
                vk_app_secret: str | None = VK_SECRET, vk_app_id: int | None = VK_APP_ID,
                **changes: object) -> WebappConfig:
    values: dict[str, object] = dict(demo=False, public_url="https://shop.example",
                                     mini_apps=mini_apps(telegram_token=telegram_token, telegram_bot=telegram_bot,
                                                         vk_app_secret=vk_app_secret, vk_app_id=vk_app_id))
    values.update(changes)
    return WebappConfig(**values)  # type: ignore[arg-type]


def telegram_init_data(user_id: int, auth_date: int, *, token: str = BOT_TOKEN, **kwargs: object) -> str:
    return launch_data.telegram_init_data(user_id, auth_date, token=token, **kwargs)  # type: ignore[arg-type]


def vk_launch_params(user_id: int, ts: int, *, secret: str = VK_SECRET, app_id: int = VK_APP_ID,
                     language: str = "ru") -> str:
    return launch_data.vk_launch_params(user_id, ts, secret=secret, app_id=app_id, language=language)


@pytest.fixture
def config() -> WebappConfig:
    return make_config()


@pytest.fixture
def qr() -> FakeQrRenderer:
    return FakeQrRenderer()


@pytest.fixture
def make_client(aiohttp_client, engine: Engine, qr: FakeQrRenderer):
    """``await make_client(demo=True)``: a client of an app built with these config changes (and engine)."""
    async def build(engine: Engine = engine, **changes: object):
        return await aiohttp_client(create_app(engine, make_config(**changes), qr))
    return build


@pytest.fixture
async def client(aiohttp_client, engine: Engine, config: WebappConfig, qr: FakeQrRenderer):
    return await aiohttp_client(create_app(engine, config, qr))


@pytest.fixture
def tma(clock) -> Callable[..., Headers]:
    """``tma(5001)`` -> headers of a Telegram user launching the Mini App now (by the test clock)."""
    def headers(user_id: int, *, age: int = 0, **kwargs: object) -> Headers:
        auth_date = int(clock.now().timestamp()) - age
        return {"Authorization": "tma " + telegram_init_data(user_id, auth_date, **kwargs)}  # type: ignore[arg-type]
    return headers


@pytest.fixture
def vk(clock) -> Callable[..., Headers]:
    def headers(user_id: int, *, age: int = 0, **kwargs: object) -> Headers:
        return {"Authorization": "vk " + vk_launch_params(user_id, int(clock.now().timestamp()) - age, **kwargs)}  # type: ignore[arg-type]
    return headers


@pytest.fixture
def staff(tma) -> Headers:
    """The barista of tests/conftest.py (telegram:2, staff at "center")."""
    return tma(2, first_name="Бариста")


@pytest.fixture
def cart() -> dict:
    """Two oat lattes, size M (2 x 350 ₽), and a croissant (180 ₽, counted stock 10 at "center"): 880 ₽."""
    return {"point": "center", "lines": [
        {"item": "latte", "quantity": 2, "options": {"size": ["m"], "milk": ["oat"]}},
        {"item": "croissant", "quantity": 1}]}


@pytest.fixture
def order_body(cart) -> Callable[..., dict]:
    def body(**changes: object) -> dict:
        return {**cart, "pickup_at": None, "payment": "counter", **changes}
    return body


# --- YooKassa through the Mini App API and its webhook (the fake YooKassa: tests/conftest.py) ----------
@pytest.fixture
async def paying(db, clock, engine, yookassa) -> AsyncIterator[Engine]:
    """The shop with YooKassa configured."""
    provider = YookassaProvider(yookassa.shop_id, yookassa.secret_key, yookassa.base_url)
    shop = Engine(db.uow, secret=engine.secret, owners=engine.owners, clock=clock, reader=db.reading,
                  providers={"yookassa": provider})
    yield shop
    await close(provider)


@pytest.fixture
async def api(aiohttp_client, paying, config, qr):
    """A client of the Mini App with the payment webhooks mounted, as `vitrina run` does."""
    app = create_app(paying, config, qr)
    for route in routes(paying):
        app.router.add_route(route.method, route.path, route.handler)
    return await aiohttp_client(app)
