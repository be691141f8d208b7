"""schemathesis over the served OpenAPI document against the demo app.

Every operation of ``GET /api/openapi.json`` gets requests generated from its schema, as each kind of
caller: a customer (``demo anna``), staff everywhere (``demo staff``), a customer whose Telegram launch data
is signed as Telegram signs it, and someone with no launch data. No answer is a 5xx, every status is one
the document lists for that operation, and every answer (a refusal too: ``{error, message}``) matches its
schema. The document is the one the server builds at this moment, so a route added later is run over too
(tests/webapp/test_openapi_valid.py checks the document has every route). The store is the one the tests
run on (``VITRINA_TEST_BACKEND=postgres``: PostgreSQL). The app runs on a loopback port in a thread of its
own, because schemathesis calls it synchronously; the examples per operation are bounded so that the whole
run takes well under a minute per backend.
"""
from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from launch_data import telegram_init_data
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from shop_fixtures import ITEMS, OWNER, POINTS, FakeClock, seed

from adapters.telegram.launch import TelegramMiniApp
from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.model import CartLine
from storage.sqlite import SqliteDatabase
from webapp import WebappConfig, create_app
from webapp.openapi import document


@schemathesis.check
def valid_input_is_not_bad_input(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                 case: schemathesis.Case) -> bool | None:
    """What the document calls valid gets past the body and query checks: it may still be refused, but for
    what it means (no such item, an empty cart), never as ``bad_input``. This is how the document and the
    request models are kept from drifting apart."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 400:
        return None
    answer = response.json()
    assert answer.get("error") != "bad_input", f"valid per the document, refused: {answer.get('detail')}"
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, valid_input_is_not_bad_input]
# per operation and caller, so that every caller over every operation stays well under a minute per backend:
# the customer and staff in full; the Telegram customer (the same rules, another channel) and the caller
# without launch data (every operation but the public ones stops at 401) need fewer to say all there is
MAX_EXAMPLES, TELEGRAM_EXAMPLES, ANONYMOUS_EXAMPLES = 8, 3, 2
ANNA, STAFF = CustomerRef(Channel.WEB, "anna"), CustomerRef(Channel.WEB, "staff")
BOT_TOKEN = "123456789:AAschema-test-token"
# ids that exist, mixed into what is generated so that requests reach past "not found" now and then
KNOWN: dict[str, list[Any]] = {"point": [p.id for p in POINTS], "item": [i.id for i in ITEMS],
                               "item_id": [i.id for i in ITEMS], "order_id": [], "code": [], "token": [],
                               "options": [{}, {"size": ["m"], "milk": ["oat"]}, {"syrup": ["vanilla", "caramel"]}],
                               "pickup_at": [None], "promo": [None], "points": [0], "payment": ["counter"],
                               "lines": [[{"item": "espresso"}], [{"item": "latte", "options": {"size": ["l"]}}]]}


class FakeQr:
    def svg(self, data: str, caption: str = "") -> bytes:
        return b'<svg xmlns="http://www.w3.org/2000/svg"/>'

    def png(self, data: str, caption: str = "") -> bytes:
        return b"\x89PNG"


class DemoServer:
    """The demo Mini App (``demo <name>`` launches, ``demo staff`` is staff everywhere; Telegram's launch data
    signed with ``BOT_TOKEN`` too) on 127.0.0.1, on SQLite or, with ``VITRINA_TEST_BACKEND=postgres``, on a
    PostgreSQL schema of its own (tests/pg_support.py)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""
        self.clock = FakeClock()
        self.stack = AsyncExitStack()

    async def _database(self) -> Any:
        if os.environ.get("VITRINA_TEST_BACKEND") == "postgres":
            from pg_support import fresh_schema

            return await self.stack.enter_async_context(fresh_schema())
        db = SqliteDatabase(self.path)
        await db.connect()
        self.stack.push_async_callback(db.close)
        return db

    async def _start(self) -> None:
        from aiohttp import web

        self.db = await self._database()
        engine = Engine(self.db.uow, owners=[OWNER, STAFF], clock=self.clock, reader=self.db.reading)
        await engine.start()
        await seed(engine)
        await self._orders(engine)
        config = WebappConfig(demo=True, public_url="http://127.0.0.1", mini_apps=[TelegramMiniApp(BOT_TOKEN)])
        app = create_app(engine, config, FakeQr())
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    @staticmethod
    async def _orders(engine: Engine) -> None:
        """Anna's orders picked up, ready and placed (and one of someone else), for the generated requests
        to find; two open of the three a customer may hold, so that she can still order."""
        for stage in (3, 2, 0):
            view = await engine.place_order(ANNA, [CartLine("espresso")], "center")
            order = view.order
            KNOWN["order_id"].append(order.id)
            KNOWN["code"].append(order.short_code)
            KNOWN["token"].append(view.pickup_token)
            if stage >= 1:
                await engine.accept(STAFF, order.id)
            if stage >= 2:
                await engine.mark_ready(STAFF, order.id)
            if stage >= 3:
                await engine.hand_over(STAFF, order_id=order.id)
        view = await engine.place_order(CustomerRef(Channel.WEB, "bob"), [CartLine("espresso")], "park")
        KNOWN["order_id"].append(view.order.id)

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.stack.aclose()

    def telegram(self) -> str:
        """The Authorization of telegram:5001 launching the Mini App now, by the shop's clock."""
        return "tma " + telegram_init_data(5001, int(self.clock.now().timestamp()), token=BOT_TOKEN)

    def __enter__(self) -> DemoServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)
        return self

    def __exit__(self, *exc: Any) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with DemoServer(tmp_path_factory.mktemp("schema") / "shop.db") as server:
        yield server


# loaded from the function that serves it (pytest 9 has no lazy fixture loading in schemathesis yet);
# test_the_served_document_is_the_one_tested checks that the server answers with exactly this document
schema = schemathesis.openapi.from_dict(document())
# the same without the coverage phase (the boundary values of every field: the customer's run has them, and
# they are refused before anything about the caller matters), for the other callers
quick = schemathesis.openapi.from_dict(document())
quick.config.phases.update(phases=["examples", "fuzzing"])


def test_the_demo_runs_on_the_backend_of_the_run(demo_server: DemoServer) -> None:
    from storage.postgres import PostgresDatabase

    postgres = os.environ.get("VITRINA_TEST_BACKEND") == "postgres"
    assert isinstance(demo_server.db, PostgresDatabase if postgres else SqliteDatabase)


def test_the_served_document_is_the_one_tested(demo_server: DemoServer) -> None:
    with urlopen(f"{demo_server.url}/api/openapi.json") as answer:
        assert json.load(answer) == json.loads(json.dumps(document()))


def _known(value: Any, name: str) -> st.SearchStrategy[Any]:
    # the same type only (or null where the document allows it): what was valid stays valid
    swaps = [known for known in KNOWN.get(name, ()) if known is None or type(known) is type(value)]
    return st.sampled_from([value, *swaps])


def _mixed(values: Any) -> st.SearchStrategy[Any]:
    """``values`` with some of its known names swapped for ids that exist (cart lines too)."""
    if not isinstance(values, dict):
        return st.just(values)
    drawn: dict[str, st.SearchStrategy[Any]] = {name: _known(value, name) for name, value in values.items()}
    if isinstance(values.get("lines"), list):
        drawn["lines"] = st.one_of(st.tuples(*map(_mixed, values["lines"])).map(list), _known(values["lines"], "lines"))
    return st.fixed_dictionaries(drawn)


@quick.hook
@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, parameters: Any) -> st.SearchStrategy[Any]:
    return _mixed(parameters)


@quick.hook
@schema.hook
def flatmap_query(context: schemathesis.HookContext, query: Any) -> st.SearchStrategy[Any]:
    return _mixed(query)


@quick.hook
@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    return _mixed(body)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_to_a_customer_matches_the_document(case: schemathesis.Case, demo_server: DemoServer) -> None:
    """Anna: orders of her own, and Bob's, which she must be told do not exist."""
    case.call_and_validate(base_url=demo_server.url, headers={"Authorization": "demo anna"}, checks=CHECKS)


@pytest.mark.slow
@quick.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_to_staff_matches_the_document(case: schemathesis.Case, demo_server: DemoServer) -> None:
    """``demo staff``: staff everywhere, a customer too."""
    case.call_and_validate(base_url=demo_server.url, headers={"Authorization": "demo staff"}, checks=CHECKS)


@pytest.mark.slow
@quick.parametrize()
@settings(max_examples=TELEGRAM_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_to_a_telegram_launch_matches_the_document(case: schemathesis.Case,
                                                                demo_server: DemoServer) -> None:
    """A customer whose launch data Telegram signed (telegram:5001, signed at the shop's clock)."""
    case.call_and_validate(base_url=demo_server.url, headers={"Authorization": demo_server.telegram()},
                           checks=CHECKS)


@pytest.mark.slow
@quick.parametrize()
@settings(max_examples=ANONYMOUS_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_without_launch_data_matches_the_document(case: schemathesis.Case,
                                                               demo_server: DemoServer) -> None:
    """No Authorization header at all: 401 wherever the document asks for launch data, the public
    operations answered as to anyone."""
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.call_and_validate(base_url=demo_server.url, checks=CHECKS)


# the drifts the run above once found, each as a request a client would send


@pytest.fixture
async def demo(make_client: Any, engine: Engine) -> Any:
    await engine.add_staff(STAFF)
    return await make_client(demo=True, telegram_token=None, vk_app_secret=None)


ANNA_HEADERS, STAFF_HEADERS = {"Authorization": "demo anna"}, {"Authorization": "demo staff"}


async def test_option_groups_keep_their_required_field(demo: Any) -> None:
    document = await (await demo.get("/api/openapi.json")).json()
    assert set(document["components"]["schemas"]["OptionGroup"]["required"]) == {
        "id", "name", "required", "multiple", "options"}
    menu = await (await demo.get("/api/menu", headers=ANNA_HEADERS)).json()
    latte = next(i for i in menu["items"] if i["id"] == "latte")
    assert [(g["id"], g["required"]) for g in latte["options"]] == [("size", True), ("milk", False), ("syrup", False)]


async def test_a_whole_number_written_with_a_point_is_that_number(demo: Any) -> None:
    cart = {"point": "center", "lines": [{"item": "espresso", "quantity": 2.0}], "points": 0.0}
    answer = await demo.post("/api/cart/quote", json=cart, headers=ANNA_HEADERS)
    assert answer.status == 200
    assert (await answer.json())["lines"][0]["quantity"] == 2
    for quantity in (2.5, "2", True):
        line = {"item": "espresso", "quantity": quantity}
        refused = await demo.post("/api/cart/quote", json={**cart, "lines": [line]}, headers=ANNA_HEADERS)
        assert refused.status == 400 and (await refused.json())["error"] == "bad_input"


async def test_a_pickup_body_is_a_token_or_a_code_in_the_document_too(demo: Any) -> None:
    document = await (await demo.get("/api/openapi.json")).json()
    one_of = document["components"]["schemas"]["PickupBody"]["oneOf"]
    assert [branch["required"] for branch in one_of] == [["token"], ["code"]]
    for body in ({}, {"token": None, "code": None}, {"token": "a.b", "code": "1234"}):
        refused = await demo.post("/api/staff/lookup", json=body, headers=STAFF_HEADERS)
        assert refused.status == 400 and (await refused.json())["error"] == "bad_input"


async def test_a_method_the_resource_has_not_is_405_naming_those_it_has(demo: Any) -> None:
    answer = await demo.delete("/api/me", headers=ANNA_HEADERS)
    assert answer.status == 405
    assert set(answer.headers["Allow"].split(",")) >= {"GET", "PATCH"}
    assert set(await answer.json()) == {"error", "message"}
