"""Suggestions and points: ``GET /api/suggestions``, ``GET /api/me/points``, ``PUT|DELETE /api/me/birthday``."""
from __future__ import annotations

from aiohttp import web

from journey.errors import DomainError, ErrorCode
from journey.loyalty import PointsSummary, Tier, tier_name
from journey.money import Money
from journey.suggestions import Suggestions

from . import answers as a
from .bodies import BirthdayBody
from .views import body, caller, engine, query_id, reply

routes = web.RouteTableDef()


def _money(value: Money) -> a.Money:
    return a.Money(amount=value.amount, currency=value.currency, text=value.format())


def suggestions(found: Suggestions) -> dict:
    return a.Suggestions(
        usual=[a.SuggestedLine(item=u.line.item_id, name=u.line.name,
                               options={g: list(ids) for g, ids in u.line.option_ids.items()},
                               option_names=list(u.line.options), price=_money(u.line.unit_price), times=u.times)
               for u in found.usual],
        together=[a.SuggestedItem(item=i.id, name=i.name, price=_money(i.price)) for i in found.together],
        now=[a.SuggestedItem(item=i.id, name=i.name, price=_money(i.price)) for i in found.now],
        hour=found.hour).model_dump(mode="json")


def _tier(tier: Tier, name: str) -> a.Tier:
    return a.Tier(level=tier.level, name=name, percent=tier.percent, threshold=tier.threshold)


def points(s: PointsSummary, language: str) -> dict:
    day, month = s.birthday or (None, None)
    return a.MyPoints(
        balance=s.balance, tier=_tier(s.tier, s.tier_name), spent=s.spent,
        next_tier=_tier(s.next_tier, s.next_tier_name) if s.next_tier else None, to_next=s.to_next,
        tiers=[_tier(t, tier_name(t, language)) for t in s.tiers], expiring=s.expiring, expiring_at=s.expiring_at,
        expire_days=s.expire_days,
        history=[a.PointsMove(id=m.id, delta=m.delta, reason=m.reason, at=m.at, order=m.order_id,
                              short_code=m.short_code or None) for m in s.history],
        more=s.more, birthday=a.Birthday(day=day, month=month, percent=s.birthday_percent, days=s.birthday_days),
    ).model_dump(mode="json")


@routes.get("/api/suggestions")
async def get_suggestions(request: web.Request) -> web.Response:
    """What the menu of ?point= suggests to the caller; ?items=a,b (an item's screen, a cart) asks what is
    often taken with them."""
    items = [i for i in request.query.get("items", "").split(",") if i]
    if any(len(i) > 64 for i in items):
        raise DomainError(ErrorCode.BAD_INPUT, "an item id is at most 64 characters")
    found = await engine(request).suggestions(caller(request), query_id(request, "point"), items)
    return reply(suggestions(found))


async def _points(request: web.Request) -> web.Response:
    before = request.query.get("before")
    if before is not None and not (before.isdigit() and len(before) <= 18):
        raise DomainError(ErrorCode.BAD_INPUT, "before is the id of an entry")
    eng, ref = engine(request), caller(request)
    summary = await eng.points_summary(ref, before=int(before) if before else None)
    return reply(points(summary, await eng.language(ref)))


@routes.get("/api/me/points")
async def get_points(request: web.Request) -> web.Response:
    """Balance, tier, points expiring within a week, a page of history (newest first, ?before= for older)."""
    return await _points(request)


@routes.put("/api/me/birthday")
async def put_birthday(request: web.Request) -> web.Response:
    """Opt in to the birthday offer: day and month, never the year."""
    wanted = await body(request, BirthdayBody)
    await engine(request).set_birthday(caller(request), wanted.day, wanted.month)
    return await _points(request)


@routes.delete("/api/me/birthday")
async def delete_birthday(request: web.Request) -> web.Response:
    await engine(request).set_birthday(caller(request), None, None)
    return await _points(request)
