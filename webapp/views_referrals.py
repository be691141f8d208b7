"""``GET /api/me/referrals``: the caller's invitation, the bonus and its monthly cap, the friends it brought."""
from __future__ import annotations

from aiohttp import web

from journey.referrals import ReferralSummary

from . import answers as a
from .views import caller, config, engine, reply

routes = web.RouteTableDef()


def referrals(summary: ReferralSummary, base_url: str) -> dict:
    return a.Referrals(
        code=summary.code, link=f"{base_url}/go/r{summary.code}", bonus=summary.bonus,
        monthly_cap=summary.monthly_cap, left_this_month=summary.left_this_month,
        friends=[a.ReferredFriend(name=f.name, joined_at=f.joined_at, status=f.status.value, points=f.points)
                 for f in summary.friends],
        invited=summary.invited, rewarded=summary.rewarded, points=summary.points,
        invitation=summary.invitation.value if summary.invitation else None).model_dump(mode="json")


@routes.get("/api/me/referrals")
async def get_referrals(request: web.Request) -> web.Response:
    summary = await engine(request).referral_summary(caller(request))
    return reply(referrals(summary, config(request).base_url))
