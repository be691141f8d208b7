"""The Mini App: an aiohttp JSON API (auth, menu, cart, orders, staff), the QR landing page, static files.

Imports ``journey`` only: each channel's launch-data check arrives from its adapter through ``WebappConfig``;
``bot.main`` builds it with ``create_app``.
"""
from .app import create_app
from .config import WebappConfig

__all__ = ["WebappConfig", "create_app"]
