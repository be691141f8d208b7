"""The Telegram Mini App: initData checked with the bot token, and the t.me link on the QR landing page.

The check is Telegram's (core.telegram.org/bots/webapps, "Validating data received via the Mini App"): the
pairs of the query string but ``hash``, sorted by key, as ``key=value`` lines, signed with HMAC-SHA256 under
the key HMAC-SHA256("WebAppData", bot token), compared in constant time. It reads the string exactly as
aiogram's ``safe_parse_webapp_init_data`` does (strict query-string parsing, a repeated key's last value,
pairs with empty values dropped), with the key derived once rather than per request. initData in the shape
Telegram sends (a ``user`` JSON object of the known fields, a whole-second ``auth_date``, plain strings
besides) is read here with the standard library; anything else that is validly signed (a ``chat`` or
``receiver`` object, a typed field in an unusual form ...) is read by aiogram's own model, so what is
accepted and what is refused is the same either way.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from aiogram.utils.web_app import parse_webapp_init_data

from journey.channels import Channel, CustomerRef, LandingLink, Launch
from journey.customers import language_of
from journey.launch import KeptLaunches, refused

# WebAppUser's fields (aiogram.utils.web_app) and the types read here without aiogram's model
_USER_TEXT = frozenset({"last_name", "username", "language_code", "photo_url"})
_USER_FLAGS = frozenset({"is_bot", "is_premium", "added_to_attachment_menu", "allows_write_to_pm"})
# WebAppInitData's fields that are not plain strings: left to aiogram's model
_TYPED = frozenset({"receiver", "chat", "can_send_after"})
KEPT = 4096  # initData strings whose signature held, kept with what they say (a few hundred bytes each)


def _looks_json(value: str) -> bool:
    """What aiogram's parser reads as JSON instead of a string."""
    return (value.startswith("[") and value.endswith("]")) or (value.startswith("{") and value.endswith("}"))


def _plain_user(value: str) -> dict[str, Any] | None:
    """The ``user`` object when it has exactly the shape Telegram sends, else None (aiogram's model decides)."""
    if not (value.startswith("{") and value.endswith("}")):
        return None
    try:
        user = json.loads(value)
    except ValueError:
        return None
    if not isinstance(user, dict) or type(user.get("id")) is not int or type(user.get("first_name")) is not str:
        return None
    for key, field in user.items():
        if key in ("id", "first_name") or field is None:
            continue
        if (key in _USER_TEXT and type(field) is str) or (key in _USER_FLAGS and type(field) is bool):
            continue
        return None
    return user


class TelegramMiniApp:
    channel = Channel.TELEGRAM
    scheme = "tma"

    def __init__(self, token: str, username: Callable[[], str] = lambda: "") -> None:
        self.token = token
        self.username = username  # known once the bot has asked Telegram who it is
        self._secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
        self._verified = KeptLaunches(KEPT)  # initData whose signature held: when, and who

    def check(self, launch: str, now: datetime, max_age: int) -> Launch:
        """The account that signed ``launch``, if it is at most ``max_age`` seconds old; what a validly signed
        string says is kept (``KeptLaunches``)."""
        return self._verified.check(launch, now, max_age, self._verify)

    def _verify(self, launch: str) -> tuple[float, Launch]:
        try:
            fields = dict(parse_qsl(launch, strict_parsing=True))
            received = fields.pop("hash")
            check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items())).encode()
        except (KeyError, ValueError):  # not a query string, no hash, text that is not UTF-8
            raise refused("initData does not parse or has no hash") from None
        expected = hmac.new(self._secret, check, hashlib.sha256).hexdigest()
        if not (received.isascii() and hmac.compare_digest(expected, received)):
            raise refused("initData: bad hash")
        launched = self._plain(fields)
        if launched is None:
            launched = self._by_model(launch)
        issued, user, start_param = launched
        if user is None:
            raise refused("initData has no user")
        name = " ".join(filter(None, (user.get("first_name"), user.get("last_name"))))[:64]
        ref = CustomerRef(Channel.TELEGRAM, str(user["id"]), name, language_of(user.get("language_code")))
        return issued, Launch(ref, start_param or None)

    @staticmethod
    def _plain(fields: dict[str, str]) -> tuple[float, dict[str, Any] | None, str | None] | None:
        """(auth_date, user, start_param) of signed initData in Telegram's usual shape, else None."""
        issued = fields.get("auth_date", "")
        # seconds as Telegram writes them; pydantic would read 11 digits and more as milliseconds
        if not (issued.isascii() and issued.isdigit() and len(issued) <= 10 and (issued[0] != "0" or issued == "0")):
            return None
        user = None
        for key, value in fields.items():
            if key == "user":
                user = _plain_user(value)
                if user is None:
                    return None
            elif key in _TYPED or _looks_json(value):
                return None
        return float(issued), user, fields.get("start_param")

    @staticmethod
    def _by_model(launch: str) -> tuple[float, dict[str, Any] | None, str | None]:
        try:
            data = parse_webapp_init_data(launch)
        except Exception as exc:  # fields that do not parse (ValidationError, a JSON value that is not JSON)
            raise refused(f"initData: {exc.__class__.__name__}") from None
        user = None if data.user is None else {"id": data.user.id, "first_name": data.user.first_name,
                                               "last_name": data.user.last_name,
                                               "language_code": data.user.language_code}
        return data.auth_date.timestamp(), user, data.start_param

    def landing_link(self, param: str) -> LandingLink | None:
        bot = self.username().lstrip("@")
        if not bot:
            return None
        return LandingLink(f"https://t.me/{quote(bot, safe='')}?start={param}", "Открыть в Telegram",
                           "Open in Telegram", "#2aabee")

    def public(self) -> dict[str, str | int | None]:
        return {"bot": self.username().lstrip("@")}
