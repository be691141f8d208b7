"""Personal data (152-FZ) through the Mini App API: consent before the first order, a stale policy refused,
the export of what is kept about the caller (and nobody else), forgetting, and the policy page."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_support import ok, refused

from journey.engine import Engine
from webapp.policy import Policy, PolicyDetails, PolicyError, read_template, render

SCRIPT = "<script>alert(1)</script>"


def policy(**details: object) -> Policy:
    return render(PolicyDetails(**{"shop": "Кофейня", "operator": "ИП Иванова Анна Сергеевна", **details}))  # type: ignore[arg-type]


@pytest.fixture
async def asked(engine: Engine, make_client):
    """The shop as `vitrina run` wires it: consent asked to the version of the policy it serves."""
    shown = policy()
    engine.consent_version = shown.version
    return await make_client(privacy=shown), shown


async def consent(client, headers, version: str) -> dict:
    return await ok(await client.post("/api/consent", json={"version": version}, headers=headers), 201)


async def test_an_order_waits_for_consent(asked, tma, order_body):
    client, shown = asked
    anna = tma(5001, first_name="Анна")
    config = await ok(await client.get("/api/config"))
    assert config["privacy"] == {"url": "https://shop.example/privacy", "version": shown.version, "required": True}
    assert (await ok(await client.get("/api/me", headers=anna)))["consent"] is None
    await refused(await client.post("/api/orders", json=order_body(), headers=anna), 403, "consent_required")
    assert (await ok(await client.get("/api/orders", headers=anna)))["orders"] == []  # nothing was written

    given = await consent(client, anna, shown.version)
    assert given["version"] == shown.version and given["given_at"].startswith("2")
    me = await ok(await client.get("/api/me", headers=anna))
    assert me["consent"] == given
    await ok(await client.post("/api/orders", json=order_body(), headers=anna), 201)


async def test_consent_to_another_text_is_refused(asked, engine, tma, order_body):
    client, shown = asked
    anna = tma(5001, first_name="Анна")
    await refused(await client.post("/api/consent", json={"version": "0123456789ab"}, headers=anna),
                  400, "consent_version_stale")
    await refused(await client.post("/api/consent", json={}, headers=anna), 400, "bad_input")
    await consent(client, anna, shown.version)
    await ok(await client.post("/api/orders", json=order_body(), headers=anna), 201)

    # the owner changes the operator: a new text, a new version; the old consent no longer lets her order
    changed = policy(operator="ООО «Кофе»")
    assert changed.version != shown.version
    engine.consent_version = changed.version
    await refused(await client.post("/api/orders", json=order_body(), headers=anna), 403, "consent_required")
    assert (await ok(await client.get("/api/me", headers=anna)))["consent"]["version"] == shown.version
    await refused(await client.post("/api/consent", json={"version": shown.version}, headers=anna),
                  400, "consent_version_stale")
    await consent(client, anna, changed.version)
    await ok(await client.post("/api/orders", json=order_body(), headers=anna), 201)


async def test_without_asking_nobody_waits(client, engine, tma, order_body):
    """``VITRINA_PRIVACY__ASK_CONSENT=false`` (and an engine embedded without a policy): orders go straight on."""
    assert engine.consent_version is None
    config = await ok(await client.get("/api/config"))
    assert config["privacy"]["required"] is False and config["privacy"]["url"] == "https://shop.example/privacy"
    await ok(await client.post("/api/orders", json=order_body(), headers=tma(5001)), 201)


async def test_export_is_the_callers_own(asked, tma, vk, order_body):
    client, shown = asked
    anna, boris = tma(5001, first_name="Анна"), vk(7002)
    await consent(client, anna, shown.version)
    await consent(client, boris, shown.version)
    hers = await ok(await client.post("/api/orders", json=order_body(), headers=anna), 201)
    cart = {"point": "center", "lines": [{"item": "espresso", "quantity": 3}]}
    his = await ok(await client.post("/api/orders", json={**cart, "payment": "counter"}, headers=boris), 201)

    response = await client.get("/api/me/export", headers=anna)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.json"')
    text = await response.text()
    data = json.loads(text)
    assert data["customer"]["name"].startswith("Анна")
    assert [a["external_id"] for a in data["accounts"]] == ["5001"]
    assert [o["id"] for o in data["orders"]] == [hers["id"]]
    assert [c["version"] for c in data["consents"]] == [shown.version]
    assert his["id"] not in text and "7002" not in text and "espresso" not in text

    # no parameter names anyone: the export is always the caller's, and nobody's without launch data
    assert "Анна" not in await (await client.get("/api/me/export?customer=5001", headers=boris)).text()
    await refused(await client.get("/api/me/export"), 401, "unauthorized")


async def test_forget_then_a_new_customer(asked, tma, vk, order_body):
    client, shown = asked
    anna, boris = tma(5001, first_name="Анна"), vk(7002)
    for who in (anna, boris):
        await consent(client, who, shown.version)
    before = await ok(await client.get("/api/me", headers=anna))
    hers = await ok(await client.post("/api/orders", json=order_body(), headers=anna), 201)
    his = await ok(await client.post("/api/orders", json=order_body(), headers=boris), 201)

    await refused(await client.post("/api/me/forget", headers=anna), 400, "bad_input")
    await refused(await client.post("/api/me/forget", json={"confirm": False}, headers=anna), 400, "bad_input")
    await refused(await client.post("/api/me/forget", json={"confirm": True}), 401, "unauthorized")
    assert (await ok(await client.get("/api/me", headers=anna)))["id"] == before["id"]  # nothing happened yet

    assert await ok(await client.post("/api/me/forget", json={"confirm": True}, headers=anna)) == {"deleted": True}
    data = await ok(await client.get("/api/me/export", headers=anna))
    assert data["customer"] is None and data["orders"] == [] and data["consents"] == []
    assert "Анна" not in json.dumps(data, ensure_ascii=False)
    await refused(await client.get(f"/api/orders/{hers['id']}", headers=anna), 404, "order_not_found")

    again = await ok(await client.get("/api/me", headers=anna))  # the same account comes back: a new customer
    assert again["id"] != before["id"] and again["consent"] is None and again["points"] == 0
    await refused(await client.post("/api/orders", json=order_body(), headers=anna), 403, "consent_required")
    # the other customer keeps everything
    theirs = await ok(await client.get("/api/me/export", headers=boris))
    assert [o["id"] for o in theirs["orders"]] == [his["id"]] and theirs["consents"]


async def test_policy_page_fills_the_owners_details_escaped(engine, make_client):
    shown = policy(operator=SCRIPT + " ООО «Кофе»", operator_details="ИНН 7700000000\nМосква, ул. Примерная, 1",
                   contact_email="privacy@shop.example", inactive_days=365)
    engine.consent_version = shown.version
    client = await make_client(privacy=shown)
    response = await client.get("/privacy")
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    assert "<script" not in page  # the page has no script, and a value never becomes one
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ООО «Кофе»" in page
    assert "ИНН 7700000000<br>Москва, ул. Примерная, 1" in page
    assert "privacy@shop.example" in page and "365 дней" in page and "152-ФЗ" in page
    assert shown.version in page and '<html lang="ru">' in page
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]

    english = await (await client.get("/privacy", headers={"Accept-Language": "en-GB,en;q=0.9,ru;q=0.5"})).text()
    assert '<html lang="en">' in english and "Personal data policy" in english and "365 days" in english
    assert "&lt;script&gt;" in english
    assert '<html lang="en">' in await (await client.get("/privacy?lang=en")).text()
    assert '<html lang="ru">' in await (await client.get("/privacy", headers={"Accept-Language": "ru-RU"})).text()


async def test_policy_page_without_wiring(client, engine):
    """An app built without a policy (embedded) serves the shipped text with the shop's name."""
    await engine.set_rules(name="Кофейня «Зерно»")
    page = await (await client.get("/privacy")).text()
    assert "Политика обработки персональных данных" in page and "магазин «Кофейня «Зерно»»" in page


def test_the_version_follows_the_text():
    assert policy().version == policy().version and len(policy().version) == 12
    assert policy(contact_email="a@shop.example").version != policy().version
    assert policy(inactive_days=30).version != policy(inactive_days=31).version


def test_an_owners_own_policy(tmp_path: Path):
    own = tmp_path / "privacy.html"
    own.write_text("<h1>Политика $shop</h1><p>Оператор: $operator. $retention Цена: 5$$</p>", "utf-8")
    shown = render(PolicyDetails(shop="Кофейня", operator=SCRIPT), read_template(own))
    page = shown.html("en")  # an owner's text is in one language, whatever the browser prefers
    assert "<h1>Политика Кофейня</h1>" in page and "&lt;script&gt;" in page and "Цена: 5$" in page
    assert shown.version != policy(operator=SCRIPT).version

    own.write_text("<p>$operater</p>", "utf-8")
    with pytest.raises(PolicyError, match=r"\$operater"):
        read_template(own)
    own.write_text("<p>50 $</p>", "utf-8")
    with pytest.raises(PolicyError, match=r"\$\$"):
        read_template(own)
    with pytest.raises(PolicyError, match="cannot read"):
        read_template(tmp_path / "missing.html")


async def test_start_renders_the_policy_from_the_settings(engine, tmp_path: Path):
    """What `vitrina run` does with VITRINA_PRIVACY__*: the version consent is asked to, or a clear refusal."""
    from bot.failures import CommandError
    from bot.policy import privacy_policy
    from bot.settings import load_settings

    def settings(**privacy: object):
        return load_settings(webapp={"public_url": "https://coffee.example"}, privacy=privacy)

    shown = await privacy_policy(settings(operator=SCRIPT, contact_email="dpo@coffee.example"), engine)
    assert engine.consent_version == shown.version
    assert "&lt;script&gt;" in shown.text("ru") and "https://coffee.example" in shown.text("ru")
    assert shown == await privacy_policy(settings(operator=SCRIPT, contact_email="dpo@coffee.example"), engine)
    await privacy_policy(settings(operator=SCRIPT, ask_consent=False), engine)
    assert engine.consent_version is None  # the page is served all the same

    own = tmp_path / "policy.html"
    own.write_text("<h1>$operator</h1><p>$bogus</p>", "utf-8")
    with pytest.raises(CommandError, match=r"^VITRINA_PRIVACY__POLICY_FILE: unknown placeholder \$bogus"):
        await privacy_policy(settings(policy_file=str(own)), engine)
    own.write_text("<h1>$operator</h1>", "utf-8")
    assert (await privacy_policy(settings(policy_file=str(own), operator="ООО «Кофе»"), engine)).text("en") == \
        "<h1>ООО «Кофе»</h1>"
