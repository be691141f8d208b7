"""``GET /api/openapi.json``: the OpenAPI 3.1 description of every /api route (docs/API.md in machine form).

Request bodies come from the pydantic models that validate them, so the document cannot drift from the
checks; answers are described by hand below.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web
from pydantic.json_schema import models_json_schema

from .bodies import BODIES, CartBody, LanguageBody, LinkBody, MessagesBody, OrderBody, PickupBody, ReviewBody, VisitBody

routes = web.RouteTableDef()
Json = dict[str, Any]


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str] | None = None, **props: Any) -> Json:
    return {"type": "object", "properties": props, **({"required": required} if required else {})}


def array(items: Json) -> Json:
    return {"type": "array", "items": items}


STR, INT, BOOL, NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
TIME = {"type": ["string", "null"], "format": "date-time"}
ORDER_LINE = obj(item=STR, name=STR, options=array(STR), quantity=INT, unit_price=ref("Money"), total=ref("Money"))

RESPONSES: Json = {
    "Money": obj(["amount", "currency", "text"], amount=INT, currency=STR, text=STR),
    "Error": obj(["error", "message"], error={"type": "string", "description": "an engine ErrorCode value"},
                 message={"type": "string", "description": "in the caller's language"},
                 detail={"type": "string", "description": "what did not fit (input errors only)"}),
    "Item": obj(["id", "name", "price"], id=STR, category=STR, name=STR, description=STR, photo=STR,
                price=ref("Money"),
                options=array(obj(id=STR, name=STR, required=BOOL, multiple=BOOL,
                                  options=array(obj(id=STR, name=STR, price_delta=ref("Money"))))),
                tags=array(STR), stock={"type": ["integer", "null"], "description": "null: not counted"},
                sold_out=BOOL, rating=obj(average={"type": ["number", "null"]}, count=INT)),
    "CartLine": obj(["item", "quantity"], item=STR, quantity=INT,
                    options={"type": "object", "additionalProperties": array(STR)}),
    "Quote": obj(["lines", "total"], lines=array(ORDER_LINE), subtotal=ref("Money"), discount=ref("Money"),
                 points=INT, total=ref("Money"), points_cap=INT, balance=INT, promo={"type": ["string", "null"]}),
    "Order": obj(["id", "status", "total"], id=STR, number=STR, short_code=STR,
                 status={"enum": ["placed", "accepted", "ready", "picked_up", "cancelled", "expired"]},
                 point=obj(id=STR, name=STR, address=STR), lines=array(ORDER_LINE), subtotal=ref("Money"),
                 discount=ref("Money"), points=INT, total=ref("Money"), promo={"type": ["string", "null"]},
                 pickup_at=TIME, created_at=TIME, pickup_token=STR,
                 history=array(obj(status=STR, at=TIME)),
                 payment=obj(provider=STR, status={"type": ["string", "null"]}), qr=STR,
                 customer={**obj(name=STR), "description": "staff views only"}),
    "Me": obj(["id", "points"], id=STR, name=STR, channels=array(obj(channel=STR, id=STR)), points=INT,
              language={"enum": ["ru", "en"]}, is_staff=BOOL, staff_points=array(STR), referral_code=STR,
              referral_link=STR),
    "Point": obj(id=STR, name=STR, address=STR, lat={"type": ["number", "null"]}, lon={"type": ["number", "null"]},
                 hours=STR, prep_minutes=INT, open_now=BOOL),
    "Review": obj(rating=INT, text=STR, author=STR, created_at=TIME),
    "Config": obj(demo=BOOL, shop=STR, currency=STR, timezone=STR, telegram_bot=STR, vk_app_id={"type": ["integer", "null"]},
                  public_url=STR),
}

ERRORS = {str(s): {"description": d, "content": {"application/json": {"schema": ref("Error")}}}
          for s, d in ((400, "bad input"), (401, "bad or stale launch data"), (403, "not allowed"),
                       (404, "not found"), (409, "conflict"))}


def op(summary: str, answer: Json | None, *, body: type | None = None, status: int = 200, public: bool = False,
       params: tuple[str, ...] = (), query: tuple[str, ...] = (), media: str = "application/json") -> Json:
    out: Json = {"summary": summary, "responses": {
        str(status): {"description": "OK", "content": {media: {"schema": answer or {}}}}, **ERRORS}}
    if public:
        out["security"] = []
    parameters = [{"name": p, "in": "path", "required": True, "schema": STR} for p in params]
    parameters += [{"name": q, "in": "query", "required": False, "schema": STR} for q in query]
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body.__name__)}}}
    return out


ORDERS = obj(["orders"], orders=array(ref("Order")))
PATHS: Json = {
    "/api/config": {"get": op("Public settings of the shop", ref("Config"), public=True)},
    "/api/openapi.json": {"get": op("This document", {"type": "object"}, public=True)},
    "/api/me": {"get": op("The calling customer", ref("Me")),
                "patch": op("Choose the language", ref("Me"), body=LanguageBody)},
    "/api/me/messages": {"post": op("Record whether the customer allows the shop's messages", obj(
        ["allowed"], allowed=BOOL), body=MessagesBody)},
    "/api/points": {"get": op("Pickup points", obj(points=array(ref("Point"))))},
    "/api/visits": {"post": op("Record where the Mini App was opened from", obj(kind=STR, source=STR),
                               body=VisitBody, status=201)},
    "/api/menu": {"get": op("The menu, with stock at ?point=", obj(
        point={"type": ["string", "null"]}, categories=array(obj(id=STR, name=STR)), items=array(ref("Item"))),
        query=("point",))},
    "/api/items/{item_id}/reviews": {"get": op("Reviews of an item", obj(
        reviews=array(ref("Review")), average={"type": ["number", "null"]}, count=INT), params=("item_id",))},
    "/api/cart/quote": {"post": op("Price a cart (nothing is written)", ref("Quote"), body=CartBody)},
    "/api/orders": {"get": op("My orders, newest first", ORDERS),
                    "post": op("Place an order", ref("Order"), body=OrderBody, status=201)},
    "/api/orders/{order_id}": {"get": op("One order", ref("Order"), params=("order_id",))},
    "/api/orders/{order_id}/qr.svg": {"get": op("The pickup QR code", {"type": "string"}, params=("order_id",),
                                                media="image/svg+xml")},
    "/api/orders/{order_id}/cancel": {"post": op("Cancel an order", ref("Order"), params=("order_id",))},
    "/api/orders/{order_id}/repeat": {"post": op("The cart of a past order", obj(
        lines=array(ref("CartLine")), skipped=INT), params=("order_id",))},
    "/api/orders/{order_id}/reviews": {"post": op("Review an item of a picked-up order", ref("Review"),
                                                  body=ReviewBody, status=201, params=("order_id",))},
    "/api/link/code": {"post": op("A one-time code to link another account", obj(code=STR, expires_at=TIME))},
    "/api/link": {"post": op("Link this account to the one that issued the code", ref("Me"), body=LinkBody)},
    "/api/staff/orders": {"get": op("Open orders of a point (staff)", ORDERS, query=("point",))},
    "/api/staff/orders/{order_id}/accept": {"post": op("Accept (staff)", ref("Order"), params=("order_id",))},
    "/api/staff/orders/{order_id}/ready": {"post": op("Mark ready (staff)", ref("Order"), params=("order_id",))},
    "/api/staff/lookup": {"post": op("What a scanned or typed code belongs to (staff)", ref("Order"),
                                     body=PickupBody)},
    "/api/staff/handover": {"post": op("Hand the order over (staff)", ref("Order"), body=PickupBody)},
}


@cache
def document() -> Json:
    _, defs = models_json_schema([(m, "validation") for m in BODIES],
                                 ref_template="#/components/schemas/{model}")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vitrina Mini App API", "version": "1",
                 "description": "See docs/API.md. Prices are always computed on the server."},
        "security": [{"launch": []}],
        "paths": PATHS,
        "components": {
            "schemas": {**RESPONSES, **defs.get("$defs", {})},
            "securitySchemes": {"launch": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`tma <initData>`, `vk <launch query string>`, or `demo <name>` in the demo"}},
        },
    }


@routes.get("/api/openapi.json")
async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(document())
