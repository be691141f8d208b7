"""What the Mini App server is given by the composition root: its settings and the typed app keys."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from journey.engine import Engine
from journey.ports import MiniApp, QrRenderer

from .policy import Policy

if TYPE_CHECKING:
    from .menu_cache import MenuCache

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True, slots=True)
class WebappConfig:
    """Deployment details of the Mini App; ``bot.main`` builds it from the settings and the channels."""

    demo: bool
    mini_apps: Sequence[MiniApp] = ()  # one per configured channel with a Mini App, in the order shown
    auth_max_age: int = 86400  # seconds a launch stays valid
    public_url: str = ""  # e.g. https://coffee.example; "" means links are relative to this server
    receipt_email: bool = False  # online payments send 54-FZ receipts: the checkout asks for an e-mail
    static_dir: Path = field(default=STATIC_DIR)
    # operations (webapp/ops.py): why this instance should get no traffic now (None: ready), the /metrics page,
    # and the bearer token /metrics asks for ("" : none, the page is open; keep it behind the proxy)
    ready: Callable[[], Awaitable[str | None]] | None = None
    metrics_page: Callable[[], Awaitable[bytes]] | None = None
    metrics_token: str = ""
    # sources the Mini App may show photos from besides itself (CSP img-src), e.g. "https://cdn.example";
    # bot.main makes them from VITRINA_WEBAPP__PHOTO_HOSTS, https only
    photo_sources: Sequence[str] = ()
    # abuse limits (webapp/limits.py): proxies whose X-Forwarded-For is believed (addresses or CIDRs)
    trusted_proxies: tuple[str, ...] = ()
    # personal data: the policy rendered at start (webapp/policy.py); None: the shipped one with the shop's name
    privacy: Policy | None = None

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/")

    def mini_app(self, scheme: str) -> MiniApp | None:
        """The channel whose launch data comes with this ``Authorization`` scheme (asked on every API call)."""
        for mini_app in self.mini_apps:
            if mini_app.scheme == scheme:
                return mini_app
        return None


ENGINE = web.AppKey("engine", Engine)
CONFIG = web.AppKey("config", WebappConfig)
QR = web.AppKey("qr", QrRenderer)
# the menu answers per point, with the version of the data each was built from (webapp/menu_cache.py)
MENU_CACHE: web.AppKey[MenuCache] = web.AppKey("menu_cache")
