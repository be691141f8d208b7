"""The Telegram channel on aiogram 3: updates become ``Inbound``, replies become Bot API calls."""
from . import deferred  # first: aiogram's models are built on first use (120 MB less; see deferred.py)
from .channel import TelegramChannel
from .messenger import TelegramMessenger

__all__ = ["TelegramChannel", "TelegramMessenger", "deferred"]
