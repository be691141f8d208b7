"""Request bodies. Strict: wrong types, unknown fields (a price!) and out-of-range numbers are 400.

The client sends ids and quantities only; every amount is computed by the engine.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from journey.deeplinks import DeepLink, LinkKind, parse_start
from journey.model import CartLine
from journey.pricing import MAX_LINES, MAX_QUANTITY

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Start = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]  # the deep-link grammar


def _whole(value: Any) -> Any:
    """JSON has one kind of number: ``2.0`` is the integer 2 (as JSON Schema says), ``2.5`` is not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# after the bounds (so that the schema keeps them as minimum/maximum); still strict: no strings, no booleans
WHOLE = BeforeValidator(_whole)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CartLineBody(Body):
    item: Id
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY), WHOLE] = 1
    options: Annotated[dict[Id, Annotated[list[Id], Field(max_length=20)]], Field(max_length=20)] = {}

    def to_line(self) -> CartLine:
        return CartLine(self.item, self.quantity, {group: tuple(ids) for group, ids in self.options.items()})


class CartBody(Body):
    point: Id
    lines: Annotated[list[CartLineBody], Field(max_length=MAX_LINES)]
    promo: Annotated[str, StringConstraints(max_length=32)] | None = None
    points: Annotated[int, Field(ge=0, le=10**9), WHOLE] = 0

    def cart(self) -> list[CartLine]:
        return [line.to_line() for line in self.lines]


class OrderBody(CartBody):
    pickup_at: AwareDatetime | None = None
    payment: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")] = "counter"
    request_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    start: Start | None = None  # what an unsigned launch (VK hash, browser ?start=) was opened with
    # where an online payment's receipt goes (54-FZ), when the shop sends receipts
    # (no \s: Python's and JSON Schema's differ on what is a space; control characters and spaces by code)
    email: Annotated[str, StringConstraints(
        pattern=r"^[^@\x00-\x20\x7f]{1,64}@[^@\x00-\x20\x7f]{1,190}\.[^@\x00-\x20\x7f]{2,63}$")] | None = None


class VisitBody(Body):
    start: Start

    def link(self) -> DeepLink:
        return parse_start(self.start) or DeepLink(self.start, LinkKind.UNKNOWN)  # never empty: see Start


class LanguageBody(Body):
    language: Literal["ru", "en"]


class ReviewBody(Body):
    item: Id
    rating: Annotated[int, Field(ge=1, le=5), WHOLE]
    text: Annotated[str, StringConstraints(max_length=1000)] = ""


class LinkBody(Body):
    code: Annotated[str, StringConstraints(min_length=1, max_length=16)]


class MessagesBody(Body):
    """The customer's answer when the Mini App asked to allow the community's messages."""

    allowed: bool


class PickupBody(Body):
    """A scanned QR (``token``) or a typed short code (``code``, with ``point`` when staff serve several)."""

    # exactly one of the two, as the validator below checks, said in the schema too
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["token"], "properties": {"token": {"type": "string"}}},
        {"required": ["code"], "properties": {"code": {"type": "string"}}}]})

    token: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    code: Annotated[str, StringConstraints(min_length=1, max_length=8)] | None = None
    point: Id | None = None

    @model_validator(mode="after")
    def _one_way(self) -> PickupBody:
        if (self.token is None) == (self.code is None):
            raise ValueError("send either token or code")
        return self


# group orders: the lines are ids and quantities only, like a cart's
class GroupLinesBody(Body):
    lines: Annotated[list[CartLineBody], Field(max_length=MAX_LINES)]

    def cart(self) -> list[CartLine]:
        return [line.to_line() for line in self.lines]


class GroupOpenBody(GroupLinesBody):
    point: Id
    payer: Literal["organiser", "each"] = "organiser"
    payment: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")] = "counter"
    pickup_at: AwareDatetime | None = None
    email: Annotated[str, StringConstraints(
        pattern=r"^[^@\x00-\x20\x7f]{1,64}@[^@\x00-\x20\x7f]{1,190}\.[^@\x00-\x20\x7f]{2,63}$")] | None = None


# sharing (POST /api/shares)
class ShareBody(Body):
    kind: Literal["telegram_story", "telegram_inline", "vk_story", "vk_wall", "link"]
    order_id: Id | None = None  # the caller's own order it was shared from


# the birthday offer (PUT /api/me/birthday): a day that does not exist (31 April) is refused by the engine
class BirthdayBody(Body):
    day: Annotated[int, Field(ge=1, le=31), WHOLE]
    month: Annotated[int, Field(ge=1, le=12), WHOLE]


# gifts (POST /api/gifts, POST /api/gifts/{code}/order)
class GiftBody(Body):
    item: Id | None = None  # an item of the menu, with its default options ...
    amount: Annotated[int, Field(ge=1, le=10_000_000), WHOLE] | None = None  # ... or an amount (minor units)
    message: Annotated[str, StringConstraints(max_length=140)] = ""
    payment: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
    email: Annotated[str, StringConstraints(
        pattern=r"^[^@\x00-\x20\x7f]{1,64}@[^@\x00-\x20\x7f]{1,190}\.[^@\x00-\x20\x7f]{2,63}$")] | None = None


class GiftOrderBody(Body):
    point: Id
    pickup_at: AwareDatetime | None = None
    lines: Annotated[list[CartLineBody], Field(max_length=MAX_LINES)] = []  # more, besides the gift's item
    payment: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")] = "counter"  # for what is left
    request_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    email: Annotated[str, StringConstraints(
        pattern=r"^[^@\x00-\x20\x7f]{1,64}@[^@\x00-\x20\x7f]{1,190}\.[^@\x00-\x20\x7f]{2,63}$")] | None = None

    def cart(self) -> list[CartLine]:
        return [line.to_line() for line in self.lines]


# personal data (POST /api/consent, POST /api/me/forget)
class ConsentBody(Body):
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ForgetBody(Body):
    """Deleting the profile takes an explicit ``{"confirm": true}``: an empty or stray request deletes nothing."""

    confirm: Literal[True]


BODIES: tuple[type[Body], ...] = (CartBody, OrderBody, VisitBody, LanguageBody, ReviewBody, LinkBody, PickupBody,
                                  MessagesBody,
                                  GroupLinesBody, GroupOpenBody,  # group orders
                                  ShareBody,  # sharing
                                  BirthdayBody,  # the birthday offer
                                  GiftBody, GiftOrderBody,  # gifts
                                  ConsentBody, ForgetBody)  # personal data

