"""``POST /api/me/messages``: the customer's answer to "allow messages from the shop?" is recorded; a refusal
means nothing unsolicited goes to that account until it writes again or reopens the Mini App."""
from __future__ import annotations

import pytest

from journey.channels import Channel, CustomerRef

ANNA = CustomerRef(Channel.VK, "7001")


async def test_a_refusal_and_a_permission_are_recorded(client, engine, vk):
    refused = await client.post("/api/me/messages", json={"allowed": False}, headers=vk(7001))
    assert refused.status == 200 and await refused.json() == {"allowed": False}
    assert await engine.unreachable_reason(ANNA) == "declined"

    allowed = await client.post("/api/me/messages", json={"allowed": True}, headers=vk(7001))
    assert allowed.status == 200 and await allowed.json() == {"allowed": True}
    assert await engine.unreachable_reason(ANNA) is None


async def test_reopening_the_mini_app_makes_a_blocked_account_reachable(client, engine, vk):
    await client.get("/api/me", headers=vk(7001))
    await engine.mark_unreachable(ANNA, "no_permission")
    assert (await client.get("/api/me", headers=vk(7001))).status == 200
    assert await engine.unreachable_reason(ANNA) is None


@pytest.mark.parametrize("body", [{}, {"allowed": "yes"}, {"allowed": 1}, {"allowed": True, "peer": 5}, None])
async def test_a_malformed_answer_is_refused_and_changes_nothing(client, engine, vk, body):
    await engine.mark_unreachable(ANNA, "no_permission")
    answer = await client.post("/api/me/messages", json=body, headers=vk(7001))
    assert answer.status == 400 and (await answer.json())["error"] == "bad_input"
    assert await engine.unreachable_reason(ANNA) == "no_permission"


async def test_nobody_records_an_answer_for_someone_else(client, engine):
    await engine.mark_unreachable(ANNA, "no_permission")
    answer = await client.post("/api/me/messages", json={"allowed": True}, headers={"Authorization": "vk forged"})
    assert answer.status == 401
    assert await engine.unreachable_reason(ANNA) == "no_permission"
