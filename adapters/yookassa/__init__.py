"""YooKassa: online payments held at checkout and captured at hand-over, refunds, 54-FZ receipts, and
the notifications YooKassa sends (``provider``, ``webhook``; the HTTP client in ``client``)."""
from .provider import YookassaProvider
from .webhook import webhook_route

__all__ = ["YookassaProvider", "webhook_route"]
