"""The VK channel on vkbottle: community events become ``Inbound``, replies become VK API calls."""
from .channel import VkChannel
from .messenger import VkMessenger

__all__ = ["VkChannel", "VkMessenger"]
