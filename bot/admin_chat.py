"""The owner's menu edits in the chat: /admin, /price, /hide, /show, /stock, /item, /undo."""
from __future__ import annotations

from typing import TYPE_CHECKING

from journey.channels import Reply, Text

from .chat import Turn, command

if TYPE_CHECKING:
    from .conversation import Conversation


@command("undo", owner=True)
async def undo(conv: Conversation, turn: Turn) -> list[Reply]:
    change = await conv.engine.undo(turn.inbound.sender)
    return [Text(f"↩ {change.target}")]
