"""VK's launch check keeps what a string whose sign held says: the same account every time, the age still
checked at each call, refusals never kept, and at most ``KEPT`` strings."""
from __future__ import annotations

from datetime import UTC, datetime

import launch_data
import pytest

import adapters.vk.launch as module
from adapters.vk.launch import VkMiniApp
from journey.errors import DomainError

SECRET, APP_ID, MAX_AGE = "vk-app-secret", 51000002, 86400
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ISSUED = int(NOW.timestamp()) - 60


def test_a_kept_launch_is_still_refused_once_too_old_and_the_kept_ones_are_bounded(monkeypatch):
    monkeypatch.setattr(module, "KEPT", 3)
    app = VkMiniApp(APP_ID, SECRET)
    launch = launch_data.vk_launch_params(6001, ISSUED, secret=SECRET, app_id=APP_ID, language="en")
    first = app.check(launch, NOW, MAX_AGE)
    assert (first.ref.external_id, first.ref.language) == ("6001", "en")
    assert app.check(launch, NOW, MAX_AGE) == first
    with pytest.raises(DomainError):
        app.check(launch, datetime.fromtimestamp(ISSUED + MAX_AGE + 1, UTC), MAX_AGE)
    forged = launch_data.vk_launch_params(6001, ISSUED, secret="another", app_id=APP_ID)
    for _ in range(2):  # a refusal is not kept
        with pytest.raises(DomainError):
            app.check(forged, NOW, MAX_AGE)
    other_app = launch_data.vk_launch_params(6001, ISSUED, secret=SECRET, app_id=APP_ID + 1)
    with pytest.raises(DomainError):
        app.check(other_app, NOW, MAX_AGE)
    for n in range(7000, 7006):
        app.check(launch_data.vk_launch_params(n, ISSUED, secret=SECRET, app_id=APP_ID), NOW, MAX_AGE)
    assert len(app._verified) == 3
    assert app.check(launch, NOW, MAX_AGE) == first
