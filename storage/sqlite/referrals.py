"""SQLite storage of referrals (journey/referrals.py): one live invitation per invitee."""
from __future__ import annotations

from datetime import datetime

from journey.referrals import Referral

from .. import rows
from ..rows import ts
from .repositories import _Repo


class SqliteReferrals(_Repo):
    async def add(self, referral: Referral) -> None:
        r = referral
        self._write(f"INSERT INTO referrals ({rows.REFERRAL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (r.id, r.invitee_id, r.referrer_id, r.code, r.status.value, r.order_id, r.invitee_points,
                     r.referrer_points, ts(r.created_at), ts(r.updated_at), ts(r.rewarded_at)))

    async def update(self, referral: Referral) -> None:
        r = referral
        self._write("UPDATE referrals SET status = ?, order_id = ?, invitee_points = ?, referrer_points = ?,"
                    " updated_at = ?, rewarded_at = ? WHERE id = ?",
                    (r.status.value, r.order_id, r.invitee_points, r.referrer_points, ts(r.updated_at),
                     ts(r.rewarded_at), r.id))

    async def for_invitee(self, invitee_id: str) -> list[Referral]:
        cur = self._c.execute(f"SELECT {rows.REFERRAL_COLUMNS}"
                              " FROM referrals WHERE invitee_id = ? ORDER BY created_at, id",
                              (invitee_id,))
        return [rows.referral(r) for r in cur]

    async def of_referrer(self, referrer_id: str) -> list[Referral]:
        cur = self._c.execute(f"SELECT {rows.REFERRAL_COLUMNS} FROM referrals WHERE referrer_id = ?"
                              " ORDER BY created_at DESC, id DESC", (referrer_id,))
        return [rows.referral(r) for r in cur]

    async def rewarded_since(self, referrer_id: str, since: datetime) -> int:
        return self._c.execute("SELECT COUNT(*) FROM referrals WHERE referrer_id = ? AND status = 'rewarded'"
                               " AND rewarded_at >= ?", (referrer_id, ts(since))).fetchone()[0]

    async def reassign(self, source_id: str, target_id: str) -> None:
        self._write("UPDATE referrals SET invitee_id = ? WHERE invitee_id = ?", (target_id, source_id))
        self._write("UPDATE referrals SET referrer_id = ? WHERE referrer_id = ?", (target_id, source_id))
