"""The Telegram channel on aiogram 3: updates become ``Inbound``, replies become Bot API calls."""
from .channel import TelegramChannel
from .messenger import TelegramMessenger

__all__ = ["TelegramChannel", "TelegramMessenger"]
