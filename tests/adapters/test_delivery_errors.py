"""Each messenger tells a person who cannot be messaged (permanent) from a failure worth another attempt."""
from __future__ import annotations

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage
from aiohttp import ClientConnectionError
from vkbottle.exception_factory import VKAPIError

from adapters.telegram.messenger import classify as telegram
from adapters.vk.messenger import classify as vk

SEND = SendMessage(chat_id=1, text="hi")


@pytest.mark.parametrize("error, permanent, reason", [
    (TelegramForbiddenError(SEND, "Forbidden: bot was blocked by the user"), True, "blocked"),
    (TelegramForbiddenError(SEND, "Forbidden: user is deactivated"), True, "deactivated"),
    (TelegramForbiddenError(SEND, "Forbidden: bot was kicked from the group chat"), True, "kicked"),
    (TelegramForbiddenError(SEND, "Forbidden: bot can't initiate conversation with a user"), True, "not_started"),
    (TelegramBadRequest(SEND, "Bad Request: chat not found"), True, "chat_not_found"),
    (TelegramBadRequest(SEND, "Bad Request: PEER_ID_INVALID"), True, "chat_not_found"),
    (TelegramMigrateToChat(SEND, "Bad Request: group chat was upgraded", -1001), True, "migrated"),
    (TelegramBadRequest(SEND, "Bad Request: message is too long"), False, "bad_request"),  # the message, not the chat
    (TelegramRetryAfter(SEND, "Too Many Requests", 5), False, "rate_limited"),
    (TelegramServerError(SEND, "Internal Server Error"), False, "server"),
    (TelegramNetworkError(SEND, "Request timeout error"), False, "network"),
    (TelegramUnauthorizedError(SEND, "Unauthorized"), False, "unknown"),  # the token, not the customer
    (ClientConnectionError("reset"), False, "network"),
    (TimeoutError(), False, "network"),
    (ValueError("something new"), False, "unknown"),
])
def test_telegram_failures(error, permanent, reason):
    found = telegram(error)
    assert (found.permanent, found.reason) == (permanent, reason)


@pytest.mark.parametrize("code, permanent, reason", [
    (901, True, "no_permission"), (902, True, "privacy"), (7, True, "no_permission"), (900, True, "blocked"),
    (18, True, "deactivated"), (936, True, "chat_not_found"),
    (6, False, "rate_limited"), (9, False, "rate_limited"), (10, False, "server"), (5, False, "unknown"),
    (100, False, "unknown"),
])
def test_vk_errors(code, permanent, reason):
    found = vk(VKAPIError[code](error_msg="VK says no"))
    assert (found.permanent, found.reason) == (permanent, reason)
    assert str(code) in str(found)


def test_vk_network_failures_are_transient():
    assert vk(ClientConnectionError("reset")).reason == "network"
    assert not vk(TimeoutError()).permanent
