"""Broadcasts in the engine: whom they reach, their transition table, and the claims that keep anyone from
getting one twice (the chat and the channels are in tests/bot/test_broadcast.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from shop_fixtures import OWNER, customer

from journey.broadcasts import (
    BROADCAST_TRANSITIONS,
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    BroadcastStatus,
    backoff,
    ensure_transition,
)
from journey.channels import Channel, CustomerRef, DeliveryError
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode
from journey.model import CartLine

BOTH = ("telegram", "vk")
LATTE = [CartLine("latte", 1, {"size": ("m",)})]


def vk(n: int) -> CustomerRef:
    return customer(n, Channel.VK)


async def link(engine: Engine, first: CustomerRef, second: CustomerRef) -> None:
    code = await engine.issue_link_code(first)
    await engine.redeem_link_code(second, code.code)


async def rows(engine: Engine, broadcast_id: int) -> dict[str, str]:
    """Each recipient's account and the state of its row."""
    sql = "SELECT channel || ':' || external_id, status FROM broadcast_recipients WHERE broadcast_id = ?"
    async with engine.read() as uow:
        conn = uow.broadcasts._c  # type: ignore[attr-defined]
        if hasattr(conn, "fetch"):  # PostgreSQL (VITRINA_TEST_BACKEND=postgres)
            return {r[0]: r[1] for r in await conn.fetch(sql.replace("?", "$1"), broadcast_id)}
        return dict(conn.execute(sql, (broadcast_id,)).fetchall())


async def stored(engine: Engine, broadcast_id: int):
    async with engine.read() as uow:
        return await uow.broadcasts.get(broadcast_id)


async def started(engine: Engine, text: str = "Новый раф!", channels=BOTH) -> int:
    preview = await engine.draft_broadcast(OWNER, text, channels)
    await engine.confirm_broadcast(OWNER, preview.broadcast.id)
    return preview.broadcast.id


@pytest.mark.parametrize("current", list(BroadcastStatus), ids=lambda s: s.value)
@pytest.mark.parametrize("target", list(BroadcastStatus), ids=lambda s: s.value)
def test_every_change_of_a_broadcast_goes_through_the_table(current, target):
    allowed = {("draft", "sending"), ("draft", "cancelled"), ("sending", "done"), ("sending", "stopped")}
    assert (target in BROADCAST_TRANSITIONS[current]) == ((current.value, target.value) in allowed)
    if (current.value, target.value) in allowed:
        ensure_transition(current, target)
    else:
        with pytest.raises(DomainError) as e:
            ensure_transition(current, target)
        assert e.value.code is ErrorCode.BROADCAST_STATE


async def test_it_reaches_each_person_who_agreed_once_on_one_reachable_account(engine):
    await engine.identify(customer(1))  # Telegram alone
    await engine.identify(vk(2))  # VK alone
    await link(engine, customer(3), vk(3))  # both, no orders: the first channel
    await link(engine, customer(4), vk(4))  # both, ordered last from VK: there
    await engine.place_order(customer(4), LATTE, "center")
    await engine.place_order(vk(4), LATTE, "center")
    await engine.set_consent(customer(5), False)  # sent /stop
    await link(engine, customer(6), vk(6))  # blocked the bot in Telegram: VK
    await engine.mark_unreachable(customer(6), "blocked")
    await engine.identify(customer("anna", Channel.WEB))  # the browser: no messenger

    preview = await engine.draft_broadcast(OWNER, "  Новый раф!  ", BOTH)
    assert preview.per_channel == {"telegram": 2, "vk": 3} and preview.total == 5
    assert preview.broadcast.status is BroadcastStatus.DRAFT and preview.broadcast.text == "Новый раф!"
    assert await rows(engine, preview.broadcast.id) == {}  # nobody is fixed before the owner confirms

    progress = await engine.confirm_broadcast(OWNER, preview.broadcast.id)
    assert progress.total == 5 and progress.pending == 5 and progress.broadcast.status is BroadcastStatus.SENDING
    assert set(await rows(engine, preview.broadcast.id)) == {
        customer(1).key, vk(2).key, customer(3).key, vk(4).key, vk(6).key}

    # only the channels given: a person reachable only elsewhere is left out
    await engine.stop_broadcast(OWNER)
    telegram_only = await engine.draft_broadcast(OWNER, "Только Telegram", ("telegram",))
    assert telegram_only.per_channel == {"telegram": 3}


async def test_the_channels_vitrina_run_recorded_are_used_by_default(engine):
    await engine.identify(customer(1))
    await engine.identify(vk(2))
    assert await engine.broadcast_audience(OWNER) == {}  # nothing recorded: no channel to send through
    await engine.set_broadcast_channels(["vk"])
    assert await engine.broadcast_audience(OWNER) == {"vk": 1}
    assert (await engine.draft_broadcast(OWNER, "Привет")).broadcast.channels == ("vk",)


@pytest.mark.parametrize("text", ["", "   ", "х" * 3501])
async def test_an_empty_or_too_long_text_is_refused_and_nothing_is_kept(engine, text):
    await engine.identify(customer(1))
    with pytest.raises(DomainError) as e:
        await engine.draft_broadcast(OWNER, text, BOTH)
    assert e.value.code is ErrorCode.BROADCAST_TEXT_INVALID
    assert await stored(engine, 1) is None


async def test_confirming_twice_or_a_second_broadcast_at_once_is_refused(engine):
    await engine.identify(customer(1))
    first = await started(engine)
    with pytest.raises(DomainError) as e:
        await engine.confirm_broadcast(OWNER, first)
    assert e.value.code is ErrorCode.BROADCAST_STATE
    second = await engine.draft_broadcast(OWNER, "Ещё одна", BOTH)
    with pytest.raises(DomainError) as e:
        await engine.confirm_broadcast(OWNER, second.broadcast.id)
    assert e.value.code is ErrorCode.BROADCAST_BUSY
    assert (await stored(engine, second.broadcast.id)).status is BroadcastStatus.DRAFT
    assert await rows(engine, second.broadcast.id) == {}

    stopped = await engine.stop_broadcast(OWNER)
    assert stopped.broadcast.status is BroadcastStatus.STOPPED and stopped.pending == 1
    with pytest.raises(DomainError) as e:
        await engine.stop_broadcast(OWNER)
    assert e.value.code is ErrorCode.BROADCAST_NOT_SENDING
    await engine.cancel_broadcast(OWNER, second.broadcast.id)
    with pytest.raises(DomainError) as e:
        await engine.confirm_broadcast(OWNER, second.broadcast.id)
    assert e.value.code is ErrorCode.BROADCAST_STATE
    with pytest.raises(DomainError) as e:
        await engine.confirm_broadcast(OWNER, 999)
    assert e.value.code is ErrorCode.BROADCAST_NOT_FOUND


async def test_nobody_to_send_to_is_refused_at_confirmation(engine):
    await engine.identify(customer(1))
    preview = await engine.draft_broadcast(OWNER, "Привет", BOTH)
    await engine.set_consent(customer(1), False)
    with pytest.raises(DomainError) as e:
        await engine.confirm_broadcast(OWNER, preview.broadcast.id)
    assert e.value.code is ErrorCode.BROADCAST_NO_RECIPIENTS
    assert (await stored(engine, preview.broadcast.id)).status is BroadcastStatus.DRAFT


async def test_only_owners_broadcast_and_a_refusal_changes_nothing(engine):
    await engine.identify(customer(1))
    stranger = customer(1)
    for attempt in (engine.draft_broadcast(stranger, "Скидки!", BOTH), engine.broadcast_audience(stranger, BOTH),
                    engine.broadcast_progress(stranger)):
        with pytest.raises(DomainError) as e:
            await attempt
        assert e.value.code is ErrorCode.NOT_OWNER
    assert await stored(engine, 1) is None

    broadcast_id = await started(engine)
    draft = await engine.draft_broadcast(OWNER, "Черновик", BOTH)
    for attempt in (engine.stop_broadcast(stranger), engine.confirm_broadcast(stranger, draft.broadcast.id),
                    engine.cancel_broadcast(stranger, draft.broadcast.id)):
        with pytest.raises(DomainError) as e:
            await attempt
        assert e.value.code is ErrorCode.NOT_OWNER
    assert (await stored(engine, broadcast_id)).status is BroadcastStatus.SENDING
    assert (await stored(engine, draft.broadcast.id)).status is BroadcastStatus.DRAFT


async def test_confirming_and_stopping_are_in_the_audit_log(engine):
    await engine.identify(customer(1))
    broadcast_id = await started(engine)
    await engine.stop_broadcast(OWNER)
    log = await engine.changes(OWNER)
    assert [(c.action, c.target, c.actor) for c in log[:2]] == [
        ("broadcast_stop", f"broadcast:{broadcast_id}", OWNER.key), ("broadcast", f"broadcast:{broadcast_id}",
                                                                     OWNER.key)]
    assert log[1].after == {"status": "sending", "text": "Новый раф!", "recipients": 1}


async def test_a_recipient_is_claimed_by_one_sender_and_by_none_after_a_stop(engine):
    for n in (1, 2):
        await engine.identify(customer(n))
    broadcast_id = await started(engine)
    first, second = await engine.due_broadcast_recipients(broadcast_id, BOTH)
    assert await engine.claim_broadcast_recipient(first.id) is True
    assert await engine.claim_broadcast_recipient(first.id) is False  # the other sender lost it
    assert [r.id for r in await engine.due_broadcast_recipients(broadcast_id, BOTH)] == [second.id]
    await engine.broadcast_delivered(first.id)
    await engine.stop_broadcast(OWNER)
    assert await engine.due_broadcast_recipients(broadcast_id, BOTH) == []
    assert await engine.claim_broadcast_recipient(second.id) is False
    assert await rows(engine, broadcast_id) == {first.account: "sent", second.account: "pending"}


async def test_a_transient_failure_waits_longer_each_time_and_gives_up(engine, clock):
    await engine.identify(customer(1))
    broadcast_id = await started(engine)
    assert [backoff(n) for n in range(1, 6)] == [timedelta(seconds=s) for s in (5, 20, 80, 320, 600)]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        (recipient,) = await engine.due_broadcast_recipients(broadcast_id, BOTH)
        assert await engine.claim_broadcast_recipient(recipient.id)
        outcome = await engine.broadcast_not_delivered(recipient, DeliveryError.transient("500", "server"))
        if attempt < MAX_ATTEMPTS:
            assert outcome == "pending"
            assert await engine.due_broadcast_recipients(broadcast_id, BOTH) == []  # not before its time
            clock.advance(seconds=backoff(attempt).total_seconds())
    assert outcome == "failed"
    done = await engine.finish_broadcast(broadcast_id)
    assert done.broadcast.status is BroadcastStatus.DONE and (done.sent, done.failed) == (0, 1)
    assert await engine.unreachable_reason(customer(1)) is None  # a server failure says nothing of the person


async def test_a_permanent_failure_marks_the_account_unreachable(engine):
    await engine.identify(customer(1))
    broadcast_id = await started(engine)
    (recipient,) = await engine.due_broadcast_recipients(broadcast_id, BOTH)
    await engine.claim_broadcast_recipient(recipient.id)
    assert await engine.broadcast_not_delivered(recipient, DeliveryError.unreachable("403", "blocked")) == "failed"
    assert await engine.unreachable_reason(customer(1)) == "blocked"
    assert (await engine.finish_broadcast(broadcast_id)).failed == 1


async def test_a_claim_nobody_confirmed_is_never_sent_again(engine, clock):
    for n in (1, 2):
        await engine.identify(customer(n))
    broadcast_id = await started(engine)
    lost, other = await engine.due_broadcast_recipients(broadcast_id, BOTH)
    assert await engine.claim_broadcast_recipient(lost.id)  # ... and the process died before it said how it went
    assert [r.id for r in await engine.due_broadcast_recipients(broadcast_id, BOTH)] == [other.id]
    await engine.claim_broadcast_recipient(other.id)
    await engine.broadcast_delivered(other.id)
    waiting = await engine.finish_broadcast(broadcast_id)  # the claim may still be on its way
    assert waiting.broadcast.status is BroadcastStatus.SENDING and waiting.sending == 1
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    done = await engine.finish_broadcast(broadcast_id)
    assert done.broadcast.status is BroadcastStatus.DONE and (done.sent, done.unconfirmed) == (1, 1)
    assert await engine.due_broadcast_recipients(broadcast_id, BOTH) == []


async def test_each_milestone_is_told_once(engine):
    await engine.identify(customer(1))
    broadcast_id = await started(engine)
    assert await engine.claim_broadcast_milestone(broadcast_id, 25) is True
    assert await engine.claim_broadcast_milestone(broadcast_id, 25) is False
    assert await engine.claim_broadcast_milestone(broadcast_id, 75) is True
    assert await engine.claim_broadcast_milestone(broadcast_id, 50) is False
    assert (await stored(engine, broadcast_id)).reported == 75
