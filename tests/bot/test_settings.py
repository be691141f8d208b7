"""Settings: defaults, parsing, one clear line naming a bad setting, and .env.example listing every one."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.settings import Settings, SettingsError, load_settings
from journey.channels import Channel, CustomerRef

ROOT = Path(__file__).parents[2]


@pytest.fixture(autouse=True)
def clean(monkeypatch, tmp_path):
    import os
    for key in list(os.environ):
        if key.startswith("VITRINA_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_demo():
    s = load_settings()
    assert s.is_demo and s.database_url == "sqlite:///vitrina.db" and s.sqlite_path() == Path("vitrina.db")
    assert s.webapp.base_url == "http://127.0.0.1:8080" and s.owners == []


def test_nested_and_dotenv(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("VITRINA_WEBAPP__PORT=9000\nVITRINA_TELEGRAM__TOKEN=\n", encoding="utf-8")
    monkeypatch.setenv("VITRINA_OWNERS", "telegram:1, vk:2")
    s = load_settings()
    assert s.webapp.port == 9000 and s.is_demo  # an empty token is no token
    assert s.owners == [CustomerRef(Channel.TELEGRAM, "1"), CustomerRef(Channel.VK, "2")]


@pytest.mark.parametrize("name, value, expected", [
    ("VITRINA_WEBAPP__PORT", "abc", "VITRINA_WEBAPP__PORT: Input should be a valid integer"),
    ("VITRINA_WEBAPP__PORT", "70000", "VITRINA_WEBAPP__PORT: Input should be less than or equal to 65535"),
    ("VITRINA_OWNERS", "icq:1", "VITRINA_OWNERS: unknown channel 'icq'"),
    ("VITRINA_DATABASE_URL", "mysql://x", "VITRINA_DATABASE_URL: expected sqlite"),
    ("VITRINA_VK__TOKEN", "t", "VITRINA_VK__GROUP_ID: a VK token needs the community id"),
    ("VITRINA_TELEGRAM__WEBHOOK_URL", "ftp://x", "VITRINA_TELEGRAM__WEBHOOK_URL: must be an http(s) address"),
    ("VITRINA_VK__CALLBACK_SECRET", "s", "VITRINA_VK__CONFIRMATION_CODE: "),
    ("VITRINA_DATABASE_URL", "sqlite:///", "VITRINA_DATABASE_URL: expected sqlite"),
    ("VITRINA_WEBAPP", "not json", "VITRINA_WEBAPP: expected a JSON object"),
])
def test_a_bad_setting_is_one_line_naming_it(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith(expected) and "\n" not in str(refused.value)


def test_the_bad_value_is_shown_once(monkeypatch):
    monkeypatch.setenv("VITRINA_OWNERS", "telegram")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).count("'telegram'") == 1


@pytest.mark.parametrize("name", ["VITRINA_TELEGRAM__TOKEN", "VITRINA_VK__TOKEN"])
def test_a_channel_token_ends_the_demo(monkeypatch, name):
    monkeypatch.setenv("VITRINA_VK__GROUP_ID", "1")
    assert load_settings().is_demo
    monkeypatch.setenv(name, "t")
    assert not load_settings().is_demo


def test_secrets_are_not_echoed(monkeypatch):
    monkeypatch.setenv("VITRINA_VK__TOKEN", "t0p-secret")
    monkeypatch.setenv("VITRINA_VK__GROUP_ID", "x")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "t0p-secret" not in str(refused.value)


@pytest.mark.parametrize("url, path", [("sqlite:///data/shop.db", Path("data/shop.db")),
                                       ("sqlite:////var/lib/shop.db", Path("/var/lib/shop.db")),
                                       ("sqlite:///:memory:", Path(":memory:")),
                                       ("postgresql://localhost/test", None)])
def test_database_url(monkeypatch, url, path):
    monkeypatch.setenv("VITRINA_DATABASE_URL", url)
    assert load_settings().sqlite_path() == path


def test_plain_http_with_telegram_warns(monkeypatch):
    monkeypatch.setenv("VITRINA_TELEGRAM__TOKEN", "1:x")
    assert "https" in load_settings().warnings()[0]


def env_names(model: type[BaseModel], prefix: str = "VITRINA_") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names += env_names(kind, f"{prefix}{name.upper()}__")
        else:
            names.append(prefix + name.upper())
    return names


def test_env_example_lists_every_setting():
    listed = set(re.findall(r"^#?(VITRINA_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert set(env_names(Settings)) == listed
