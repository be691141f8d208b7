"""Launch data: only a valid, fresh signature from Telegram or VK (or a demo name, in the demo) gets in."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

import pytest

from journey.channels import Channel, CustomerRef
from journey.engine import Engine
from journey.errors import ErrorCode

DAY = 86400


async def refused(response, language: str = "ru") -> None:
    assert response.status == 401
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "unauthorized", "message": ErrorCode.UNAUTHORIZED.message(language)}


def tamper(header: dict[str, str], key: str, value: str) -> dict[str, str]:
    scheme, _, data = header["Authorization"].partition(" ")
    fields = dict(parse_qsl(data, keep_blank_values=True))
    fields[key] = value
    return {"Authorization": f"{scheme} {urlencode(fields)}"}


async def test_valid_telegram_launch_is_the_telegram_account(client, tma):
    response = await client.get("/api/me", headers=tma(5001))
    assert response.status == 200
    me = await response.json()
    assert me["channels"] == [{"channel": "telegram", "id": "5001"}]
    assert me["name"] == "Анна Тестова"
    assert me["language"] == "ru" and me["is_staff"] is False


@pytest.mark.parametrize("case", ["forged user", "forged hash", "other bot token", "stale", "from the future",
                                  "missing", "empty", "no hash", "garbage", "unknown scheme"])
async def test_bad_telegram_launch_is_401(client, tma, case):
    headers = {
        "forged user": lambda: tamper(tma(5001), "user", '{"id":1,"first_name":"Owner"}'),
        "forged hash": lambda: tamper(tma(5001), "hash", "0" * 64),
        "other bot token": lambda: tma(5001, token="987654321:AAanother-bot"),
        "stale": lambda: tma(5001, age=DAY + 1),
        "from the future": lambda: tma(5001, age=-3600),
        "missing": lambda: {},
        "empty": lambda: {"Authorization": "tma "},
        "no hash": lambda: {"Authorization": "tma " + urlencode(
            {k: v for k, v in parse_qsl(tma(5001)["Authorization"][4:]) if k != "hash"})},
        "garbage": lambda: {"Authorization": "tma %%%&&&==="},
        "unknown scheme": lambda: {"Authorization": "Bearer " + tma(5001)["Authorization"][4:]},
    }[case]()
    await refused(await client.get("/api/me", headers=headers))


async def test_a_launch_just_within_the_max_age_is_accepted(client, tma, vk):
    assert (await client.get("/api/me", headers=tma(5001, age=DAY - 5))).status == 200
    assert (await client.get("/api/me", headers=vk(6001, age=DAY - 5))).status == 200


async def test_the_max_age_comes_from_the_config(make_client, tma):
    client = await make_client(auth_max_age=60)
    await refused(await client.get("/api/me", headers=tma(5001, age=61)))
    assert (await client.get("/api/me", headers=tma(5001, age=30))).status == 200


async def test_valid_vk_launch_is_the_vk_account(client, vk):
    response = await client.get("/api/me", headers=vk(6001, language="en"))
    assert response.status == 200
    me = await response.json()
    assert me["channels"] == [{"channel": "vk", "id": "6001"}]
    assert me["language"] == "en"


async def test_vk_launch_may_be_sent_as_a_whole_url(client, vk):
    query = vk(6001)["Authorization"][3:]
    response = await client.get("/api/me", headers={"Authorization": f"vk https://shop.example/?{query}#pcenter"})
    assert response.status == 200


@pytest.mark.parametrize("case", ["forged user", "forged sign", "other secret", "stale", "other app",
                                  "missing sign", "missing", "repeated key", "no ts"])
async def test_bad_vk_launch_is_401(client, vk, case):
    headers = {
        "forged user": lambda: tamper(vk(6001), "vk_user_id", "6002"),
        "forged sign": lambda: tamper(vk(6001), "sign", "A" * 43),
        "other secret": lambda: vk(6001, secret="not-the-secret"),
        "stale": lambda: vk(6001, age=DAY + 1),
        "other app": lambda: vk(6001, app_id=7654321),
        "missing sign": lambda: {"Authorization": "vk " + urlencode(
            {k: v for k, v in parse_qsl(vk(6001)["Authorization"][3:]) if k != "sign"})},
        "missing": lambda: {},
        "repeated key": lambda: {"Authorization": vk(6001)["Authorization"] + "&vk_user_id=6002"},
        "no ts": lambda: {"Authorization": "vk " + urlencode(
            {k: v for k, v in parse_qsl(vk(6001)["Authorization"][3:]) if k != "vk_ts"})},
    }[case]()
    await refused(await client.get("/api/me", headers=headers))


async def test_unauthorized_is_said_in_the_accept_language(client):
    response = await client.get("/api/orders", headers={"Accept-Language": "en-GB,en;q=0.9"})
    await refused(response, "en")


async def test_demo_header_is_refused_outside_the_demo(client):
    await refused(await client.get("/api/me", headers={"Authorization": "demo anna"}))
    await refused(await client.get("/api/me", headers={"Authorization": "demo staff"}))


async def test_channels_are_refused_when_not_configured(make_client, tma, vk):
    client = await make_client(telegram_token=None, vk_app_secret=None)
    await refused(await client.get("/api/me", headers=tma(5001)))
    await refused(await client.get("/api/me", headers=vk(6001)))


async def test_demo_visitor_and_demo_staff(make_client, db, clock):
    # main puts web:staff among the owners in the demo, which makes it staff everywhere
    engine = Engine(db.uow, owners=[CustomerRef(Channel.WEB, "staff")], clock=clock, reader=db.reading)
    await engine.start()
    client = await make_client(engine, demo=True, telegram_token=None, vk_app_secret=None)
    anna = await (await client.get("/api/me", headers={"Authorization": "demo anna"})).json()
    assert anna["channels"] == [{"channel": "web", "id": "anna"}] and anna["is_staff"] is False
    staff = await (await client.get("/api/me", headers={"Authorization": "demo staff"})).json()
    assert staff["is_staff"] is True and staff["staff_points"] == ["*"]
    orders = await client.get("/api/staff/orders?point=center", headers={"Authorization": "demo staff"})
    assert orders.status == 200
    for bad in ("demo ", "demo a b", "demo " + "x" * 33, "demo <script>"):
        await refused(await client.get("/api/me", headers={"Authorization": bad}))


async def test_public_routes_need_no_launch(client):
    config = await client.get("/api/config")
    assert config.status == 200
    answer = await config.json()
    privacy = answer.pop("privacy")  # personal data: the policy's version is a hash of its text
    assert privacy == {"url": "https://shop.example/privacy", "version": privacy["version"], "required": False}
    assert re.fullmatch("[0-9a-f]{12}", privacy["version"])
    assert answer == {"demo": False, "shop": "Vitrina", "currency": "RUB", "timezone": "Europe/Moscow",
                                   "channels": {"telegram": {"scheme": "tma", "bot": "vitrina_test_bot"},
                                                "vk": {"scheme": "vk", "app_id": 51234567, "group_id": None}},
                                   "public_url": "https://shop.example", "payments": ["counter"],
                                   "receipt_email": False,
                                   "group": {"min_people": 3, "percent": 10, "minutes": 30}}  # group orders
    assert (await client.get("/api/openapi.json")).status == 200
