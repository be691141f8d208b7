"""``GET /api/openapi.json``: the OpenAPI 3.1 description of every /api route (docs/API.md in machine form).

Request bodies come from the pydantic models that validate them (``bodies``) and answers from the models
that build them (``answers``), so the document cannot drift from the server.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import answers as a
from .bodies import (
    BODIES,
    BirthdayBody,  # the birthday offer
    CartBody,
    ConsentBody,  # personal data
    ForgetBody,  # personal data
    GiftBody,  # gifts
    GiftOrderBody,  # gifts
    GroupLinesBody,
    GroupOpenBody,
    LanguageBody,
    LinkBody,
    MessagesBody,
    OrderBody,
    PickupBody,
    ReviewBody,
    ShareBody,
    VisitBody,
)

routes = web.RouteTableDef()
Json = dict[str, Any]
REF = "#/components/schemas/{model}"
ANSWERS: tuple[type[a.Answer], ...] = (
    a.Config, a.Me, a.Messages, a.Packs, a.PackInvoice, a.Visit, a.Points, a.PickupTimes, a.Menu, a.Reviews,
    a.Review, a.Quote, a.Order, a.Orders, a.StaffBoard, a.Repeat, a.LinkCode, a.Error,
    a.Referrals,  # referrals that hold
    a.Group,  # group orders
    a.ShareOffer, a.Share,  # sharing
    a.Suggestions, a.MyPoints,  # suggestions and points
    a.Gift, a.Gifts, a.GiftOffer,  # gifts
    a.Consent, a.Forgotten)  # personal data
ID = {"type": "string", "minLength": 1, "maxLength": 64}
# what an operation may be refused with whatever it is: 401 unless public, 400 (and 413) when it takes a query
# or a body; 429 (any call); each operation adds what only it can answer (tests/webapp/test_schema.py)
REFUSALS = {400: "bad_input (or another input error named below)", 401: "bad or stale launch data",
            # abuse limits (webapp/limits.py): every /api call draws on its address's bucket
            429: "rate_limited: too many requests from this address or account; Retry-After says when to retry"}
RETRY_AFTER = {"Retry-After": {"description": "whole seconds to wait before trying again", "required": True,
                               "schema": {"type": "integer", "minimum": 1}}}


CONSENT = {403: "consent_required: the customer has not consented to the policy in force (POST /api/consent "
                "first)"}
ORDER = {404: "order_not_found: no such order, or one the caller may not see (answered alike)"}
STAFF = {403: "not_staff: the caller is staff nowhere (before the order or the body is looked at), or not at "
              "the point asked for"}
CART = {400: "bad_input, empty_cart, bad_quantity, bad_option, promo_unknown, promo_expired, points_over_cap",
        404: "item_not_found",
        409: "item_unavailable, promo_exhausted, promo_already_used, points_insufficient"}
ORDERING = {**CART, **CONSENT, 400: CART[400] + ", bad_pickup_time, email_required",
            404: "item_not_found, point_not_found",
            402: "payment_failed: the provider refused or could not be reached (the order is cancelled)",
            409: CART[409] + ", out_of_stock, too_many_open_orders, point_closed, payment_provider_unknown"}
STAFF_STEP = {**STAFF, **ORDER, 402: "payment_failed: an online payment not paid yet",
              409: "invalid_transition, already_picked_up"}
PICKUP = {**STAFF, 404: "pickup_code_invalid: no open order of the caller's points has it",
          409: "already_picked_up"}
GROUP = {404: "group_not_found"}
GROUP_END = {**GROUP, 403: "group_not_organiser", 409: "group_closed"}
GIFT = {404: "gift_not_found"}


def ref(model: type[BaseModel]) -> Json:
    return {"$ref": REF.format(model=model.__name__)}


def refusal(description: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": ref(a.Error)}}}


def op(summary: str, answer: type[a.Answer] | Json, *, body: type[BaseModel] | None = None, status: int = 200,
       public: bool = False, params: tuple[str, ...] = (), query: tuple[str, ...] = (),
       media: str = "application/json", refusals: dict[int, str] | None = None) -> Json:
    schema = answer if isinstance(answer, dict) else ref(answer)
    responses: Json = {str(status): {"description": "OK", "content": {media: {"schema": schema}}}}
    always = {429} | (set() if public else {401}) | ({400} if body is not None or query else set())
    refused = {code: REFUSALS[code] for code in always} | ({413: "the body is over 64 KB"} if body else {})
    refused |= refusals or {}
    responses |= {str(code): refusal(text) for code, text in sorted(refused.items())}
    responses["429"]["headers"] = RETRY_AFTER  # abuse limits
    out: Json = {"summary": summary, "responses": responses}
    if public:
        out["security"] = []
    parameters = [{"name": p, "in": "path", "required": True, "schema": ID} for p in params]
    parameters += [{"name": q, "in": "query", "required": False, "schema": ID} for q in query]
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    return out


def revalidated(operation: Json) -> Json:
    """An answer kept per version (webapp/menu_cache.py): ETag on 200, 304 for ``If-None-Match`` naming it."""
    etag = {"ETag": {"description": "the answer's tag, one per encoding", "schema": {"type": "string"}}}
    operation["responses"]["200"]["headers"] = etag
    operation["responses"]["304"] = {"description": "Not Modified: If-None-Match names this answer's ETag",
                                     "headers": etag}
    operation["parameters"] = [*operation.get("parameters", []),
                               {"name": "If-None-Match", "in": "header", "required": False,
                                # visible ASCII, as HTTP allows in a header (others never reach the app)
                                "schema": {"type": "string", "pattern": "^[\\x20-\\x7e]*$"}}]
    return operation


PATHS: Json = {
    "/api/config": {"get": op("Public settings of the shop", a.Config, public=True)},
    "/api/openapi.json": {"get": op("This document", {"type": "object"}, public=True)},
    "/api/me": {"get": op("The calling customer", a.Me),
                "patch": op("Choose the language", a.Me, body=LanguageBody)},
    "/api/me/referrals": {"get": op("My invitation: the link, the bonus, the cap, the friends", a.Referrals)},
    "/api/me/messages": {"post": op("Record whether the customer allows the shop's messages", a.Messages,
                                    body=MessagesBody)},
    "/api/points": {"get": op("Pickup points", a.Points)},
    "/api/points/{point}/slots": {"get": op("The pickup times a point can serve for an order placed now",
                                            a.PickupTimes, params=("point",), refusals={404: "point_not_found"})},
    "/api/packs": {"get": op("Points packs on sale for Telegram Stars (inside Telegram)", a.Packs)},
    "/api/packs/{pack_id}": {"post": op("Buy a points pack: its Stars invoice", a.PackInvoice, status=201,
                                        params=("pack_id",), refusals={
                                            **CONSENT, 402: "Telegram could not make the invoice",
                                            404: "not_found: no such pack on sale",
                                            409: "payment_provider_unknown: outside Telegram, or no Stars"})},
    "/api/visits": {"post": op("Record where the Mini App was opened from", a.Visit, body=VisitBody, status=201)},
    "/api/menu": {"get": revalidated(op("The menu, with stock at ?point=", a.Menu, query=("point",),
                                        refusals={404: "point_not_found"}))},
    "/api/items/{item_id}/reviews": {"get": revalidated(op("Reviews of an item", a.Reviews, params=("item_id",),
                                                           refusals={400: "bad_input: an id over 64 characters"}))},
    "/api/cart/quote": {"post": op("Price a cart (nothing is written)", a.Quote, body=CartBody, refusals=CART)},
    "/api/orders": {"get": op("My orders, newest first", a.Orders),
                    "post": op("Place an order", a.Order, body=OrderBody, status=201,
                               refusals={**ORDERING, 409: ORDERING[409] + ", conflict"})},
    "/api/orders/{order_id}": {"get": op("One order", a.Order, params=("order_id",), refusals=ORDER)},
    "/api/orders/{order_id}/qr.svg": {"get": op("The pickup QR code", {"type": "string"}, params=("order_id",),
                                                media="image/svg+xml", refusals=ORDER)},
    "/api/orders/{order_id}/cancel": {"post": op("Cancel an order", a.Order, params=("order_id",), refusals={
        **ORDER, 409: "invalid_transition (accepted: only staff may cancel now; closed), already_picked_up"})},
    "/api/orders/{order_id}/repeat": {"post": op("The cart of a past order", a.Repeat, params=("order_id",),
                                                 refusals=ORDER)},
    "/api/orders/{order_id}/reviews": {"post": op("Review an item of a picked-up order", a.Review,
                                                  body=ReviewBody, status=201, params=("order_id",), refusals={
                                                      **ORDER, 403: "review_not_allowed: not picked up, or not "
                                                                    "an item of the order",
                                                      409: "review_exists"})},
    "/api/link/code": {"post": op("A one-time code to link another account", a.LinkCode,
                                  refusals={403: "link_staff_account: a staff account gets no code"})},
    "/api/link": {"post": op("Link this account to the one that issued the code", a.Me, body=LinkBody,
                             refusals={400: "bad_input, link_code_invalid",
                                       403: "link_staff_account: a staff account is never merged",
                                       409: "link_same_customer",
                                       429: "link_too_many_attempts: too many wrong codes, linking is locked "
                                            "for a while; or rate_limited"})},
    "/api/staff/orders": {"get": op("Open orders of a point (staff), one page", a.StaffBoard,
                                    query=("point", "after", "limit"),
                                    refusals={**STAFF, 404: "point_not_found"}) | {"parameters": [
        {"name": "point", "in": "query", "required": False, "schema": ID},
        {"name": "after", "in": "query", "required": False, "description": "the last page's next", "schema": ID},
        {"name": "limit", "in": "query", "required": False, "description": "orders per page, 50 by default",
         "schema": {"type": "integer", "minimum": 1, "maximum": 200}}]}},
    "/api/staff/orders/{order_id}/accept": {"post": op("Accept (staff)", a.Order, params=("order_id",),
                                                       refusals=STAFF_STEP)},
    "/api/staff/orders/{order_id}/ready": {"post": op("Mark ready (staff)", a.Order, params=("order_id",),
                                                      refusals=STAFF_STEP)},
    "/api/staff/lookup": {"post": op("What a scanned or typed code belongs to (staff)", a.Order,
                                     body=PickupBody, refusals=PICKUP)},
    "/api/staff/handover": {"post": op("Hand the order over (staff)", a.Order, body=PickupBody, refusals={
        **PICKUP, 402: "payment_failed: an online payment not paid yet, or its capture failed",
        409: PICKUP[409] + " (a second hand-over, by token or by code), invalid_transition (not ready)"})},
    # group orders
    "/api/groups": {"post": op("Open a group order (the caller's lines may be none)", a.Group, body=GroupOpenBody,
                               status=201, refusals={**CART, **CONSENT, 400: CART[400] + ", email_required",
                                                     404: ORDERING[404],
                                                     409: CART[409] + ", payment_provider_unknown"})},
    "/api/groups/{code}": {"get": op("A group order, as the caller sees it", a.Group, params=("code",),
                                     refusals=GROUP)},
    "/api/groups/{code}/lines": {"post": op("Add (or replace) the caller's lines while the group is open", a.Group,
                                            body=GroupLinesBody, params=("code",), refusals={
                                                **CART, **CONSENT, 404: "group_not_found, " + CART[404],
                                                409: "group_closed, " + CART[409]})},
    "/api/groups/{code}/close": {"post": op("Close it and place its orders (the organiser)", a.Group,
                                            params=("code",), refusals=GROUP_END | {409: "group_closed, group_empty"})},
    "/api/groups/{code}/cancel": {"post": op("Call it off (the organiser)", a.Group, params=("code",),
                                             refusals=GROUP_END)},
    # sharing
    "/api/share": {"get": op("What the caller shares: links carrying their referral code, the story picture",
                             a.ShareOffer)},
    "/api/shares": {"post": op("Record a share (the caller's own order, if any)", a.Share, body=ShareBody,
                               status=201, refusals=ORDER)},
    # suggestions and points
    "/api/suggestions": {"get": op("Suggestions at ?point=: the caller's usual, what is taken now, and with "
                                   "?items=a,b what is often taken with them", a.Suggestions, query=("point",),
                                   refusals={404: "point_not_found"}) | {"parameters": [
        {"name": "point", "in": "query", "required": True, "schema": ID},
        {"name": "items", "in": "query", "required": False, "description": "item ids, comma-separated, at most 20",
         "schema": {"type": "string", "pattern": "^[^,]{1,64}(,[^,]{1,64}){0,19}$"}}]}},
    "/api/me/points": {"get": op("Points: balance, tier, what expires soon, the history (?before= pages it)",
                                 a.MyPoints, query=("before",)) | {"parameters": [
        {"name": "before", "in": "query", "required": False, "description": "the id of the last entry seen",
         "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}]}},
    "/api/me/birthday": {"put": op("Give the birthday (day and month) for the birthday offer", a.MyPoints,
                                   body=BirthdayBody, refusals={400: "bad_input, birthday_invalid"}),
                         "delete": op("Withdraw the birthday", a.MyPoints)},
    # gifts
    "/api/gifts": {"get": op("Gifts the caller gave or took", a.Gifts),
                   "post": op("Buy a gift (an item or an amount), paid online", a.Gift, body=GiftBody, status=201,
                              refusals={**CONSENT, 400: "bad_input (an amount not offered), email_required",
                                        402: ORDERING[402], 404: "item_not_found",
                                        409: "item_unavailable, payment_provider_unknown"})},
    "/api/gifts/offer": {"get": op("What a gift may be: the amounts, the online methods, its days", a.GiftOffer)},
    "/api/gifts/{code}": {"get": op("A gift, as the caller sees it", a.Gift, params=("code",), refusals=GIFT)},
    "/api/gifts/{code}/claim": {"post": op("Take the gift (anyone but its giver; once)", a.Gift,
                                           params=("code",), refusals={
                                               **GIFT, 403: "gift_own", 409: "gift_taken, gift_unavailable"})},
    "/api/gifts/{code}/order": {"post": op("Order with the gift taken: its item (and more), at a point and time",
                                           a.Order, body=GiftOrderBody, status=201, params=("code",), refusals={
                                               **ORDERING, 404: "gift_not_found, " + ORDERING[404],
                                               409: "gift_taken, gift_unavailable, " + ORDERING[409]})},
    # personal data (152-FZ); the policy itself is the HTML page /privacy
    "/api/consent": {"post": op("Consent to the personal data policy of this version (/api/config's privacy)",
                                a.Consent, body=ConsentBody, status=201,
                                refusals={400: "bad input, or consent_version_stale: not the policy in force"})},
    "/api/me/export": {"get": op("Everything the shop keeps about the caller, as a JSON file to save "
                                 "(Content-Disposition: attachment)", {"type": "object"})},
    "/api/me/forget": {"post": op("Delete the caller's profile and every linked account; orders stay, anonymized",
                                  a.Forgotten, body=ForgetBody)},
}


def _admits_null(schema: Json) -> bool:
    kinds = schema.get("type")
    return kinds == "null" or (isinstance(kinds, list) and "null" in kinds) or any(
        _admits_null(branch) for branch in schema.get("anyOf", []) + schema.get("oneOf", []))


def _without_null_defaults(node: Any) -> Any:
    """The schemas without ``"default": null`` where null is not a value: a key left out of an answer when
    empty (``SkipJsonSchema[None]``) keeps pydantic's default of None, which the document may not claim (an
    OpenAPI validator refuses a default its schema does not admit)."""
    if isinstance(node, list):
        return [_without_null_defaults(v) for v in node]
    if not isinstance(node, dict):
        return node
    drop = "default" in node and node["default"] is None and not _admits_null(node)
    return {k: _without_null_defaults(v) for k, v in node.items() if not (drop and k == "default")}


@cache
def document() -> Json:
    models: list[tuple[type[BaseModel], Any]] = [(m, "validation") for m in BODIES]
    models += [(m, "serialization") for m in ANSWERS]
    _, defs = models_json_schema(models, ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vitrina Mini App API", "version": "1",
                 "description": "See docs/API.md. Prices are always computed on the server."},
        "security": [{"launch": []}],
        "paths": PATHS,
        "components": {
            "schemas": _without_null_defaults(defs.get("$defs", {})),
            "securitySchemes": {"launch": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`tma <initData>`, `vk <launch query string>`, or `demo <name>` in the demo"}},
        },
    }


@routes.get("/api/openapi.json")
async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(document())
