"""aiogram's answer classes stay built across full garbage collections (each rebuild stalled the event loop)."""
from __future__ import annotations

import gc
import weakref

from aiogram import methods
from aiogram.methods.base import Response

from adapters.telegram.messenger import ANSWER_CLASSES


def test_the_classes_of_the_bots_calls_outlive_a_full_collection():
    for method in (methods.SendMessage, methods.AnswerCallbackQuery, methods.SendPhoto):
        kept = weakref.ref(Response[method.__returning__])  # type: ignore[name-defined]
        gc.collect()
        assert kept() is not None, method.__name__
        assert kept() in ANSWER_CLASSES

