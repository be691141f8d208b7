"""``/stats [days]`` and the panel's «Статистика» button: the owner's numbers as text, then as a picture.

The engine adds the numbers up (``journey/stats.py``, owners only); this module words them in the owner's
language and, when the engine has a chart renderer (``Engine.charts``), sends the PNG it draws. The text
(``summary``) is also what ``vitrina stats`` prints, in English.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from journey.channels import Photo, Reply, Text
from journey.sharing import ShareKind
from journey.stats import DEFAULT_DAYS, MAX_DAYS, Funnel, Stats, StatsChart, percent

from .chat import Turn, action, command
from .texts import add_texts, t

if TYPE_CHECKING:
    from .conversation import Conversation

add_texts({
    "st_usage": (f"Как: /stats [дни], например /stats 30 — за последние 30 дней (от 1 до {MAX_DAYS}, "
                 f"без числа — {DEFAULT_DAYS}).",
                 f"Usage: /stats [days], e.g. /stats 30 — the last 30 days (1 to {MAX_DAYS}, "
                 f"{DEFAULT_DAYS} if left out)."),
    "st_title": ("Статистика за {days} дн. ({first}–{last})", "Numbers of {days} days ({first}–{last})"),
    "st_steps": ("визиты → заказы → выданы → с отзывом", "visits → orders → picked up → reviewed"),
    "st_total": ("Всего: {funnel}", "Total: {funnel}"),
    "st_channels": ("По каналам:", "By channel:"),
    "st_sources": ("По источникам:", "By source:"),
    "st_no_source": ("без метки", "no link"),
    "st_repeat": ("Повторные покупатели: {repeat} из {customers}{rate}",
                  "Repeat customers: {repeat} of {customers}{rate}"),
    "st_check": ("Средний чек: {check} (выручка {revenue}, выдано заказов {paid})",
                 "Average check: {check} (revenue {revenue}, {paid} picked up)"),
    "st_no_check": ("Средний чек: выданных заказов нет", "Average check: nothing picked up"),
    "st_top": ("Топ позиций: {items}", "Top items: {items}"),
    "st_daily": ("Заказы по дням: {days}", "Orders per day: {days}"),
    "st_empty": ("За этот период визитов и заказов не было.", "No visits or orders in this period."),
    "st_sharing": ("Репосты: {shares}. Визиты по ним: {visits}.", "Shares: {shares}. Visits they brought: {visits}."),
    "st_no_sharing": ("Репостов и визитов по ним не было.", "No shares and no visits by them."),
    "st_none": ("нет", "none"),
    "st_share_kinds": ("история в Telegram|карточка в Telegram|история ВКонтакте|запись на стене ВКонтакте|ссылка",
                       "Telegram story|Telegram card|VK story|VK wall post|link"),
    "st_chart": ("Воронка по каналам и заказы по дням", "The funnel by channel and orders per day"),
    "st_chart_title": ("Воронка за {days} дн. ({first}–{last})", "The funnel of {days} days ({first}–{last})"),
    "st_chart_steps": (("Визиты|Заказы|Выданы|С отзывом"), ("Visits|Orders|Picked up|Reviewed")),
    "st_chart_daily": ("Заказы по дням", "Orders per day"),
})


def parse_days(argument: str) -> int | None:
    """The days of ``/stats [days]``: the default for nothing, None for anything but 1..MAX_DAYS."""
    words = argument.split()
    if not words:
        return DEFAULT_DAYS
    if len(words) != 1 or not words[0].isascii() or not words[0].isdigit():
        return None
    days = int(words[0])
    return days if 1 <= days <= MAX_DAYS else None


def _funnel(f: Funnel) -> str:
    parts = [str(f.visits)]
    for before, after in zip(f.steps, f.steps[1:], strict=False):
        rate = percent(after, before)
        parts.append(f"{after}" + (f" ({rate}%)" if rate is not None else ""))
    return " → ".join(parts)


def _row(lang: str, name: str) -> str:
    return name or t(lang, "st_no_source")


def summary(lang: str, stats: Stats) -> str:
    """The numbers as a message (or the command line's output)."""
    span = {"days": stats.days, "first": f"{stats.first_day:%d.%m}", "last": f"{stats.last_day:%d.%m}"}
    lines = [t(lang, "st_title", **span), t(lang, "st_steps"), t(lang, "st_total", funnel=_funnel(stats.total))]
    if stats.empty:
        lines.append(t(lang, "st_empty"))
    else:
        lines += ["", t(lang, "st_channels")]
        lines += [f"{_row(lang, name)}: {_funnel(f)}" for name, f in stats.by_channel]
        lines += ["", t(lang, "st_sources")]
        lines += [f"{_row(lang, name)}: {_funnel(f)}" for name, f in stats.by_source]
        lines.append("")
    rate = stats.repeat_rate
    lines.append(t(lang, "st_repeat", repeat=stats.repeat_customers, customers=stats.customers,
                   rate=f" ({rate}%)" if rate is not None else ""))
    if stats.average_check is not None:
        paid = stats.total.picked_up
        lines.append(t(lang, "st_check", check=stats.average_check.format(), revenue=stats.revenue.format(),
                       paid=paid))
    else:
        lines.append(t(lang, "st_no_check"))
    if stats.top_items:
        lines.append(t(lang, "st_top", items=", ".join(f"{i.name} — {i.quantity}" for i in stats.top_items)))
    lines.append(t(lang, "st_daily", days=", ".join(f"{d.day:%d.%m} {d.orders}" for d in stats.per_day)))
    lines.append(_sharing(lang, stats))
    return "\n".join(lines)


def _sharing(lang: str, stats: Stats) -> str:
    """Shares by kind and the visits each kind of shared link brought."""
    if not (stats.shares or stats.share_visits):
        return t(lang, "st_no_sharing")
    names = dict(zip([k.value for k in ShareKind], t(lang, "st_share_kinds").split("|"), strict=True))
    said = [", ".join(f"{names.get(kind, kind)} {n}" for kind, n in rows) or t(lang, "st_none")
            for rows in (stats.shares, stats.share_visits)]
    return t(lang, "st_sharing", shares=said[0], visits=said[1])


def chart(lang: str, stats: Stats) -> StatsChart:
    span = {"days": stats.days, "first": f"{stats.first_day:%d.%m}", "last": f"{stats.last_day:%d.%m}"}
    return StatsChart(
        title=t(lang, "st_chart_title", **span),
        steps=tuple(t(lang, "st_chart_steps").split("|")),
        groups=tuple((_row(lang, name), f.steps) for name, f in stats.by_channel),
        daily_title=t(lang, "st_chart_daily"),
        days=tuple(f"{d.day:%d.%m}" for d in stats.per_day),
        daily=tuple(d.orders for d in stats.per_day),
    )


async def _answer(conv: Conversation, turn: Turn, days: int) -> list[Reply]:
    stats = await conv.engine.stats(turn.inbound.sender, days)
    replies: list[Reply] = [Text(summary(turn.lang, stats))]
    renderer = conv.engine.charts
    if renderer is not None:
        image = await asyncio.to_thread(renderer.png, chart(turn.lang, stats))
        replies.append(Photo(image, t(turn.lang, "st_chart"), "stats.png"))
    return replies


@command("stats", owner=True)
async def stats_command(conv: Conversation, turn: Turn) -> list[Reply]:
    days = parse_days(turn.inbound.argument)
    if days is None:
        return [Text(t(turn.lang, "st_usage"))]
    return await _answer(conv, turn, days)


@action("adm_stats", owner=True)
async def stats_button(conv: Conversation, turn: Turn) -> list[Reply]:
    return await _answer(conv, turn, DEFAULT_DAYS)
