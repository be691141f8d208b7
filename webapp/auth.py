"""Launch data -> who is calling: the check of the channel whose scheme the header names, or a demo name.

Every failure is the same 401 ``unauthorized`` to the caller; the detail (kept on the error, never sent)
says what was wrong, for logs. The webapp knows no channel itself: each configured channel's ``MiniApp``
(from its adapter) checks its own launch data.
"""
from __future__ import annotations

import re
from datetime import datetime

from journey.channels import Channel, CustomerRef, Launch
from journey.customers import language_of
from journey.launch import refused

from .config import WebappConfig

DEMO_NAME = re.compile(r"^[\w-]{1,32}$")

__all__ = ["Launch", "authenticate"]


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
