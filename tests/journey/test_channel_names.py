"""A channel is a registered name: well-formed names only, registered ones in settings and commands."""
from __future__ import annotations

import pytest

from journey import channels
from journey.channels import Channel, CustomerRef, register_channel, registered_channels


@pytest.mark.parametrize("bad", ["", "Telegram", "1vk", "v k", "vk:", "ж", "a" * 33, "vk\n"])
def test_a_malformed_channel_name_is_refused(bad):
    with pytest.raises(ValueError, match="channel name"):
        Channel(bad)


def test_a_channel_is_its_name():
    assert Channel("vk") == "vk" == Channel.VK and Channel.VK.value == "vk"
    assert {Channel.TELEGRAM: 1}["telegram"] == 1 and f"{Channel.WEB}" == "web"
    assert Channel(Channel.VK) is Channel.VK


def test_parse_accepts_registered_channels_only(monkeypatch):
    monkeypatch.setattr(channels, "_REGISTERED", set(channels._REGISTERED))  # the registration ends with the test
    assert CustomerRef.parse(" Telegram:42 ") == CustomerRef(Channel.TELEGRAM, "42")
    with pytest.raises(ValueError, match="unknown channel 'icq'"):
        CustomerRef.parse("icq:1")
    for bad in ("telegram", "telegram:", ":5"):
        with pytest.raises(ValueError):
            CustomerRef.parse(bad)
    register_channel("icq")
    assert "icq" in registered_channels()
    assert CustomerRef.parse("icq:1").key == "icq:1"
