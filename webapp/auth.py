"""Launch data -> who is calling: the check of the channel whose scheme the header names, or a demo name.

Every failure is the same 401 ``unauthorized`` to the caller; the detail (kept on the error, never sent)
says what was wrong, for logs. The webapp knows no channel itself: each configured channel's ``MiniApp``
(from its adapter) checks its own launch data.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from journey.channels import Channel, CustomerRef, Launch
from journey.customers import language_of
from journey.deeplinks import PARAM
from journey.launch import refused

from .config import WebappConfig

DEMO_NAME = re.compile(r"^[\w-]{1,32}$")

__all__ = ["Launch", "authenticate", "with_start"]


def authenticate(header: str | None, config: WebappConfig, now: datetime, accept_language: str = "") -> Launch:
    scheme, _, value = (header or "").strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if not value:
        raise refused("no launch data")
    mini_app = config.mini_app(scheme)
    if mini_app is not None:
        return mini_app.check(value, now, config.auth_max_age)
    if scheme == "demo" and config.demo:
        if not DEMO_NAME.match(value):
            raise refused("demo name: 1..32 letters, digits, _ or -")
        return Launch(CustomerRef(Channel.WEB, value, value, language_of(accept_language)))
    raise refused(f"scheme {scheme!r} not accepted here")


def with_start(launch: Launch, header: str | None) -> Launch:
    """The start parameter the front end says the Mini App was opened with (``X-Vitrina-Start``), kept
    when the channel signed none itself: Telegram's signed ``start_param`` wins; VK's hash and the browser's
    ``?start=`` are not signed by anyone. Anything outside the deep-link grammar is ignored."""
    if launch.start_param or not header or not PARAM.fullmatch(header):
        return launch
    return replace(launch, start_param=header)
