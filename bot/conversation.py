"""The conversation, written once for every channel on the normalized model of ``journey.channels``.

``Conversation.handle`` takes one ``Inbound`` and answers with replies; the channel adapter delivers them
and fits them to what the channel can show. Commands and button actions are looked up in tables, so a
new scenario is a function and a table entry.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from journey.channels import Button, Inbound, Reply, Text
from journey.deeplinks import LinkKind, parse_start
from journey.engine import Engine
from journey.errors import DomainError, ErrorCode, RateLimited
from journey.model import Order
from journey.money import Money
from journey.order_views import OrderView

from . import chat, gift_chat, loyalty_notices  # loyalty_notices: points and tiers; gift_chat: gifts
from .chat import Route, Turn
from .referral_notices import greeting, invitation
from .texts import status, t


@dataclass
class Conversation:
    engine: Engine
    public_url: str = ""  # where /go/ links point (referral links)

    async def handle(self, inbound: Inbound) -> list[Reply]:
        gate, wait = await self.engine.message_gate(inbound.sender)  # abuse limits: a flood of messages
        if gate != "ok":  # told once to slow down, then nothing until the bucket has refilled
            lang = await self.engine.language(inbound.sender)
            return [Text(RateLimited(wait).message(lang))] if gate == "warn" else []
        if inbound.command == "start":
            return await self.start(inbound)
        turn = Turn(inbound, await self.engine.profile(inbound.sender))
        route = await self._route(turn)
        if route is None:
            return [Text(t(turn.lang, "unknown"))]
        if route.owner and not self.engine.is_owner(inbound.sender):
            return [Text(ErrorCode.NOT_OWNER.message(turn.lang))]
        try:
            return await route.handler(self, turn)
        except DomainError as e:
            if e.code is ErrorCode.CONSENT_REQUIRED:  # personal data: consent first, then the same step again
                return await privacy_chat.ask_consent(self, turn)
            return [Text(e.message(turn.lang) + (f"\n{e.detail}" if e.code is ErrorCode.MENU_INVALID else ""))]

    async def _route(self, turn: Turn) -> Route | None:
        inbound = turn.inbound
        if inbound.command is not None:
            return chat.COMMANDS.get(inbound.command)
        if inbound.action is not None:
            return chat.ACTIONS.get(inbound.action)
        turn.dialog = await self.engine.dialog(inbound.sender)
        if turn.dialog is not None and turn.dialog.kind in chat.DIALOGS:
            return chat.DIALOGS[turn.dialog.kind]
        stripped = inbound.text.strip()
        if stripped.isdigit() and len(stripped) == 6:
            return Route(Conversation.redeem)
        return chat.TEXT_WORDS.get(stripped.lower())

    # --- scenarios ---------------------------------------------------------------------------------

    async def start(self, inbound: Inbound) -> list[Reply]:
        link = parse_start(inbound.argument)
        if link is not None:
            await self.engine.record_visit(link, inbound.sender.channel, inbound.sender)
        profile = await self.engine.profile(inbound.sender)
        if not profile.customer.consent:
            await self.engine.set_consent(inbound.sender, True)
        lang = profile.customer.language
        shop = await self.engine.shop_view()
        name = f", {profile.customer.name}" if profile.customer.name else ""
        lines = [t(lang, "greet", name=name, shop=shop.rules.name)]
        points = {p.id: p.name for p in shop.points}
        if link is not None and link.kind is LinkKind.POINT and link.point_id in points:
            lines.append(t(lang, "greet_point", point=points[link.point_id]))
        elif link is not None and link.kind is LinkKind.TABLE and link.point_id in points:
            lines.append(t(lang, "greet_table", table=link.table, point=points[link.point_id]))
        elif link is not None and link.kind is LinkKind.REFERRAL:  # only what really happens (referrals that hold)
            lines.append(greeting(lang, link, profile.customer, shop.rules.referral_bonus))
        elif link is not None and link.kind is LinkKind.GROUP:  # group orders: the button opens the group
            lines.append(t(lang, "greet_group"))
        elif link is not None and link.kind is LinkKind.GIFT:  # gifts: who it is from; the button takes it
            lines.append(await gift_chat.greeting(self.engine, inbound.sender, lang, link))
        elif link is not None and (link.kind is LinkKind.UNKNOWN or
                                   (link.kind in (LinkKind.POINT, LinkKind.TABLE) and link.point_id not in points)):
            lines.append(t(lang, "greet_unknown"))
        app_param = link.raw if link is not None and link.kind is not LinkKind.UNKNOWN else ""
        return [Text("\n".join(lines), _main_buttons(lang, app_param))]

    async def help(self, turn: Turn) -> list[Reply]:
        return [Text(t(turn.lang, "help"), (*_main_buttons(turn.lang), privacy_chat.help_row(turn.lang)))]

    async def categories(self, turn: Turn) -> list[Reply]:
        view = await self.engine.menu()
        rows = tuple((Button(c.name, "cat", {"id": c.id}),) for c in view.categories)
        return [Text(t(turn.lang, "categories"), (*rows, (Button(t(turn.lang, "open_app"), mini_app=""),)))]

    async def category(self, turn: Turn) -> list[Reply]:
        view = await self.engine.menu()
        category = next((c for c in view.categories if c.id == turn.inbound.payload.get("id")), None)
        if category is None:
            return await self.categories(turn)
        items = [i for i in view.items if i.category_id == category.id]
        rows = tuple((Button(t(turn.lang, "item_line", name=i.name, price=i.price.format()), "item", {"id": i.id}),)
                     for i in items)
        return [Text(t(turn.lang, "category", name=category.name), (*rows, (Button(t(turn.lang, "back"), "menu"),)))]

    async def item(self, turn: Turn) -> list[Reply]:
        view = await self.engine.menu()
        item = next((i for i in view.items if i.id == turn.inbound.payload.get("id")), None)
        if item is None:
            return await self.categories(turn)
        lines = [t(turn.lang, "item", name=item.name, price=item.price.format(), description=item.description)]
        for group in item.option_groups:
            options = ", ".join(o.name + (f" +{Money(o.price_delta, item.price.currency)}" if o.price_delta else "")
                                for o in group.options)
            lines.append(t(turn.lang, "item_options", group=group.name, options=options))
        buttons = ((Button(t(turn.lang, "open_app"), mini_app=""),),
                   (Button(t(turn.lang, "back"), "cat", {"id": item.category_id}),))
        return [Text("\n".join(lines).strip(), buttons)]

    async def orders(self, turn: Turn) -> list[Reply]:
        orders = await self.engine.orders_of(turn.inbound.sender, limit=5)
        if not orders:
            return [Text(t(turn.lang, "no_orders"), _main_buttons(turn.lang))]
        zone = (await self.engine.shop_view()).zone
        lines = [t(turn.lang, "orders")] + [
            t(turn.lang, "order_line", code=o.short_code, date=o.created_at.astimezone(zone).strftime("%d.%m %H:%M"),
              total=o.total.format(), status=status(turn.lang, o.status.value)) for o in orders]
        waiting = pay_chat.pay_buttons(self, turn.lang, await self.engine.my_orders(turn.inbound.sender, limit=5))
        return [Text("\n".join(lines), (*waiting, (Button(t(turn.lang, "repeat"), "repeat"),)))]

    async def repeat(self, turn: Turn) -> list[Reply]:
        """Show the last order priced anew, with a button that places it."""
        orders = await self.engine.orders_of(turn.inbound.sender, limit=1)
        if not orders:
            return [Text(t(turn.lang, "no_orders"), _main_buttons(turn.lang))]
        last = orders[0]
        lines = await self.engine.repeat_lines(turn.inbound.sender, last.id)
        if not lines:
            return [Text(t(turn.lang, "repeat_nothing"), _main_buttons(turn.lang))]
        quote = await self.engine.quote(turn.inbound.sender, lines)
        point = (await self.engine.shop_view()).point_name(last.point_id)
        text = t(turn.lang, "repeat_offer", point=point, lines=_lines(quote.lines), total=quote.total.format())
        # the nonce makes the confirmation idempotent: pressing twice places one order
        nonce = f"{last.id}.{secrets.token_hex(4)}"
        buttons: tuple[tuple[Button, ...], ...] = ((Button(t(turn.lang, "confirm"), "repeat_ok", {"id": nonce}),),)
        if pay_chat.telegram_pays(self, turn):
            buttons += ((Button(t(turn.lang, "pay_in_telegram"), "repeat_pay", {"id": nonce}),),)
        return [Text(text, buttons)]

    async def repeat_confirm(self, turn: Turn) -> list[Reply]:
        view = await self.place_repeat(turn)
        return [await self._placed(turn, view.order)]

    async def place_repeat(self, turn: Turn, provider: str = "counter") -> OrderView:
        """Place the last order again from its confirmation's nonce (pressing twice places one order)."""
        nonce = turn.inbound.payload.get("id", "")
        order_id = nonce.partition(".")[0]
        lines = await self.engine.repeat_lines(turn.inbound.sender, order_id)
        last = (await self.engine.order_view(turn.inbound.sender, order_id)).order
        request_id = nonce if provider == "counter" else f"{nonce}.{provider}"
        return await self.engine.place_order(turn.inbound.sender, lines, last.point_id, source="chat:repeat",
                                             request_id=request_id, provider=provider)

    async def points(self, turn: Turn) -> list[Reply]:
        link = f"{self.public_url.rstrip('/')}/go/r{turn.profile.customer.referral_code}"
        summary = await self.engine.referral_summary(turn.inbound.sender)
        tiers = loyalty_notices.tier_lines(turn.lang, await self.engine.points_summary(turn.inbound.sender, limit=1))
        text = "\n".join((t(turn.lang, 'points', points=turn.profile.points), tiers,  # the tier under the balance
                          invitation(turn.lang, summary, link)))
        packs = await pay_chat.pack_buttons(self, turn)
        return [Text(f"{text}\n\n{t(turn.lang, 'packs_offer')}" if packs else text, packs)]

    async def link(self, turn: Turn) -> list[Reply]:
        code = turn.inbound.argument.strip()
        if code:
            return await self._redeem(turn, code)
        issued = await self.engine.issue_link_code(turn.inbound.sender)
        return [Text(t(turn.lang, "link_code", code=issued.code))]

    async def redeem(self, turn: Turn) -> list[Reply]:
        return await self._redeem(turn, turn.inbound.text.strip())

    async def _redeem(self, turn: Turn, code: str) -> list[Reply]:
        await self.engine.redeem_link_code(turn.inbound.sender, code)
        profile = await self.engine.profile(turn.inbound.sender)
        return [Text(t(profile.customer.language, "linked", points=profile.points))]

    async def language(self, turn: Turn) -> list[Reply]:
        wanted = (turn.inbound.argument or turn.inbound.payload.get("id") or "").strip().lower()
        if wanted not in ("ru", "en"):
            wanted = "ru" if turn.lang == "en" else "en"
        await self.engine.set_language(turn.inbound.sender, wanted)
        return [Text(t(wanted, "lang_set"), _main_buttons(wanted))]

    async def cancel(self, turn: Turn) -> list[Reply]:
        """``/cancel`` or a dialog's cancel button: close whatever dialog is open, change nothing more."""
        ended = await self.engine.end_dialog(turn.inbound.sender)
        return [Text(t(turn.lang, "cancelled" if ended else "nothing_open"))]

    async def stop(self, turn: Turn) -> list[Reply]:
        await self.engine.set_consent(turn.inbound.sender, False)
        return [Text(t(turn.lang, "stopped"))]

    async def web_app_data(self, turn: Turn) -> list[Reply]:
        """The Mini App sent data to the chat (``Telegram.WebApp.sendData``): an order id to show."""
        order_id = turn.inbound.payload.get("id", "").strip()
        view = await self.engine.order_view(turn.inbound.sender, order_id)
        return [await self._placed(turn, view.order)]

    async def staff_accept(self, turn: Turn) -> list[Reply]:
        order = await self.engine.accept(turn.inbound.sender, turn.inbound.payload.get("id", ""))
        return [Text(t(turn.lang, "done_accept", code=order.short_code),
                     ((Button(t(turn.lang, "ready"), "ready", {"id": order.id}),),))]

    async def staff_ready(self, turn: Turn) -> list[Reply]:
        order = await self.engine.mark_ready(turn.inbound.sender, turn.inbound.payload.get("id", ""))
        return [Text(t(turn.lang, "done_ready", code=order.short_code))]

    # --- helpers -----------------------------------------------------------------------------------

    async def _placed(self, turn: Turn, order: Order) -> Reply:
        shop = await self.engine.shop_view()
        return Text(t(turn.lang, "placed", code=order.short_code, total=order.total.format(),
                      point=shop.point_name(order.point_id), time=_hhmm(order.pickup_at, shop.zone)))


def _hhmm(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%H:%M")


def _lines(lines) -> str:
    return "\n".join(f"• {l.name}{' (' + ', '.join(l.options) + ')' if l.options else ''} × {l.quantity}"
                     f" — {l.total.format()}" for l in lines)


def _main_buttons(lang: str, app_param: str = "") -> tuple[tuple[Button, ...], ...]:
    return ((Button(t(lang, "open_app"), mini_app=app_param),),
            (Button(t(lang, "menu_chat"), "menu"), Button(t(lang, "repeat"), "repeat")),
            (Button(t(lang, "my_orders"), "orders"), Button(t(lang, "my_points"), "points")))


def _register() -> None:
    c = Conversation
    for names, handler in ((("help",), c.help), (("menu",), c.categories), (("orders",), c.orders),
                           (("points",), c.points), (("link",), c.link), (("lang",), c.language),
                           (("repeat",), c.repeat)):
        chat.command(*names)(handler)
        chat.action(*names)(handler)
    chat.command("stop")(c.stop)
    chat.command("cancel")(c.cancel)
    for name, handler in (("cat", c.category), ("item", c.item), ("repeat_ok", c.repeat_confirm),
                          ("accept", c.staff_accept), ("ready", c.staff_ready), ("web_app_data", c.web_app_data),
                          ("cancel", c.cancel)):
        chat.action(name)(handler)
    for words, handler in ((("меню", "menu"), c.categories), (("помощь", "начать"), c.help),
                           (("заказы",), c.orders), (("баллы",), c.points), (("стоп",), c.stop),
                           (("повторить",), c.repeat)):
        chat.word(*words)(handler)


_register()

# The scenario modules register their commands, buttons and dialogs when imported (``bot/chat.py``).
from . import (  # noqa: E402
    admin_chat,  # noqa: F401  the owner's menu edits, /admin, /undo
    broadcast_chat,  # noqa: F401  /broadcast: the owner's message to customers who agreed to news
    pay_chat,  # paying inside the chat: invoices for orders, points packs for Stars
    photo_chat,  # noqa: F401  a photo captioned /photo <item>
    privacy_chat,  # personal data: consent before the first order, /mydata, /forget
    shop_chat,  # noqa: F401  the shop, pickup points, promo codes, staff
    staff_chat,  # noqa: F401  /board: the staff's orders board
    stats_chat,  # noqa: F401  /stats: the owner's numbers, with a chart picture
)
