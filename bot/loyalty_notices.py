"""Points and the birthday offer in the chat: the tier beside the balance (/points), a birthday greeting once a
year to a customer who allows the shop's messages, and word when points were written off as expired."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from journey.channels import CustomerRef, Reply, Text
from journey.events import DomainEvent, EventType
from journey.loyalty import PointsSummary
from journey.money import Money

from .texts import add_texts, t

if TYPE_CHECKING:
    from .notifications import Notifier

add_texts({
    "points_tier": ("Уровень: {tier}, начисляем {percent}% от оплаченного.",
                    "Tier: {tier}, earning {percent}% of what you pay."),
    "points_next_tier": ("До уровня «{tier}» ({percent}%) осталось потратить {left}.",
                         "Spend {left} more to reach {tier} ({percent}%)."),
    "points_expiring": ("{points} баллов сгорят в ближайшую неделю — потратьте их.",
                        "{points} points expire within a week: spend them."),
    "n_birthday": ("С днём рождения! Дарим скидку {percent}% на один заказ — она действует {days} дн. до и после "
                   "праздника и применится сама при оформлении.",
                   "Happy birthday! Here is {percent}% off one order: it holds {days} days before and after the day "
                   "and applies by itself at checkout."),
    "n_birthday_today": ("С днём рождения! Сегодня скидка {percent}% на один заказ применится сама при оформлении.",
                         "Happy birthday! Today {percent}% off one order applies by itself at checkout."),
    "n_points_expiring": ("{points} баллов сгорят {date}: потратьте их до этого дня.",
                          "{points} points expire on {date}: spend them before then."),
    "n_points_expired": ("Сгорело {points} баллов: они были начислены больше {days} дн. назад.",
                         "{points} points expired: they were credited more than {days} days ago."),
})


def tier_lines(language: str, summary: PointsSummary) -> str:
    """What /points says beside the balance: the tier, what is left to the next, what expires soon."""
    lines = [t(language, "points_tier", tier=summary.tier_name, percent=summary.tier.percent)]
    if summary.next_tier is not None:
        lines.append(t(language, "points_next_tier", tier=summary.next_tier_name, percent=summary.next_tier.percent,
                       left=Money(summary.to_next, "RUB").format()))
    if summary.expiring:
        lines.append(t(language, "points_expiring", points=summary.expiring))
    return "\n".join(lines)


async def _to(notifier: Notifier, customer_id: str) -> tuple[CustomerRef, str] | None:
    found = await notifier.engine.referral_recipient(customer_id)
    return (found.to, found.language) if found else None


async def birthday(notifier: Notifier, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
    who = await _to(notifier, event.data["customer_id"])
    if not who:
        return []
    days, percent = event.data.get("days", 0), event.data.get("percent", 0)
    key = "n_birthday" if days else "n_birthday_today"
    return [(who[0], Text(t(who[1], key, percent=percent, days=days)))]


async def expired(notifier: Notifier, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
    who = await _to(notifier, event.data["customer_id"])
    if not who:
        return []
    days = (await notifier.engine.shop_view()).rules.points_expire_days
    return [(who[0], Text(t(who[1], "n_points_expired", points=event.data["points"], days=days)))]


async def expiring(notifier: Notifier, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
    who = await _to(notifier, event.data["customer_id"])
    if not who:
        return []
    zone = (await notifier.engine.shop_view()).zone
    day = datetime.fromisoformat(event.data["expires_at"]).astimezone(zone).strftime("%d.%m.%Y")
    return [(who[0], Text(t(who[1], "n_points_expiring", points=event.data["points"], date=day)))]


BUILDERS = {EventType.BIRTHDAY_GREETING: birthday, EventType.POINTS_EXPIRED: expired,
            EventType.POINTS_EXPIRING: expiring}
