"""Operations the way an operator and a load balancer use them: ``/healthz`` says the process is alive,
``/readyz`` whether it should get traffic (the database answers at this code's schema, it is not stopping),
``/metrics`` the numbers in Prometheus' text format, behind a bearer token when one is set."""
from __future__ import annotations

import asyncio
import contextlib

import pytest
from api_support import ok
from pg_support import fresh_schema
from prometheus_client.parser import text_string_to_metric_families
from shop_fixtures import OWNER, seed

from bot import observability
from bot.observability import CountingMessenger, PrometheusMetrics, counting_claims, counting_events
from journey.channels import Channel, CustomerRef, DeliveryError, Reply, Text
from journey.engine import Engine
from journey.events import DomainEvent, EventType
from storage.postgres import PostgresDatabase
from storage.sqlite import SqliteDatabase


def samples(page: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a metrics page by name and labels (the page must parse as Prometheus' text format)."""
    found = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(page: str, name: str, **labels: str) -> float:
    return samples(page).get((name, frozenset(labels.items())), 0.0)


def ops_config(engine: Engine, db, *, stopping: asyncio.Event | None = None, token: str = "",
               metrics: PrometheusMetrics | None = None) -> dict:
    """What ``vitrina run`` gives the Mini App for operations (bot/runner.py)."""
    metrics = metrics or PrometheusMetrics()
    engine.metrics = metrics
    return dict(ready=observability.readiness(db, stopping or asyncio.Event()),
                metrics_page=lambda: observability.metrics_page(engine, metrics, ["notify"]), metrics_token=token)


# --- /healthz and /readyz ---------------------------------------------------------------------------

async def ready_then_not(make_client, engine: Engine, db, set_version, lose) -> None:
    """Ready on a current schema; 503 with the reason on an older or a newer one, and once the database is
    lost (``lose``)."""
    http = await make_client(engine, **ops_config(engine, db))
    assert await ok(await http.get("/healthz")) == {"status": "alive"}
    assert await ok(await http.get("/readyz")) == {"status": "ready"}

    latest = db.latest_version()
    for version in (latest - 1, latest + 1):  # not migrated yet; migrated by a newer release
        await set_version(version)
        answer = await http.get("/readyz")
        assert answer.status == 503
        assert (await answer.json()) == {"status": "not ready", "reason": f"the database schema is at version "
                                         f"{version}, this code expects {latest}"}
        assert (await http.get("/healthz")).status == 200
    await set_version(latest)
    assert (await http.get("/readyz")).status == 200

    await lose()  # the database is gone: alive still (no database call), not ready
    assert await ok(await http.get("/healthz")) == {"status": "alive"}
    answer = await http.get("/readyz")
    assert answer.status == 503 and (await answer.json())["reason"].startswith("the database failed")


async def test_readyz_follows_the_sqlite_database_and_its_schema(make_client, tmp_path, clock):
    db = await SqliteDatabase(tmp_path / "ready.db").connect()
    engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading)
    await engine.start()

    async def set_version(version: int) -> None:
        db.writer.execute(f"PRAGMA user_version = {version}")

    async def lose() -> None:  # the file moved away under the running shop
        (tmp_path / "ready.db").rename(tmp_path / "elsewhere.db")

    await ready_then_not(make_client, engine, db, set_version, lose)
    await db.close()


async def test_readyz_follows_the_postgres_database_and_its_schema(make_client, clock):
    async with fresh_schema() as pg:
        db: PostgresDatabase = pg  # type: ignore[assignment]
        # health and readiness ask nothing of the shop's tables: the engine needs no start here
        engine = Engine(db.uow, secret=b"k", owners=[OWNER], clock=clock, reader=db.reading)

        async def set_version(version: int) -> None:  # what an older or a newer release leaves behind
            await db.pool.execute("DELETE FROM schema_migrations WHERE version > $1", version)
            await db.pool.execute("INSERT INTO schema_migrations (version) VALUES ($1) ON CONFLICT DO NOTHING",
                                  version)
            assert await db.schema_version() == version

        await ready_then_not(make_client, engine, db, set_version, db.close)  # its connections gone


async def test_readyz_is_503_once_the_instance_is_stopping(make_client, engine, db):
    stopping = asyncio.Event()
    http = await make_client(engine, **ops_config(engine, db, stopping=stopping))
    assert (await http.get("/readyz")).status == 200
    stopping.set()  # SIGTERM: the load balancer must stop sending traffic here
    answer = await http.get("/readyz")
    assert answer.status == 503 and await answer.json() == {"status": "not ready", "reason": "stopping"}
    assert (await http.get("/healthz")).status == 200


async def test_readyz_gives_a_database_that_does_not_answer_a_bounded_wait(make_client, engine, monkeypatch):
    class Hanging:
        async def ping(self) -> None:
            await asyncio.Event().wait()

    monkeypatch.setattr(observability, "READY_CHECK_SECONDS", 0.05)
    http = await make_client(engine, **ops_config(engine, Hanging()))
    answer = await http.get("/readyz")
    assert answer.status == 503 and (await answer.json())["reason"] == "the database does not answer"


async def test_health_and_readiness_are_not_cached(make_client, engine, db):
    http = await make_client(engine, **ops_config(engine, db))
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await http.get(path)).headers["Cache-Control"] == "no-store"


# --- /metrics ---------------------------------------------------------------------------------------

async def test_metrics_count_api_requests_and_read_orders_and_the_outbox_from_the_database(
        make_client, engine, db, tma, order_body, clock):
    http = await make_client(engine, **ops_config(engine, db))
    before = await http.get("/metrics")
    assert before.status == 200 and before.content_type == "text/plain"
    assert value(await before.text(), "vitrina_outbox_depth", subscriber="notify") == 0

    await ok(await http.get("/api/menu?point=center", headers=tma(5001)))
    await ok(await http.get("/api/menu?point=center", headers=tma(5001)))
    await ok(await http.post("/api/orders", json=order_body(), headers=tma(5001)), 201)
    assert (await http.get("/api/menu?point=center")).status == 401  # no launch data
    assert (await http.get("/api/orders/no-such-order", headers=tma(5001))).status == 404
    assert (await http.get("/api/nothing-here")).status == 404

    clock.advance(seconds=90)  # the order's events wait for the notifier, which does not run here
    page = await (await http.get("/metrics")).text()
    assert value(page, "vitrina_api_requests_total", channel="telegram", route="/api/menu", status="200") == 2
    assert value(page, "vitrina_api_requests_total", channel="telegram", route="/api/orders", status="201") == 1
    assert value(page, "vitrina_api_requests_total", channel="none", route="/api/menu", status="401") == 1
    assert value(page, "vitrina_api_requests_total", channel="telegram", route="/api/orders/{order_id}",
                 status="404") == 1
    assert value(page, "vitrina_api_requests_total", channel="none", route="unmatched", status="404") == 1
    assert value(page, "vitrina_api_request_seconds_count", route="/api/menu") == 3
    assert not any(name.startswith("vitrina_api") and ("/healthz", "route") in labels
                   for name, labels in samples(page))  # only the API is counted

    assert value(page, "vitrina_orders", status="placed") == 1
    assert value(page, "vitrina_orders", status="accepted") == 0
    depth = value(page, "vitrina_outbox_depth", subscriber="notify")
    assert depth >= 1  # the order's events
    assert value(page, "vitrina_outbox_lag_seconds", subscriber="notify") >= 90
    assert value(page, "vitrina_outbox_dead", subscriber="notify") == 0


async def test_metrics_still_answer_without_the_database_numbers_when_it_cannot_be_read(
        make_client, tmp_path, clock, tma):
    db = await SqliteDatabase(tmp_path / "gone.db").connect()
    engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading)
    await engine.start()
    await seed(engine)
    http = await make_client(engine, **ops_config(engine, db))
    await ok(await http.get("/api/menu?point=center", headers=tma(5001)))
    assert "vitrina_orders{" in await (await http.get("/metrics")).text()
    await db.close()
    answer = await http.get("/metrics")
    assert answer.status == 200
    page = await answer.text()
    assert value(page, "vitrina_api_requests_total", channel="telegram", route="/api/menu", status="200") == 1
    assert "vitrina_orders{" not in page and "vitrina_outbox_depth{" not in page  # absent, not stale


async def test_metrics_ask_for_the_bearer_token_when_one_is_set(make_client, engine, db):
    http = await make_client(engine, **ops_config(engine, db, token="s3cret-metrics-token"))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-metrics-token"},
                    {"Authorization": "Bearer s3cret-metrics-token-and-more"}):
        answer = await http.get("/metrics", headers=headers)
        assert answer.status == 401, headers
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "vitrina_" not in await answer.text()
    answer = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert answer.status == 200 and "vitrina_orders" in await answer.text()
    assert (await http.get("/healthz")).status == 200 and (await http.get("/readyz")).status == 200  # no token


async def test_an_app_without_metrics_has_no_metrics_page(make_client, engine):
    http = await make_client(engine)
    assert (await http.get("/metrics")).status == 404
    assert (await http.get("/readyz")).status == 200  # nothing to check: ready while it serves


async def test_each_app_counts_in_its_own_registry(make_client, tmp_path, clock, tma):
    pages = []
    for name in ("one", "two"):
        db = await SqliteDatabase(tmp_path / f"{name}.db").connect()
        engine = Engine(db.uow, owners=[OWNER], clock=clock, reader=db.reading)
        await engine.start()
        await seed(engine)
        http = await make_client(engine, **ops_config(engine, db))
        for _ in range(1 if name == "one" else 3):
            await ok(await http.get("/api/menu?point=center", headers=tma(5001)))
        pages.append(await (await http.get("/metrics")).text())
        await db.close()
    counts = [value(p, "vitrina_api_requests_total", channel="telegram", route="/api/menu", status="200")
              for p in pages]
    assert counts == [1, 3]


# --- the seams bot/observability.py counts at -------------------------------------------------------

class Flaky:
    """A messenger that fails as it is told to."""

    channel = Channel.TELEGRAM

    def __init__(self) -> None:
        self.failures: list[Exception] = []
        self.sent: list[str] = []

    async def send(self, to: CustomerRef, reply: Reply, key: str = "") -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(reply.text)


async def test_notifications_payments_and_updates_are_counted_where_they_happen():
    metrics = PrometheusMetrics()
    inner = Flaky()
    messenger = CountingMessenger(inner, metrics)
    inner.failures = [DeliveryError("bot was blocked", permanent=True, reason="blocked"),
                      DeliveryError("timeout", permanent=False, reason="network"), RuntimeError("bug")]
    to = CustomerRef(Channel.TELEGRAM, "100")
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017 - each kind of failure passes through as it was
            await messenger.send(to, Text("Готово"))
    await messenger.send(to, Text("Готово"))
    assert inner.sent == ["Готово"] and messenger.channel == Channel.TELEGRAM

    handled: list[int] = []

    async def notifier(event: DomainEvent) -> None:
        if event.id == 2:
            raise DeliveryError("later", permanent=False, reason="network")
        handled.append(event.id or 0)

    counted = counting_events(notifier, metrics)
    for event_id, kind in ((1, EventType.PAYMENT_CAPTURED), (2, EventType.PAYMENT_CAPTURED),
                           (3, EventType.PAYMENT_REFUNDED), (4, EventType.ORDER_PLACED)):
        event = DomainEvent(kind, {"provider": "yookassa", "order_id": "o1"}, id=event_id)
        with contextlib.suppress(DeliveryError):  # tried again later by the relay: counted then, not now
            await counted(event)

    seen = {"1": True, "2": False}

    async def claim(channel: Channel, update_id: str) -> bool:
        return seen[update_id]

    counted_claim = counting_claims(claim, metrics)
    assert await counted_claim(Channel.VK, "1") is True and await counted_claim(Channel.VK, "2") is False

    page = metrics.render().decode()
    assert value(page, "vitrina_notification_failures_total", channel="telegram", kind="permanent",
                 reason="blocked") == 1
    assert value(page, "vitrina_notification_failures_total", channel="telegram", kind="transient",
                 reason="network") == 1
    assert value(page, "vitrina_notification_failures_total", channel="telegram", kind="transient",
                 reason="unknown") == 1
    assert value(page, "vitrina_notifications_sent_total", channel="telegram") == 1
    assert value(page, "vitrina_payments_total", provider="yookassa", status="captured") == 1
    assert value(page, "vitrina_payments_total", provider="yookassa", status="refunded") == 1
    assert value(page, "vitrina_events_handled_total", type="order.placed") == 1
    assert value(page, "vitrina_updates_total", channel="vk", outcome="new") == 1
    assert value(page, "vitrina_updates_total", channel="vk", outcome="duplicate") == 1


def test_a_metric_the_code_does_not_declare_is_refused():
    metrics = PrometheusMetrics()
    with pytest.raises(ValueError, match="no metric 'orderz'"):
        metrics.count("orderz")
    with pytest.raises(ValueError):
        metrics.observe("updates", 1.0)  # a counter, not a histogram


async def test_the_outbox_backlog_counts_what_is_owed_once_and_looks_behind_the_cursor_like_the_relay(engine, clock):
    from datetime import timedelta

    from journey.ports import DeliveryFailure

    async with engine.uow() as uow:
        for n in range(5):
            await uow.outbox.add(DomainEvent(EventType.ORDER_PLACED, {"order_id": f"o{n}"}, clock.now()))
    async with engine.read() as uow:
        ids = [e.id for e in await uow.outbox.pending("notify", 10)]
    first, second, third, fourth, _ = ids
    async with engine.uow() as uow:  # 1 handled, 2 waiting, 3 given up, 4 committed late behind the cursor
        await uow.outbox.mark_handled("notify", first)
        await uow.outbox.record_failure(DeliveryFailure("notify", second, 1, clock.now() + timedelta(minutes=1)))
        await uow.outbox.record_failure(DeliveryFailure("notify", third, 10, clock.now(), "gone", dead=True))
        await uow.outbox.set_cursor("notify", fourth)
    strict = (await engine.outbox_backlog(["notify"]))["notify"]
    assert (strict.depth, strict.dead) == (2, 1)  # the waiting one and the one after the cursor
    behind = (await engine.outbox_backlog(["notify"], lookback=1000))["notify"]
    assert (behind.depth, behind.dead) == (3, 1)  # and the one behind it, neither handled nor owed
    assert behind.oldest == clock.now()
