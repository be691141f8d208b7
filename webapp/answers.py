"""The shapes of the Mini App API's answers (docs/API.md), as pydantic models.

``serialize`` builds every answer through these models and ``openapi`` describes the answers with their
JSON schemas, so the served document and the server cannot drift apart. Field order is the order of the
keys in the JSON. Times are ISO 8601 as ``datetime.isoformat`` writes them (``+00:00``, not ``Z``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from journey.deeplinks import LinkKind
from journey.states import OrderStatus, PaymentStatus

Time = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str),
                 WithJsonSchema({"type": "string", "format": "date-time"})]


class Answer(BaseModel):
    # no other keys: the document describes exactly what this server sends
    model_config = ConfigDict(frozen=True, extra="forbid")


class Error(Answer):
    """Every refusal: 400 bad input, 401 bad or stale launch data, 403 not allowed, 404, 409 conflict."""

    error: str = Field(description="an engine ErrorCode value")
    message: str = Field(description="in the caller's language")
    detail: str | SkipJsonSchema[None] = Field(None, description="what did not fit (input errors only)",
                                              exclude_if=lambda v: v is None)


class Money(Answer):
    amount: int = Field(description="minor units: kopecks for RUB, stars for XTR")
    currency: str
    text: str = Field(description="the amount as the shop writes it, e.g. 249,90 ₽")


class Category(Answer):
    id: str
    name: str


class Option(Answer):
    id: str
    name: str
    price_delta: Money


class OptionGroup(Answer):
    id: str
    name: str
    required: bool
    multiple: bool
    options: list[Option]


class Rating(Answer):
    average: float | None
    count: int


class Item(Answer):
    id: str
    category: str
    name: str
    description: str
    photo: str
    price: Money
    options: list[OptionGroup]
    tags: list[str]
    stock: int | None = Field(description="left at the point asked for; null: not counted")
    sold_out: bool
    rating: Rating


class Menu(Answer):
    point: str | None
    categories: list[Category]
    items: list[Item]


class Point(Answer):
    id: str
    name: str
    address: str
    lat: float | None
    lon: float | None
    hours: str
    prep_minutes: int
    open_now: bool


class Points(Answer):
    points: list[Point]


class OrderLine(Answer):
    item: str
    name: str
    options: list[str] = Field(description="the names of the options chosen")
    quantity: int
    unit_price: Money
    total: Money


class Quote(Answer):
    lines: list[OrderLine]
    subtotal: Money
    discount: Money
    points: int = Field(description="points spent, in minor units")
    total: Money
    points_cap: int = Field(description="the most points this cart could take")
    balance: int
    promo: str | None
    birthday: Money | None = Field(None, description="the birthday offer: the part of `discount` it is (null: none)")


class OrderPoint(Answer):
    id: str
    name: str
    address: str


class StatusChange(Answer):
    status: OrderStatus
    at: Time | None


class Payment(Answer):
    provider: str
    status: PaymentStatus | None
    confirmation_url: str | None = Field(description="the provider's page where the customer pays (YooKassa); "
                                                     "null once paid or for other methods")
    invoice_link: str | None = Field(description="the Telegram invoice to open with Telegram.WebApp.openInvoice; "
                                                 "null once paid or for other methods")
    refunded: Money | None = Field(description="what was given back after capture; null when nothing was")


class OrderCustomer(Answer):
    name: str


class Order(Answer):
    id: str
    number: str
    status: OrderStatus
    point: OrderPoint
    table: str | None = Field(description="the table of an order placed from a table's QR code (t<point>_<table>)")
    lines: list[OrderLine]
    subtotal: Money
    discount: Money
    points: int
    total: Money
    promo: str | None
    pickup_at: Time | None
    late_minutes: int = Field(description="whole minutes an open order is past its pickup time; 0: on time or closed")
    created_at: Time | None
    short_code: str
    pickup_token: str
    history: list[StatusChange]
    payment: Payment
    qr: str = Field(description="the address of the pickup QR code (SVG)")
    customer: OrderCustomer | SkipJsonSchema[None] = Field(None, description="staff views only",
                                                           exclude_if=lambda v: v is None)


class Orders(Answer):
    orders: list[Order]


class StaffBoard(Answer):
    """One page of the staff board, soonest pickup first."""

    orders: list[Order]
    next: str | None = Field(description="the next page: pass it as ?after=; null after the last page")


class PickupTimes(Answer):
    """When a point can hand over an order placed now: only times placing the order accepts."""

    point: str
    asap: Time | None = Field(description="the pickup time of an order placed now without one; null: the point "
                                          "cannot serve one at once (closed, or closing before it could be ready)")
    opens_at: Time | None = Field(description="with no asap: when the point opens (null when not within two days)")
    slots: list[Time] = Field(description="times to choose: quarter hours from the earliest until closing, in one "
                                          "day of the shop's time zone (the next opening's when asap is null)")


class Account(Answer):
    channel: str
    id: str


class Consent(Answer):  # personal data: a consent to the policy (152-FZ)
    version: str = Field(description="the version of the policy consented to (/api/config's privacy.version)")
    given_at: Time


class Me(Answer):
    id: str
    name: str
    channels: list[Account]
    points: int
    language: Literal["ru", "en"]
    is_staff: bool
    staff_points: list[str] = Field(description='ids of the points this customer serves; "*": every point')
    referral_code: str
    referral_link: str
    consent: Consent | None = Field(description="the latest consent to the personal data policy; null: none. "
                                                "Another version than the policy's is a consent to an old text")


class Pack(Answer):
    id: str
    points: int
    stars: int = Field(description="its price in Telegram Stars")


class Packs(Answer):
    packs: list[Pack] = Field(description="points packs on sale for Telegram Stars (inside Telegram only)")


class PackInvoice(Answer):
    purchase: str = Field(description="the purchase id: the invoice's payload")
    invoice_link: str = Field(description="open with Telegram.WebApp.openInvoice")


class Messages(Answer):
    allowed: bool = Field(description="whether the shop may now message this account")


class Visit(Answer):
    kind: LinkKind
    source: str


class Review(Answer):
    rating: int
    text: str
    author: str
    created_at: Time | None


class Reviews(Answer):
    reviews: list[Review]
    average: float | None
    count: int


class CartLine(Answer):
    item: str
    quantity: int
    options: dict[str, list[str]] = Field(description="option group id -> option ids")


class Repeat(Answer):
    lines: list[CartLine]
    skipped: int = Field(description="lines of the order that cannot be bought now")


class LinkCode(Answer):
    code: str
    expires_at: Time | None


class ChannelConfig(Answer):
    """What the front end needs of one channel before anyone signed in; the other keys are the channel's."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, str | int | None] = Field(init=False)

    scheme: str = Field(description="the Authorization scheme of this channel's launch data")


class GroupRules(Answer):  # group orders: what a group opened now would offer
    min_people: int
    percent: int
    minutes: int = Field(description="how long friends may join")


class PrivacyConfig(Answer):  # personal data
    url: str = Field(description="the shop's personal data policy (an HTML page)")
    version: str = Field(description="the version of the policy in force: what POST /api/consent names")
    required: bool = Field(description="consent to this version is asked before the first order (else an order "
                                       "is refused 403 consent_required)")


class Config(Answer):
    demo: bool
    shop: str
    currency: str
    timezone: str
    channels: dict[str, ChannelConfig] = Field(description="the configured channels with a Mini App, by name")
    payments: list[str] = Field(description="the configured payment methods: counter (always), yookassa, "
                                            "telegram and stars (inside Telegram only; stars for digital goods)")
    receipt_email: bool = Field(description="an online payment needs an e-mail for its receipt (54-FZ)")
    public_url: str
    group: GroupRules  # group orders
    privacy: PrivacyConfig  # personal data


class Forgotten(Answer):
    deleted: bool = Field(description="the profile and every linked account are gone; the next call starts afresh")


# referrals that hold (GET /api/me/referrals)
class ReferredFriend(Answer):
    name: str = Field(description="the friend's first name only")
    joined_at: Time
    status: Literal["pending", "rewarded", "capped", "void"] = Field(
        description="pending: their first pickup is ahead; rewarded: both got the bonus; capped: the friend "
                    "got it, the inviter had reached the month's cap; void: not a new person after all")
    points: int = Field(description="what the inviter got for this friend")


class Referrals(Answer):
    code: str
    link: str = Field(description="the invitation link (a QR landing page that opens the shop anywhere)")
    bonus: int = Field(description="points each side gets when the friend picks up their first order")
    monthly_cap: int = Field(description="friends an inviter is rewarded for per calendar month; 0: no cap")
    left_this_month: int | None = Field(description="rewards left this month; null: no cap")
    friends: list[ReferredFriend] = Field(description="newest first")
    invited: int = Field(description="friends who came by the link (not voided)")
    rewarded: int = Field(description="friends who brought the inviter points")
    points: int = Field(description="points the inviter got for friends")
    invitation: Literal["pending", "rewarded", "capped"] | None = Field(
        description="the caller's own invitation by a friend: pending (their first pickup brings the bonus), "
                    "rewarded or capped (the bonus was paid); null: not invited")


# group orders (/api/groups)
class GroupMember(Answer):
    name: str = Field(description="the member's first name only")
    me: bool = Field(description="the caller")
    organiser: bool
    lines: list[OrderLine] = Field(description="priced by the server, with the group's discount once reached")
    subtotal: Money | None = Field(description="null when a line is no longer on the menu")
    discount: Money | None
    total: Money | None


class Group(Answer):
    code: str
    start: str = Field(description="the start parameter that opens it: j<code>")
    link: str = Field(description="<PUBLIC_URL>/go/j<code>: opens the shop in Telegram, VK or the browser")
    status: Literal["open", "closed", "ordered", "cancelled", "expired"]
    reason: str = Field(description="why it was cancelled or expired: organiser, empty, or the refusal's error code")
    point: OrderPoint
    pickup_at: Time | None = Field(description="null: as soon as the orders can be ready once it closes")
    payer: Literal["organiser", "each"] = Field(
        description="organiser: one order with everyone's lines, paid by the organiser; each: one order per "
                    "member, paid at the counter")
    payment: str = Field(description="how the organiser pays (payer organiser); counter for each")
    min_people: int = Field(description="members with lines needed for the discount")
    percent: int = Field(description="the discount for everyone once min_people joined")
    joined: int = Field(description="members with lines")
    reached: bool = Field(description="the goal is reached (once closed: whether the discount was applied)")
    joinable: bool = Field(description="open and within its window: lines may be added")
    closes_at: Time
    seconds_left: int = Field(description="until the window ends; 0 once it has")
    organiser: bool = Field(description="the caller opened it (and may close or cancel it)")
    member: bool = Field(description="the caller has lines in it")
    members: list[GroupMember] = Field(description="in the order they joined")
    my_order: str | None = Field(description="the caller's order once placed (payer organiser: the organiser's)")


# sharing (GET /api/share, POST /api/shares)
ShareKindName = Literal["telegram_story", "telegram_inline", "vk_story", "vk_wall", "link"]


class ShareLink(Answer):
    kind: ShareKindName
    start: str = Field(description="the start parameter r<code>-<via> (a VK share opens vk.com/app<id>#<start>)")
    link: str = Field(description="<PUBLIC_URL>/go/r<code>-<via>: the caller's referral link tagged with how it "
                                  "is shared (via: ts, ti, vs, vw, l)")


class ShareOffer(Answer):
    code: str = Field(description="the caller's referral code every share carries")
    shop: str = Field(description="the shop's name, for the share's words")
    links: list[ShareLink] = Field(description="one per kind")
    story: str | None = Field(description="the story picture (1080x1920 JPEG) at an absolute address; null when "
                                          "the server draws none")
    inline_query: str = Field(description="what Telegram.WebApp.switchInlineQuery is given: the bot's inline "
                                          "mode answers it with the shop's card")


class Share(Answer):
    id: str
    kind: ShareKindName
    order_id: str | None
    link: str = Field(description="the link this share carries")


# suggestions and points (GET /api/suggestions, GET /api/me/points, PUT|DELETE /api/me/birthday)
class SuggestedLine(Answer):
    item: str
    name: str
    options: dict[str, list[str]] = Field(description="option ids chosen, by group: what the cart sends back")
    option_names: list[str]
    price: Money = Field(description="one of it, with its options, at today's prices")
    times: int = Field(description="how many times the customer picked this line up")


class SuggestedItem(Answer):
    item: str
    name: str
    price: Money


class Suggestions(Answer):
    usual: list[SuggestedLine] = Field(description="the caller's most repeated lines (empty for someone new)")
    together: list[SuggestedItem] = Field(description="often picked up with ?items= (empty without them)")
    now: list[SuggestedItem] = Field(description="what is taken most at this hour of the shop's clock")
    hour: int = Field(description="the shop's hour that `now` is about")


class Tier(Answer):
    level: int = Field(description="1 = the first")
    name: str = Field(description="in the caller's language")
    percent: int = Field(description="points earned per 100 kopecks paid")
    threshold: int = Field(description="minor units paid in the last 365 days from which this tier holds")


class PointsMove(Answer):
    id: int = Field(description="pass as ?before= for older entries")
    delta: int
    reason: str = Field(description="earn, spend, refund, referral, expire, adjust, bought...")
    at: Time
    order: str | None
    short_code: str | None = Field(description="the order's short code")


class Birthday(Answer):
    day: int | None
    month: int | None
    percent: int = Field(description="the birthday discount; 0: the shop offers none")
    days: int = Field(description="it holds this many days before and after the birthday, once a year")


class MyPoints(Answer):
    balance: int
    tier: Tier
    spent: int = Field(description="minor units paid for picked-up orders in the last 365 days")
    next_tier: Tier | None
    to_next: int = Field(description="minor units left to the next tier; 0 at the top")
    tiers: list[Tier]
    expiring: int = Field(description="points that expire within a week")
    expiring_at: Time | None = Field(description="when the first of them do")
    expire_days: int = Field(description="points expire this long after they were earned; 0: never")
    history: list[PointsMove] = Field(description="newest first")
    more: int | None = Field(description="?before= for the next page; null: this is the last")
    birthday: Birthday


# gifts (journey/gifts.py)
class Gift(Answer):
    code: str = Field(description="only the giver and the friend who took it see it; anyone else holding the link "
                                  "sees the gift by it too")
    start: str = Field(description="the start parameter that opens it: g<code>")
    link: str = Field(description="<PUBLIC_URL>/go/g<code>: opens the gift in Telegram, VK or the browser")
    status: Literal["awaiting_payment", "active", "claimed", "redeemed", "failed", "expired", "refunded"]
    item: str | None = Field(description="the item given (its default options); null: an amount")
    title: str = Field(description="the item's name, or empty for an amount")
    amount: Money = Field(description="what was paid, and what the gift pays for")
    message: str
    from_name: str = Field(description="the giver's first name")
    giver: bool = Field(description="the caller bought it")
    taker: bool = Field(description="the caller took it")
    claimable: bool = Field(description="the caller may take it now")
    taken: bool = Field(description="someone took it")
    expires_at: Time | None = Field(description="when it expires unless redeemed (set once paid)")
    payment_link: str | None = Field(description="the giver's page (or Telegram invoice) while it waits for payment")
    order: str | None = Field(description="the taker's open order with it")


class Gifts(Answer):
    gifts: list[Gift] = Field(description="gifts the caller gave or took, newest first")


class GiftOffer(Answer):
    amounts: list[Money] = Field(description="the amounts a gift of money may be")
    payments: list[str] = Field(description="the online methods a gift may be paid with in the caller's channel")
    days: int = Field(description="a gift not redeemed in this many days expires and is refunded")

