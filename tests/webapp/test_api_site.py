"""Everything around the API: the QR landing page, the OpenAPI document, static files and headers."""
from __future__ import annotations

import re
import shutil

from journey.channels import Channel
from journey.events import EventType
from webapp.config import STATIC_DIR as STATIC


async def visits(engine, param: str) -> int:
    async with engine.read() as uow:
        return await uow.visits.count(param)


async def test_counter_qr_page_records_the_visit_and_offers_three_ways_in(client, engine):
    response = await client.get("/go/pcenter")
    assert response.status == 200 and response.content_type == "text/html"
    html = await response.text()
    assert len(html.encode()) < 3 * 1024
    assert 'href="https://t.me/vitrina_test_bot?start=pcenter"' in html
    assert 'href="https://vk.com/app51234567#pcenter"' in html
    assert 'href="/?start=pcenter"' in html
    assert "Открыть в Telegram" in html and "Открыть во ВКонтакте" in html and "Открыть в браузере" in html
    assert "Open in Telegram" in html and "<script" not in html
    assert await visits(engine, "pcenter") == 1
    async with engine.read() as uow:
        events = await uow.outbox.pending("test")
    recorded = [e.data for e in events if e.type is EventType.VISIT_RECORDED]
    assert recorded == [{"param": "pcenter", "kind": "point", "label": "qr:center",
                         "channel": Channel.WEB.value, "customer_id": None}]


async def test_landing_offers_only_configured_channels(make_client, engine):
    client = await make_client(telegram_bot="", vk_app_id=None)
    html = await (await client.get("/go/s2gis")).text()
    assert "t.me" not in html and "vk.com" not in html and 'href="/?start=s2gis"' in html
    assert await visits(engine, "s2gis") == 1


async def test_unknown_kinds_are_recorded_not_refused(client, engine):
    response = await client.get("/go/zzz_unknown-kind")
    assert response.status == 200
    assert await visits(engine, "zzz_unknown-kind") == 1


async def test_a_param_outside_the_grammar_is_a_polite_404(client, engine):
    for path in ("/go/bad%20param%20with%20spaces", "/go/" + "x" * 65, "/go/%3Cscript%3E"):
        response = await client.get(path)
        assert response.status == 404 and response.content_type == "text/html"
        html = await response.text()
        assert "Такой ссылки нет" in html and "This link does not exist" in html and "<script>" not in html
    async with engine.read() as uow:
        assert await uow.visits.count() == 0


async def test_the_shop_name_is_escaped_and_a_new_name_is_shown_at_once(client, engine):
    await engine.set_rules(name="<b>Кофе & Ко</b>")
    html = await (await client.get("/go/pcenter")).text()
    assert "&lt;b&gt;Кофе &amp; Ко&lt;/b&gt;" in html and "<b>" not in html
    await engine.set_rules(name="Булочная")  # renamed by the owner (/shop name) while the shop runs
    assert (await (await client.get("/api/config")).json())["shop"] == "Булочная"
    assert "Булочная" in await (await client.get("/go/pcenter")).text()


async def test_openapi_describes_every_api_route(client):
    document = await (await client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    registered = set()
    for route in client.server.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/") and route.method != "HEAD":
            registered.add((path, route.method.lower()))
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert registered and registered <= documented
    assert documented <= registered  # and nothing that is not served
    schemas = document["components"]["schemas"]
    assert {"Item", "Order", "Quote", "Me", "Error", "Money", "OrderBody", "CartBody"} <= set(schemas)
    assert schemas["CartLineBody"]["additionalProperties"] is False
    assert schemas["CartLineBody"]["properties"]["quantity"]["maximum"] == 99
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', str(document).replace("'", '"')))
    assert refs <= set(schemas)


async def test_static_files_index_and_headers(make_client, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "latte.svg").write_text("<svg/>")
    shutil.copytree(STATIC / "dist", tmp_path / "dist")  # the built front end (webapp/page.py)
    (tmp_path / "app.js").write_text("console.log('vitrina');\n" * 100)
    client = await make_client(static_dir=tmp_path)

    index = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert index.status == 200 and "<title>Витрина</title>" in await index.text()
    assert index.headers["Cache-Control"] == "no-cache" and index.headers["Content-Encoding"] == "gzip"
    assert index.headers["X-Content-Type-Options"] == "nosniff"
    csp = index.headers["Content-Security-Policy"]
    assert "script-src 'self' https://telegram.org" in csp and "img-src 'self' data: blob:" in csp
    framing = csp.split("frame-ancestors ")[1].split(";")[0].split()
    assert {"'self'", "https://web.telegram.org", "https://vk.com", "https://*.vk.com"} <= set(framing), csp

    script = await client.get("/static/app.js", headers={"Accept-Encoding": "gzip"})
    assert script.status == 200 and script.headers["Content-Encoding"] == "gzip"
    assert (await script.text()).startswith("console.log")
    plain = await client.get("/static/app.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and len(await plain.read()) == 2400
    etag = script.headers["Etag"]
    cached = await client.get("/static/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert cached.status == 304 and await cached.read() == b""
    assert (await client.get("/static/app.js")).status == 200  # the connection survived the 304
    photo = await client.get("/photos/latte.svg")
    assert photo.status == 200 and await photo.text() == "<svg/>"
    assert (await client.get("/static/../conftest.py")).status in (403, 404)


async def test_api_answers_are_compressed_and_not_cached(client, tma):
    response = await client.get("/api/menu?point=center", headers={**tma(5001), "Accept-Encoding": "gzip"})
    # the menu is the same for everyone: the WebView keeps it and revalidates it (ETag, webapp/menu_cache.py)
    assert response.headers["Content-Encoding"] == "gzip" and response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len((await response.json())["items"]) == 4
    me = await client.get("/api/me", headers=tma(5001))
    assert me.headers["Cache-Control"] == "no-store"  # personal data: never kept


async def test_a_missing_front_end_is_a_plain_404(make_client, tmp_path):
    client = await make_client(static_dir=tmp_path / "absent")
    assert (await client.get("/")).status == 404
    assert (await client.get("/api/config")).status == 200
