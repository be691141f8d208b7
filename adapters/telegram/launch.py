"""The Telegram Mini App: initData checked with the bot token, and the t.me link on the QR landing page."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from aiogram.utils.web_app import safe_parse_webapp_init_data

from journey.channels import Channel, CustomerRef, LandingLink, Launch
from journey.customers import language_of
from journey.launch import check_age, refused


class TelegramMiniApp:
    channel = Channel.TELEGRAM
    scheme = "tma"

    def __init__(self, token: str, username: Callable[[], str] = lambda: "") -> None:
        self.token = token
        self.username = username  # known once the bot has asked Telegram who it is

    def check(self, launch: str, now: datetime, max_age: int) -> Launch:
        try:
            data = safe_parse_webapp_init_data(self.token, launch)
        except Exception as exc:  # a bad signature (ValueError) or fields that do not parse (ValidationError)
            raise refused(f"initData: {exc.__class__.__name__}") from None
        if data.user is None:
            raise refused("initData has no user")
        check_age(data.auth_date.timestamp(), now, max_age)
        user = data.user
        name = " ".join(filter(None, (user.first_name, user.last_name)))[:64]
        ref = CustomerRef(Channel.TELEGRAM, str(user.id), name, language_of(user.language_code))
        return Launch(ref, data.start_param or None)

    def landing_link(self, param: str) -> LandingLink | None:
        bot = self.username().lstrip("@")
        if not bot:
            return None
        return LandingLink(f"https://t.me/{quote(bot, safe='')}?start={param}", "Открыть в Telegram",
                           "Open in Telegram", "#2aabee")

    def public(self) -> dict[str, str | int | None]:
        return {"bot": self.username().lstrip("@")}
