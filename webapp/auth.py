"""Launch data -> who is calling. Telegram initData, VK launch parameters, or a demo name.

Every failure is the same 401 ``unauthorized`` to the caller; the detail (kept on the error, never sent)
says what was wrong, for logs.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from aiogram.utils.web_app import safe_parse_webapp_init_data

from journey.channels import Channel, CustomerRef
from journey.customers import language_of
from journey.errors import DomainError, ErrorCode

from .config import WebappConfig

FUTURE_SKEW = 300  # seconds a launch may come "from the future" (clocks drift)
DEMO_NAME = re.compile(r"^[\w-]{1,32}$")


@dataclass(frozen=True, slots=True)
class Launch:
    """A verified launch: the account, and the start parameter the Mini App was opened with."""

    ref: CustomerRef
    start_param: str | None = None


def authenticate(header: str | None, config: WebappConfig, now: datetime, accept_language: str = "") -> Launch:
    scheme, _, value = (header or "").strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if not value:
        raise _refused("no launch data")
    if scheme == "tma":
        return telegram(value, config, now)
    if scheme == "vk":
        return vk(value, config, now)
    if scheme == "demo" and config.demo:
        if not DEMO_NAME.match(value):
            raise _refused("demo name: 1..32 letters, digits, _ or -")
        return Launch(CustomerRef(Channel.WEB, value, value, language_of(accept_language)))
    raise _refused(f"scheme {scheme!r} not accepted here")


def telegram(init_data: str, config: WebappConfig, now: datetime) -> Launch:
    if not config.telegram_token:
        raise _refused("Telegram is not configured")
    try:
        data = safe_parse_webapp_init_data(config.telegram_token, init_data)
    except Exception as exc:  # a bad signature (ValueError) or fields that do not parse (ValidationError)
        raise _refused(f"initData: {exc.__class__.__name__}") from None
    if data.user is None:
        raise _refused("initData has no user")
    _check_age(data.auth_date.timestamp(), config, now)
    user = data.user
    name = " ".join(filter(None, (user.first_name, user.last_name)))[:64]
    ref = CustomerRef(Channel.TELEGRAM, str(user.id), name, language_of(user.language_code))
    return Launch(ref, data.start_param or None)


def vk_sign(secret: str, params: Iterable[tuple[str, str]]) -> str:
    """VK's launch signature: the ``vk_*`` pairs sorted by key, url-encoded, HMAC-SHA256, base64url unpadded."""
    signed = urlencode(sorted((k, v) for k, v in params if k.startswith("vk_")))
    digest = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def vk(launch: str, config: WebappConfig, now: datetime) -> Launch:
    if not config.vk_app_secret:
        raise _refused("VK is not configured")
    query = launch.split("#", 1)[0]
    query = query.split("?", 1)[1] if "?" in query else query
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise _refused("launch parameters do not parse") from None
    params = dict(pairs)
    if len(params) != len(pairs):
        raise _refused("a launch parameter is repeated")
    sign = params.get("sign", "")
    expected = vk_sign(config.vk_app_secret, pairs)
    if not sign or not hmac.compare_digest(expected.encode(), sign.encode()):
        raise _refused("bad sign")
    if config.vk_app_id is not None and params.get("vk_app_id") != str(config.vk_app_id):
        raise _refused("another VK app")
    user_id, ts = params.get("vk_user_id", ""), params.get("vk_ts", "")
    if not _digits(user_id) or not _digits(ts):
        raise _refused("vk_user_id and vk_ts are required")
    _check_age(int(ts), config, now)
    return Launch(CustomerRef(Channel.VK, user_id, "", language_of(params.get("vk_language"))))


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _check_age(issued: float, config: WebappConfig, now: datetime) -> None:
    age = now.timestamp() - issued
    if age > config.auth_max_age or age < -FUTURE_SKEW:
        raise _refused(f"launch is {int(age)} s old")


def _refused(why: str) -> DomainError:
    return DomainError(ErrorCode.UNAUTHORIZED, why)
