"""Deployment settings: pydantic-settings, prefix ``VITRINA_``, nested delimiter ``__``, also read from ``.env``.

Shop rules (points rate, opening hours ...) are shop data in the database, not settings. Nothing is read
at import time: call ``load_settings()``.
"""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as _SourceError

from journey.channels import CustomerRef
from journey.limits import Bucket, ShopLimits

PREFIX = "VITRINA_"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# a host name (letters, digits, hyphens; IDN as punycode), maybe with a leading "*." and a port
PHOTO_HOST = re.compile(rf"(?:\*\.)?(?:{_LABEL}\.)*{_LABEL}(?::[0-9]{{1,5}})?")


class SettingsError(Exception):
    """One line naming the offending variable, e.g. ``VITRINA_WEBAPP__PORT: ...``."""


class WebappSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str = ""  # empty: http://<host>:<port>
    auth_max_age: int = Field(86400, gt=0)
    # abuse limits: proxies in front whose X-Forwarded-For names the client (comma-separated addresses or CIDRs);
    # without them the client is the direct peer (webapp/limits.py)
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    # https hosts the menu's photos may come from (the Mini App's CSP img-src): "cdn.example,*.img.example"
    photo_hosts: str = ""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _trusted(cls, value: object) -> object:
        if isinstance(value, str):
            entries = tuple(part.strip() for part in value.split(",") if part.strip())
            for entry in entries:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an address or a CIDR network") from None
            return entries
        return value

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @field_validator("photo_hosts")
    @classmethod
    def _photo_hosts(cls, value: str) -> str:
        hosts = [part.strip().lower() for part in value.split(",") if part.strip()]
        for host in hosts:
            if not PHOTO_HOST.fullmatch(host):
                raise ValueError(f"{host!r} is not a host name: write cdn.example or *.cdn.example (https is "
                                 "implied; no scheme, path, quotes or other wildcards), comma-separated")
        return ",".join(hosts)

    @property
    def photo_sources(self) -> tuple[str, ...]:
        """The CSP sources of the photo hosts: https only."""
        return tuple(f"https://{host}" for host in self.photo_hosts.split(",") if host)


class TelegramSettings(BaseModel):
    token: SecretStr | None = None
    api_base: str = "https://api.telegram.org"
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    provider_token: SecretStr | None = None
    staff_chat_id: int | None = None
    # regulars: the closed chat (a group or supergroup where the bot is an admin allowed to invite) a
    # regular is invited to with a one-person link (createChatInviteLink, member_limit=1)
    regulars_chat_id: int | None = None

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) address")
        return value


class VkSettings(BaseModel):
    token: SecretStr | None = None
    group_id: int | None = None
    app_id: int | None = None
    app_secret: SecretStr | None = None
    api_base: str = "https://api.vk.com/method/"
    callback_secret: SecretStr | None = None
    confirmation_code: str = ""
    staff_peer_id: int | None = None
    # regulars: the closed chat's invitation link (vk.me/join/...), the same for everyone invited: VK has
    # no link limited to one person
    regulars_chat_link: str = ""

    @field_validator("regulars_chat_link")
    @classmethod
    def _regulars_link(cls, value: str) -> str:
        if value and not value.startswith(("https://vk.me/", "https://vk.com/")):
            raise ValueError("must be the chat's invitation link, https://vk.me/join/...")
        return value


class YookassaSettings(BaseModel):
    shop_id: str = ""
    secret_key: SecretStr | None = None
    api_base: str = "https://api.yookassa.ru/v3/"
    # 54-FZ receipts sent through YooKassa (the shop's online cash register is connected there): the checkout
    # then asks for an e-mail, and every line goes with its VAT code (1: no VAT ... 6: 20/120, YooKassa's codes)
    receipts: bool = False
    vat_code: int = Field(1, ge=1, le=12)

    @property
    def configured(self) -> bool:
        return bool(self.shop_id) and self.secret_key is not None


class PrivacySettings(BaseModel):
    """Personal data (152-FZ, journey/privacy.py): consent before the first order, and retention."""

    ask_consent: bool = True  # false: no consent step (a shop that records consent elsewhere; the tests)
    inactive_days: int = Field(0, ge=0)  # 0: off; else customers inactive this many days are anonymized
    # the policy page /privacy (webapp/policy.py): the legal operator ("ИП Иванова Анна Сергеевна", a company;
    # empty: the shop's name), its details (INN, OGRN, address), where requests go (empty: the shop's chat), and
    # an owner-written template (HTML with $operator, $contact ...) instead of the shipped text
    operator: str = Field("", max_length=300)
    operator_details: str = Field("", max_length=1000)
    contact_email: str = Field("", max_length=254)
    policy_file: Path | None = None


class BucketSettings(BaseModel):
    """One abuse limit: ``burst`` requests at once, then ``per_hour`` more an hour; unset: the default."""

    burst: int | None = Field(None, ge=1)
    per_hour: float | None = Field(None, gt=0)


class LimitsSettings(BaseModel):
    """Abuse limits (journey/limits.py, docs/DEPLOY.md "Abuse limits"): token buckets per customer account and
    per client address, e.g. ``VITRINA_LIMITS__ORDERS__BURST=30``, ``VITRINA_LIMITS__ORDERS__PER_HOUR=120``."""

    enabled: bool = True
    orders: BucketSettings = BucketSettings()
    link_codes: BucketSettings = BucketSettings()
    pickup_lookups: BucketSettings = BucketSettings()
    reviews: BucketSettings = BucketSettings()
    messages: BucketSettings = BucketSettings()
    address_api: BucketSettings = BucketSettings()
    address_orders: BucketSettings = BucketSettings()
    address_link_codes: BucketSettings = BucketSettings()
    address_pickup_lookups: BucketSettings = BucketSettings()
    address_reviews: BucketSettings = BucketSettings()

    def shop_limits(self) -> ShopLimits:
        defaults = ShopLimits()
        values: dict[str, Any] = {"enabled": self.enabled}
        for name in type(self).model_fields:
            if name == "enabled":
                continue
            given: BucketSettings = getattr(self, name)
            default: Bucket = getattr(defaults, name)
            values[name] = Bucket(given.burst or default.burst, given.per_hour or default.per_hour)
        return ShopLimits.from_mapping(values)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, env_nested_delimiter="__", env_file=".env",
                                      env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore")

    database_url: str = "sqlite:///vitrina.db"
    # SQLite's PRAGMA synchronous (docs/DEPLOY.md, "Durability"): NORMAL may lose the last commits before a
    # power loss, never corrupting the file; FULL makes every commit durable at the price of an fsync each
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    secret_key: SecretStr | None = None
    owners: Annotated[list[CustomerRef], NoDecode] = []
    webapp: WebappSettings = WebappSettings()
    telegram: TelegramSettings = TelegramSettings()
    vk: VkSettings = VkSettings()
    yookassa: YookassaSettings = YookassaSettings()
    privacy: PrivacySettings = PrivacySettings()
    limits: LimitsSettings = LimitsSettings()  # abuse limits
    # days to keep handled outbox events, processed update ids and wrong link codes before they are pruned
    retention_days: int = Field(30, ge=1)
    # attempts at one notification before it is given up and listed by `vitrina outbox failed`
    delivery_attempts: int = Field(10, ge=1, le=100)
    # seconds between asking the payment providers about every payment still pending or held
    reconcile_seconds: int = Field(300, ge=10)
    # several instances: the send-rate budget they share in Redis (redis://host:6379/0) instead of PostgreSQL
    redis_url: str | None = None
    # operations (docs/DEPLOY.md, "Operations"): logs as JSON lines ("json") or plain text ("plain"); seconds
    # `vitrina run` gives in-flight requests and the current relay and job rounds after SIGTERM; the bearer
    # token /metrics asks for (without one /metrics is open: keep it behind the proxy, which refuses it)
    log_format: Literal["plain", "json"] = "plain"
    shutdown_seconds: float = Field(10.0, gt=0, le=600)
    metrics_token: SecretStr | None = None

    @field_validator("owners", mode="before")
    @classmethod
    def _owners(cls, value: object) -> object:
        if isinstance(value, str):
            return [CustomerRef.parse(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _synchronous(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().upper() in ("NORMAL", "FULL"):
            return value.strip().upper()  # "full" as well as "FULL"
        return value  # refused as written

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:6379/0, rediss://... (TLS) or unix:///path/to/redis.sock")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        no_file = value in ("sqlite:///", "sqlite:////")  # would open the directory itself
        if no_file or not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("expected sqlite:///file.db, sqlite:////absolute/file.db or postgresql://...")
        return value

    @model_validator(mode="after")
    def _channels(self) -> Settings:
        if self.vk.token and not self.vk.group_id:
            raise _Named("vk__group_id", "a VK token needs the community id")
        if self.vk.app_id and not self.vk.app_secret:
            raise _Named("vk__app_secret", "the VK Mini App needs its secure key to check who opens it")
        if self.vk.callback_secret and not self.vk.confirmation_code:
            raise _Named("vk__confirmation_code", "the Callback API needs the confirmation code")
        if self.telegram.webhook_url and not self.telegram.token:
            raise _Named("telegram__token", "a webhook needs the bot token")
        if bool(self.yookassa.shop_id) != (self.yookassa.secret_key is not None):
            missing = "secret_key" if self.yookassa.shop_id else "shop_id"
            raise _Named(f"yookassa__{missing}", "YooKassa needs both the shop id and the secret key")
        if self.telegram.provider_token and not self.telegram.token:
            raise _Named("telegram__token", "a payment provider token needs the bot token")
        if self.telegram.webhook_url and not self.telegram.webhook_secret:
            raise _Named("telegram__webhook_secret", "a webhook needs a secret, so nobody else can post updates")
        return self

    @property
    def is_demo(self) -> bool:
        """No channel configured, neither a bot token nor a Mini App secret: the demo in an ordinary browser.
        The registered channels decide what configures them (bot/channels.py), so a third one counts too."""
        from .channels import is_demo

        return is_demo(self)

    def sqlite_path(self) -> Path | None:
        """``sqlite:///x.db`` -> ``x.db`` (relative to the working directory), ``sqlite:////abs`` -> ``/abs``,
        ``sqlite:///:memory:`` -> ``:memory:``; None for PostgreSQL."""
        if not self.database_url.startswith("sqlite:///"):
            return None
        return Path(self.database_url[len("sqlite:///"):])

    def warnings(self) -> list[str]:
        found = []
        if self.telegram.token and not self.webapp.base_url.startswith("https://"):
            found.append("VITRINA_WEBAPP__PUBLIC_URL is plain http: Telegram needs https for Mini App buttons")
        if self.privacy.ask_consent and not (self.privacy.operator or self.privacy.policy_file) and not self.is_demo:
            found.append("VITRINA_PRIVACY__OPERATOR is not set: the privacy policy names the shop instead of the "
                         "operator of personal data (152-FZ)")
        return found


class _Named(ValueError):
    """A cross-field error that names the setting it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except _SourceError as e:
        # raised before validation when a section given whole as JSON (VITRINA_WEBAPP='{...}') does not parse
        field = e.args[0].split('"')[1] if e.args and e.args[0].count('"') >= 2 else "settings"
        raise SettingsError(f"{PREFIX}{field.upper()}: expected a JSON object or the nested variables") from None
    except _Named as e:
        raise SettingsError(f"{PREFIX}{e.field.upper()}: {e}") from None
    except ValidationError as e:
        error = e.errors()[0]
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, _Named):
            raise SettingsError(f"{PREFIX}{cause.field.upper()}: {cause}") from None
        loc = [str(part) for part in error["loc"] if not str(part).isdigit()]
        name = PREFIX + "__".join(loc).upper() if loc else PREFIX + "SETTINGS"
        value = error.get("input")
        message = error["msg"].removeprefix("Value error, ")
        secret = "token" in name.lower() or "secret" in name.lower()
        shown = "" if isinstance(value, dict) or secret or repr(value) in message else f" (got {value!r})"
        raise SettingsError(f"{name}: {message}{shown}") from None
