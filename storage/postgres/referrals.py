"""PostgreSQL storage of referrals (journey/referrals.py): one live invitation per invitee.

Two instances deciding on one invitee's invitation at once (two first pickups, a link opened twice, a
merge) take turns on a named lock per invitee, taken before the invitations are read, so the second reads
what the first wrote, an invitation added meanwhile too, where a row lock alone finds nothing to hold
on to. The monthly cap counts an inviter's rewarded friends under a lock per inviter: two friends'
first pickups at once are counted one after the other, never both under the cap.
"""
from __future__ import annotations

from datetime import datetime

from journey.referrals import Referral

from .. import rows
from ..rows import ts
from .base import PgRepo


class PgReferrals(PgRepo):
    async def add(self, referral: Referral) -> None:
        r = referral
        await self._write(f"INSERT INTO referrals ({rows.REFERRAL_COLUMNS}"
                          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                          r.id, r.invitee_id, r.referrer_id, r.code, r.status.value, r.order_id, r.invitee_points,
                          r.referrer_points, ts(r.created_at), ts(r.updated_at), ts(r.rewarded_at))

    async def update(self, referral: Referral) -> None:
        r = referral
        await self._write("UPDATE referrals SET status = $1, order_id = $2, invitee_points = $3, referrer_points = $4,"
                          " updated_at = $5, rewarded_at = $6 WHERE id = $7",
                          r.status.value, r.order_id, r.invitee_points, r.referrer_points, ts(r.updated_at),
                          ts(r.rewarded_at), r.id)

    async def for_invitee(self, invitee_id: str) -> list[Referral]:
        # the engine decides on what it reads here (attribute, reward, void): the invitee's turn first
        await self._lock_key(f"referral-invitee:{invitee_id}")
        found = await self._c.fetch(f"SELECT {rows.REFERRAL_COLUMNS}"
                                    " FROM referrals WHERE invitee_id = $1 ORDER BY created_at, id"
                                    + self._lock, invitee_id)
        return [rows.referral(r) for r in found]

    async def of_referrer(self, referrer_id: str) -> list[Referral]:
        found = await self._c.fetch(f"SELECT {rows.REFERRAL_COLUMNS} FROM referrals WHERE referrer_id = $1"
                                    " ORDER BY created_at DESC, id DESC", referrer_id)
        return [rows.referral(r) for r in found]

    async def rewarded_since(self, referrer_id: str, since: datetime) -> int:
        # the monthly cap: a count the engine adds to next, one reward of this inviter at a time
        await self._lock_key(f"referral-cap:{referrer_id}")
        return await self._c.fetchval("SELECT COUNT(*) FROM referrals WHERE referrer_id = $1 AND status = 'rewarded'"
                                      " AND rewarded_at >= $2", referrer_id, ts(since))

    async def reassign(self, source_id: str, target_id: str) -> None:
        await self._write("UPDATE referrals SET invitee_id = $1 WHERE invitee_id = $2", target_id, source_id)
        await self._write("UPDATE referrals SET referrer_id = $1 WHERE referrer_id = $2", target_id, source_id)
