"""The storage contract of referrals: one live invitation per invitee, what the cap counts, merging."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from storage_data import NOON, add_customer, race

from journey.errors import DomainError
from journey.referrals import Referral, ReferralStatus


def invitation(n: int, invitee: str, referrer: str, minutes: int = 0) -> Referral:
    at = NOON + timedelta(minutes=minutes)
    return Referral(f"ref_{n}", invitee, referrer, f"code{n}", ReferralStatus.PENDING, at, at)


@pytest.fixture
async def people(uow_factory):
    for n in range(1, 5):
        await add_customer(uow_factory, n)
    return uow_factory


async def test_an_invitation_is_stored_and_read_back_whole(people):
    first = invitation(1, "c_2", "c_1")
    async with people() as uow:
        await uow.referrals.add(first)
    rewarded = replace(first, status=ReferralStatus.REWARDED, order_id="o_1", invitee_points=100,
                       referrer_points=100, updated_at=NOON + timedelta(hours=1), rewarded_at=NOON + timedelta(hours=1))
    async with people() as uow:
        await uow.referrals.update(rewarded)
    async with people.reading() as uow:
        assert await uow.referrals.for_invitee("c_2") == [rewarded]
        assert await uow.referrals.of_referrer("c_1") == [rewarded]
        assert await uow.referrals.for_invitee("c_1") == [] and await uow.referrals.of_referrer("c_2") == []


async def test_one_live_invitation_per_invitee(people):
    async with people() as uow:
        await uow.referrals.add(invitation(1, "c_2", "c_1"))
    with pytest.raises(DomainError):
        async with people() as uow:
            await uow.referrals.add(invitation(2, "c_2", "c_3"))
    async with people() as uow:  # a void one does not count
        await uow.referrals.update(replace(invitation(1, "c_2", "c_1"), status=ReferralStatus.VOID))
        await uow.referrals.add(invitation(2, "c_2", "c_3", minutes=1))
    async with people.reading() as uow:
        assert [r.status for r in await uow.referrals.for_invitee("c_2")] == [ReferralStatus.VOID,
                                                                             ReferralStatus.PENDING]


async def test_the_cap_counts_rewarded_friends_since_then(people):
    month = NOON.replace(day=1, hour=0)
    async with people() as uow:
        for n, (invitee, status, at) in enumerate([("c_2", ReferralStatus.REWARDED, NOON),
                                                   ("c_3", ReferralStatus.CAPPED, NOON),
                                                   ("c_4", ReferralStatus.REWARDED, month - timedelta(days=2))]):
            await uow.referrals.add(replace(invitation(n, invitee, "c_1"), status=status, rewarded_at=at))
    async with people.reading() as uow:
        assert await uow.referrals.rewarded_since("c_1", month) == 1
        assert await uow.referrals.rewarded_since("c_1", month - timedelta(days=3)) == 2
        assert await uow.referrals.rewarded_since("c_2", month) == 0


async def test_reassign_moves_both_sides(people):
    async with people() as uow:
        await uow.referrals.add(invitation(1, "c_2", "c_1"))
        await uow.referrals.add(invitation(2, "c_3", "c_2", minutes=1))
        await uow.referrals.reassign("c_2", "c_4")
    async with people.reading() as uow:
        assert [r.id for r in await uow.referrals.for_invitee("c_4")] == ["ref_1"]
        assert [r.id for r in await uow.referrals.of_referrer("c_4")] == ["ref_2"]
        assert await uow.referrals.for_invitee("c_2") == [] and await uow.referrals.of_referrer("c_2") == []


# --- several instances at once (PostgreSQL; SQLite runs them one after the other) ---------------------------

def reward(invitee: str, cap: int = 0):
    """What a friend's first pickup does: the live pending invitation is rewarded, capped at the month's cap."""
    async def rewarding(uow):
        live = [r for r in await uow.referrals.for_invitee(invitee) if r.status is not ReferralStatus.VOID]
        if not live or live[0].status is not ReferralStatus.PENDING:
            return "not pending"
        capped = bool(cap) and await uow.referrals.rewarded_since(live[0].referrer_id, NOON.replace(day=1)) >= cap
        status = ReferralStatus.CAPPED if capped else ReferralStatus.REWARDED
        await uow.referrals.update(replace(live[0], status=status, invitee_points=100,
                                           referrer_points=0 if capped else 100, rewarded_at=NOON))
        return status
    return rewarding


def invite(invitee: str, referrer: str, n: int):
    """What opening a friend's link does: a person never invited before is invited."""
    async def inviting(uow):
        if await uow.referrals.for_invitee(invitee):
            return "invited before"
        await uow.referrals.add(invitation(n, invitee, referrer))
        return "invited"
    return inviting


async def test_a_friend_rewarded_once_when_two_pickups_come_at_once(people):
    async with people() as uow:
        await uow.referrals.add(invitation(1, "c_2", "c_1"))
    assert await race(people, reward("c_2"), reward("c_2")) == [ReferralStatus.REWARDED, "not pending"]


async def test_two_friends_rewarded_at_once_count_toward_the_cap_one_after_the_other(people):
    async with people() as uow:
        await uow.referrals.add(invitation(1, "c_2", "c_1"))
        await uow.referrals.add(invitation(2, "c_3", "c_1"))
    assert await race(people, reward("c_2", cap=1), reward("c_3", cap=1)) == [ReferralStatus.REWARDED,
                                                                              ReferralStatus.CAPPED]
    async with people.reading() as uow:
        assert await uow.referrals.rewarded_since("c_1", NOON.replace(day=1)) == 1


async def test_one_person_invited_by_two_links_at_once_is_invited_once(people):
    assert await race(people, invite("c_2", "c_1", 1), invite("c_2", "c_3", 2)) == ["invited", "invited before"]
    async with people.reading() as uow:
        assert [r.referrer_id for r in await uow.referrals.for_invitee("c_2")] == ["c_1"]


def test_invitations_made_before_the_table_are_carried_over(tmp_path):
    """SQLite only (the migration itself): customers.referred_by becomes a row per invitation, rewarded
    when the friend's bonus reached the ledger, void when the first pickup passed without it."""
    import sqlite3

    from storage.sqlite.database import _apply_migrations, _migrations

    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    _apply_migrations(conn, [m for m in _migrations() if m[0] < 11])
    at = "2026-11-18T09:00:00.000000+00:00"
    for cid, code, by in (("c_1", "A1", None), ("c_2", "B2", "c_1"), ("c_3", "C3", "c_1"), ("c_4", "D4", "c_1")):
        conn.execute("INSERT INTO customers (id, referral_code, referred_by, created_at) VALUES (?, ?, ?, ?)",
                     (cid, code, by, at))
    for oid, cid in (("o_2", "c_2"), ("o_3", "c_3")):
        conn.execute("INSERT INTO orders (id, customer_id, point_id, status, lines, currency, subtotal, discount,"
                     " points_spent, total, payment_provider, short_code, pickup_at, created_at, updated_at)"
                     " VALUES (?, ?, 'center', 'picked_up', '[]', 'RUB', 100, 0, 0, 100, 'counter', '1', ?, ?, ?)",
                     (oid, cid, at, at, at))
    for cid in ("c_2", "c_1"):  # the old reward: both, for the friend's order
        conn.execute("INSERT INTO ledger (customer_id, delta, reason, order_id, at) VALUES (?, 10000, 'referral',"
                     " 'o_2', ?)", (cid, at))
    _apply_migrations(conn, _migrations())
    found = conn.execute("SELECT invitee_id, referrer_id, code, status, order_id, invitee_points, referrer_points"
                         " FROM referrals ORDER BY invitee_id").fetchall()
    assert found == [("c_2", "c_1", "A1", "rewarded", "o_2", 10000, 10000),
                     ("c_3", "c_1", "A1", "void", None, 0, 0),
                     ("c_4", "c_1", "A1", "pending", None, 0, 0)]
    conn.close()
