"""Regulars (journey/regulars.py): the shop's closed VK chat's invitation link, from the settings.

VK gives a chat one invitation link at a time (``messages.getInviteLink``, which with ``reset`` makes a
new one and kills the old): there is no link for one person, and asking for a new one at every invitation
would break the links sent before. So the owner puts the chat's link in the settings, and resets it in
the chat when it has travelled too far."""
from __future__ import annotations


class VkInvitations:
    """``ports.ChatInvitations`` with a fixed link."""

    personal = False  # the same link for everyone invited

    def __init__(self, link: str) -> None:
        self.link = link

    async def invite_link(self, name: str) -> str | None:
        return self.link or None
