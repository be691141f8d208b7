"""What an operator of ``vitrina run`` sees: logs (plain or JSON lines, with secrets and personal data taken
out), the numbers ``/metrics`` serves (Prometheus' text format, one registry per process), and whether this
instance is ready for traffic (``/readyz``).

The journey counts through its ``Metrics`` port and knows nothing of Prometheus; this module is the port's
implementation and wraps the few seams where the rest is seen: update claims (updates per channel), the
messengers (notifications sent and failed, by kind), the outbox subscriber (payment outcomes as their events
are handled, once per event across instances). Gauges that describe the database (open orders by status,
outbox depth and lag) are read from it when ``/metrics`` is asked, never kept in the process.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import SecretStr

from journey.channels import Channel, CustomerRef, DeliveryError, Reply, registered_channels
from journey.engine import Engine
from journey.events import DomainEvent
from journey.operations import Backlog
from journey.ports import Messenger

from .settings import Settings

log = logging.getLogger(__name__)
READY_CHECK_SECONDS = 3.0  # /readyz: a database that takes longer is not ready

# --- logs ------------------------------------------------------------------------------------------

REDACTED = "[redacted]"
# a Telegram bot token, alone or inside an API address (…/bot123456:AA…/sendMessage)
_BOT_TOKEN = re.compile(r"(?<![0-9])[0-9]{3,}:[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])")
# a header or field carrying credentials: Authorization, the launch data's schemes, tokens in query strings
_AUTHORIZATION = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\n]*")
_LAUNCH_SCHEME = re.compile(r"(?i)\b(tma)(\s+)[^\s'\"]*=[^\s'\"]*")  # "tma query_id=...&user=...&hash=..."
_LAUNCH_FIELDS = re.compile(r"(?i)(?<![A-Za-z0-9_])((?:vk_[a-z_]+|sign|hash|signature|query_id|user|receiver|chat"
                            r"|auth_date|start_param|chat_instance|access_token|secret|init_?data|token)"
                            r"\s*=\s*)[^&\s'\"]+")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s/]+@")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])\+?[78][\s(-]*9\d{2}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)|\+\d{10,15}(?!\d)")


class Redactor(logging.Filter):
    """Takes out of every record, before any handler formats it: bot tokens (also inside API addresses), the
    ``Authorization`` header and Mini App launch data (Telegram's initData fields, VK's ``vk_*`` and
    ``sign``), the secrets of the settings, a password in a database address, e-mail addresses and phone
    numbers; and puts a keyed pseudonym in place of each account (``telegram:123`` -> ``telegram:~3f9a0c1b``),
    the same in every instance with the same secret, so one customer's lines still go together.

    Names cannot be recognised in text: the code logs ids, never names (tests/bot/test_ops_logs.py runs a
    journey and looks for the customer's name in the log).
    """

    def __init__(self, secrets: Iterable[str] = (), key: bytes = b"") -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        self.key = key
        channels = "|".join(re.escape(c.value) for c in registered_channels())
        self._account = re.compile(rf"\b({channels}):(-?[\w.-]+)")

    def pseudonym(self, match: re.Match[str]) -> str:
        digest = hmac.new(self.key, f"{match[1]}:{match[2]}".encode(), hashlib.sha256).hexdigest()
        return f"{match[1]}:~{digest[:8]}"

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _BOT_TOKEN.sub(REDACTED, text)
        text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
        text = _AUTHORIZATION.sub(rf"\1{REDACTED}", text)
        text = _LAUNCH_SCHEME.sub(rf"\1\2{REDACTED}", text)
        text = _LAUNCH_FIELDS.sub(rf"\1{REDACTED}", text)
        text = _EMAIL.sub("[e-mail]", text)
        text = _PHONE.sub("[phone]", text)
        return self._account.sub(self.pseudonym, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: log what there is
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and, when there
    is one, ``exception`` (the traceback as one string)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def setting_secrets(settings: Settings) -> list[str]:
    """Every secret the settings hold (tokens, keys, the database password), to be taken out of the logs."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif hasattr(value, "__pydantic_fields__"):
            for name in type(value).__pydantic_fields__:
                walk(getattr(value, name))

    walk(settings)
    password = re.match(r"[a-z0-9+.-]+://[^:/@]+:([^@/]+)@", settings.database_url)
    if password:
        found.append(password[1])
    return found


class _Handler(logging.StreamHandler):
    """The handler ``setup_logging`` installs (a second call replaces it, and nobody else's)."""


def setup_logging(settings: Settings, key: bytes = b"", stream: Any = None) -> logging.Handler:
    """The root logger writes to stderr: JSON lines with ``VITRINA_LOG_FORMAT=json``, else plain lines; every
    record passes the redactor first (a filter on the handler, so the libraries' records pass it too)."""
    handler = _Handler(stream or sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redactor(setting_secrets(settings), key))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # vkbottle gives its logger a console handler of its own when imported (coloured and not redacted, so a
    # record carrying an id or a request would leave unredacted, and JSON logs get foreign lines); its records
    # reach this handler anyway. A handler there beforehand keeps it from adding one; one added before is gone.
    logging.getLogger("vkbottle").handlers = [logging.NullHandler()]
    logging.captureWarnings(True)
    return handler


# --- metrics ---------------------------------------------------------------------------------------

class PrometheusMetrics:
    """The journey's ``Metrics`` port on a registry of this process's own (never the library's global one: a
    test runs several apps in one process). Each name is declared here once with its labels."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._counters: dict[str, Counter] = {
            "updates": Counter("vitrina_updates", "Updates from the channels, by channel; outcome new or duplicate"
                               " (a redelivery already handled, by this or another instance)",
                               ["channel", "outcome"], registry=r),
            "api_requests": Counter("vitrina_api_requests", "Mini App API requests by channel, route and status",
                                    ["channel", "route", "status"], registry=r),
            "notifications": Counter("vitrina_notifications_sent", "Messages sent to customers and staff chats,"
                                     " by channel", ["channel"], registry=r),
            "notification_failures": Counter(
                "vitrina_notification_failures", "Messages that could not be sent, by channel, kind (transient:"
                " tried again later; permanent: the account cannot be reached) and reason",
                ["channel", "kind", "reason"], registry=r),
            "payments": Counter("vitrina_payments", "Payment outcomes by provider and status, counted as their"
                                " events are handled (once per event across instances)",
                                ["provider", "status"], registry=r),
            "events": Counter("vitrina_events_handled", "Domain events the notifier handled, by type",
                              ["type"], registry=r),
        }
        self._histograms: dict[str, Histogram] = {
            "api_seconds": Histogram("vitrina_api_request_seconds", "Seconds a Mini App API request took, by route",
                                     ["route"], registry=r),
        }
        self._gauges: dict[str, Gauge] = {
            "orders": Gauge("vitrina_orders", "Orders in each open status now (read from the database)",
                            ["status"], registry=r),
            "outbox_depth": Gauge("vitrina_outbox_depth", "Events a subscriber has not handled yet (new, or"
                                  " waiting for another attempt)", ["subscriber"], registry=r),
            "outbox_lag": Gauge("vitrina_outbox_lag_seconds", "Age of the oldest event a subscriber has not handled"
                                " yet (0 when none)", ["subscriber"], registry=r),
            "outbox_dead": Gauge("vitrina_outbox_dead", "Events a subscriber gave up (vitrina outbox failed)",
                                 ["subscriber"], registry=r),
        }

    def _pick(self, kind: dict[str, Any], name: str, labels: dict[str, str]) -> Any:
        try:
            metric = kind[name]
        except KeyError:
            raise ValueError(f"no metric {name!r} of this kind (bot/observability.py)") from None
        return metric.labels(**labels) if labels else metric

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        self._pick(self._counters, name, labels).inc(amount)

    def observe(self, name: str, value: float, **labels: str) -> None:
        self._pick(self._histograms, name, labels).observe(value)

    def set(self, name: str, value: float, **labels: str) -> None:
        self._pick(self._gauges, name, labels).set(value)

    def forget(self, *names: str) -> None:
        """Drop every labelled value of these gauges: absent until set again."""
        for name in names:
            self._gauges[name].clear()

    def render(self) -> bytes:
        return generate_latest(self.registry)


DATABASE_GAUGES = ("orders", "outbox_depth", "outbox_lag", "outbox_dead")


async def metrics_page(engine: Engine, metrics: PrometheusMetrics, subscribers: Iterable[str],
                       lookback: int = 0) -> bytes:
    """``/metrics``: the gauges read from the database now, then everything in the text format. When the
    database cannot be read (within a few seconds) the page still comes, without those gauges rather than
    with stale numbers (Prometheus sees them absent; /readyz says why)."""
    try:
        orders, backlogs = await asyncio.wait_for(_database_numbers(engine, list(subscribers), lookback),
                                                  READY_CHECK_SECONDS)
    except Exception as e:
        log.warning("metrics: the database numbers could not be read (%s)", type(e).__name__)
        metrics.forget(*DATABASE_GAUGES)
        return metrics.render()
    for status, count in orders.items():
        metrics.set("orders", count, status=status)
    now = engine.now()
    for name, backlog in backlogs.items():
        metrics.set("outbox_depth", backlog.depth, subscriber=name)
        lag = (now - backlog.oldest).total_seconds() if backlog.oldest is not None else 0.0
        metrics.set("outbox_lag", max(lag, 0.0), subscriber=name)
        metrics.set("outbox_dead", backlog.dead, subscriber=name)
    return metrics.render()


async def _database_numbers(engine: Engine, subscribers: list[str],
                            lookback: int) -> tuple[dict[str, int], dict[str, Backlog]]:
    return await engine.open_order_counts(), await engine.outbox_backlog(subscribers, lookback)


def counting_claims(claim: Callable[[Channel, str], Awaitable[bool]],
                    metrics: PrometheusMetrics) -> Callable[[Channel, str], Awaitable[bool]]:
    """Update de-duplication that counts each update by channel, new or a duplicate."""

    async def counted(channel: Channel, update_id: str) -> bool:
        new = await claim(channel, update_id)
        metrics.count("updates", channel=channel.value, outcome="new" if new else "duplicate")
        return new

    return counted


class CountingMessenger:
    """A messenger that counts what it sent and what failed, by kind and reason; otherwise the one it wraps."""

    def __init__(self, inner: Messenger, metrics: PrometheusMetrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.channel = inner.channel

    async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None:
        channel = self.channel.value
        try:
            await self.inner.send(to, reply, key)
        except DeliveryError as e:
            self.metrics.count("notification_failures", channel=channel,
                               kind="permanent" if e.permanent else "transient", reason=e.reason or "unknown")
            raise
        except Exception:
            self.metrics.count("notification_failures", channel=channel, kind="transient", reason="unknown")
            raise
        self.metrics.count("notifications", channel=channel)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def counting_events(handler: Callable[[DomainEvent], Awaitable[None]],
                    metrics: PrometheusMetrics) -> Callable[[DomainEvent], Awaitable[None]]:
    """The outbox subscriber, counting each event it is done with (handled, or given up on an account that
    cannot be reached): by type, and payment outcomes by provider and status."""

    def done(event: DomainEvent) -> None:
        kind = event.type.value
        metrics.count("events", type=kind)
        if kind.startswith("payment."):
            metrics.count("payments", provider=str(event.data.get("provider") or "unknown"),
                          status=kind.removeprefix("payment."))

    async def counted(event: DomainEvent) -> None:
        try:
            await handler(event)
        except DeliveryError as e:
            if e.permanent:
                done(event)
            raise
        done(event)

    for name in ("name", "messengers", "staff_chats", "invitations"):  # what the runner reads of the notifier
        if hasattr(handler, name):
            setattr(counted, name, getattr(handler, name))
    return counted


# --- readiness -------------------------------------------------------------------------------------

def readiness(database: Any, stopping: asyncio.Event) -> Callable[[], Awaitable[str | None]]:
    """``/readyz``: None when this instance should get traffic, else why not: it is stopping, the database
    does not answer (within a few seconds), or its schema is not the one this code's migrations make."""

    async def check() -> str | None:
        if stopping.is_set():
            return "stopping"
        if database is None:
            return None
        try:
            version = await asyncio.wait_for(database.ping(), READY_CHECK_SECONDS)  # reads the schema's version
        except TimeoutError:
            return "the database does not answer"
        except Exception as e:  # the reason is for the operator; no address or password is in it
            log.warning("readiness: the database failed: %s", type(e).__name__)
            return f"the database failed ({type(e).__name__})"
        latest = database.latest_version()
        if version != latest:
            return f"the database schema is at version {version}, this code expects {latest}"
        return None

    return check
