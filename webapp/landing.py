"""``/go/<param>``: what a printed QR code opens. Records the visit, then offers every way into the shop.
``/paid``: where a payment page sends a Telegram or VK customer back.

One code on a counter serves every customer: the page links into each configured channel (the bot in
Telegram, the Mini App in VK: each channel's adapter gives its link) and to the Mini App right here in the
browser. It is tiny and self-contained (inline CSS, no script),
because it is often the first thing a phone on a weak connection loads.
"""
from __future__ import annotations

import re
from html import escape

from aiohttp import web

from journey.channels import Channel
from journey.deeplinks import PARAM, parse_start

from .views import config, engine

routes = web.RouteTableDef()
COLOR = re.compile(r"^#[0-9a-fA-F]{3,8}$")

_STYLE = ("body{font:16px/1.4 system-ui,sans-serif;margin:0;padding:24px;background:#faf7f2;color:#222;"
          "text-align:center}main{max-width:420px;margin:auto}h1{font-size:1.4em}"
          "a{display:block;margin:12px 0;padding:14px;border-radius:12px;background:#6b4226;color:#fff;"
          "text-decoration:none;font-weight:600}"
          "a span{display:block;font-weight:400;font-size:.8em;opacity:.85}p.en{color:#666;font-size:.9em}")


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (f'<!doctype html><html lang="ru"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
            f'<style>{_STYLE}</style></head><body><main>{body}</main></body></html>')
    return web.Response(text=html, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _button(href: str, ru: str, en: str, color: str = "") -> str:
    style = f' style="background:{escape(color)}"' if COLOR.match(color) else ""
    return f'<a href="{escape(href)}"{style}>{escape(ru)}<span>{escape(en)}</span></a>'


@routes.get("/paid")
async def paid(request: web.Request) -> web.Response:
    """Where a payment provider's page sends a Telegram or VK customer back. Their Mini App, still open behind
    the browser, follows the payment by itself: this page says so and leads back into each channel. It shows
    nothing of the order (it needs no launch data, so it may know nobody)."""
    cfg = config(request)
    shop = escape((await engine(request).shop_view()).rules.name)
    ways = [_button(link.href, link.label_ru, link.label_en, link.color)
            for link in (m.landing_link("") for m in cfg.mini_apps) if link is not None]
    return _page(shop, f"<h1>{shop}: спасибо!</h1><p>Оплата обрабатывается. Вернитесь в приложение магазина — "
                       "заказ обновится сам.</p><p class=\"en\">Thank you! The payment is being processed. Go back "
                       f"to the shop's app: your order updates by itself.</p>{''.join(ways)}")


@routes.get("/go/{param}")
async def go(request: web.Request) -> web.Response:
    param = request.match_info["param"]
    cfg = config(request)
    shop = escape((await engine(request).shop_view()).rules.name)
    if not PARAM.match(param):
        return _page(f"{shop}: ссылка не найдена",
                     "<h1>Такой ссылки нет</h1><p>Проверьте код или спросите у бариста — мы поможем.</p>"
                     '<p class="en">This link does not exist. Check the code or ask the barista.</p>'
                     f'<a href="/">Открыть {shop}<span>Open {shop}</span></a>', status=404)
    link = parse_start(param)
    if link is not None and request.method == "GET":  # a HEAD probe is not a visit
        await engine(request).record_visit(link, Channel.WEB)
    ways = [_button(link.href, link.label_ru, link.label_en, link.color)
            for link in (m.landing_link(param) for m in cfg.mini_apps) if link is not None]
    ways.append(_button(f"/?start={param}", "Открыть в браузере", "Open in the browser"))
    return _page(shop, f"<h1>{shop}</h1><p>Где вам удобнее сделать заказ?</p>"
                       f'<p class="en">Where would you like to order?</p>{"".join(ways)}')
