"""aiogram's models are built on first use, not at import (adapters/telegram/deferred.py): a fresh process that
imports the Telegram adapter has none of them built, and what the bot does with them still works: an update
with a nested message parsed the way the Bot API session parses ``getUpdates``, a method with a keyboard
built and serialized, a result parsed into a message."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import adapters.telegram
from adapters.telegram import deferred
from aiogram.methods import SendMessage
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

waiting = deferred.waiting()
assert waiting >= 300, waiting  # the types are not built by the import
update = {"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
          "from": {"id": 5, "is_bot": False, "first_name": "A"}, "text": "/start",
          "reply_to_message": {"message_id": 0, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "hi"}}}
got = Response[list[Update]].model_validate({"ok": True, "result": [update]})
message = got.result[0].message
assert isinstance(message, Message) and message.from_user.first_name == "A"
assert message.reply_to_message.text == "hi" and message.chat.id == 5
keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Menu", callback_data="m")]])
dumped = SendMessage(chat_id=5, text="hi", reply_markup=keyboard).model_dump(exclude_none=True)
assert dumped["reply_markup"] == {"inline_keyboard": [[{"text": "Menu", "callback_data": "m"}]]}, dumped
sent = Response[Message].model_validate({"ok": True, "result": update["message"]})
assert sent.result.text == "/start"
assert 0 < deferred.waiting() < waiting  # built as used
print("ok")
"""


def test_aiogram_models_are_built_on_first_use_and_work():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"
