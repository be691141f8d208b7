"""The Mini App through its real factory: launch data signed exactly as Telegram and VK sign it.

Every conftest.py outside a package is imported as the one module ``conftest``, so the tests get what
they share from fixtures here rather than by importing this module.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from html import escape
from urllib.parse import urlencode

import pytest

from journey.engine import Engine
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


def make_config(**changes: object) -> WebappConfig:
    values: dict[str, object] = dict(demo=False, telegram_token=BOT_TOKEN, vk_app_secret=VK_SECRET,
                                     vk_app_id=VK_APP_ID, telegram_bot="vitrina_test_bot",
                                     public_url="https://shop.example")
    values.update(changes)
    return WebappConfig(**values)  # type: ignore[arg-type]


def telegram_init_data(user_id: int, auth_date: int, *, token: str = BOT_TOKEN, first_name: str = "Анна",
                       language_code: str = "ru", start_param: str | None = None) -> str:
    """initData as Telegram builds it: hash = HMAC(HMAC("WebAppData", token), sorted key=value lines)."""
    user = {"id": user_id, "first_name": first_name, "last_name": "Тестова", "language_code": language_code,
            "allows_write_to_pm": True}
    fields = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "auth_date": str(auth_date),
              "user": json.dumps(user, ensure_ascii=False, separators=(",", ":"))}
    if start_param:
        fields["start_param"] = start_param
    data_check_string = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, data_check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def vk_launch_params(user_id: int, ts: int, *, secret: str = VK_SECRET, app_id: int = VK_APP_ID,
                     language: str = "ru") -> str:
    """The launch query string as VK signs it: vk_* sorted, url-encoded, HMAC-SHA256, base64url unpadded."""
    params = {"vk_user_id": str(user_id), "vk_app_id": str(app_id), "vk_ts": str(ts), "vk_language": language,
              "vk_platform": "mobile_android", "vk_is_app_user": "1", "vk_are_notifications_enabled": "0",
              "vk_access_token_settings": "friends,status"}
    signed = urlencode(sorted(params.items()))
    digest = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    sign = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return urlencode({**params, "odr_enabled": "1", "sign": sign})


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
