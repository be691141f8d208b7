"""The engine: one object the channels talk to. Its use cases live in modules named for their area."""
from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import (
    admin,
    audit,
    broadcasts,
    customers,
    delivery,
    dialogs,
    expiry,
    gifts,  # gifts
    groups,
    loyalty,  # suggestions and points
    notices,
    operations,  # operations: what /metrics reads
    order_views,
    ordering,
    packs,
    paying,
    payments,
    privacy,  # personal data (152-FZ)
    promo_codes,
    queries,
    referrals,
    reviews,
    setup,
    sharing,
    shop,
    suggestions,  # suggestions and points
)
from . import limits as abuse  # abuse limits
from . import photos as menu_photos
from . import stats as numbers
from .channels import CustomerRef
from .errors import DomainError, ErrorCode
from .events import DomainEvent
from .model import ShopRules
from .payments import CounterProvider
from .ports import (
    ChartRenderer,
    Clock,
    Metrics,
    NoMetrics,
    PaymentProvider,
    PhotoProcessor,
    StarsGateway,
    StoryRenderer,
    UnitOfWork,
    UnitOfWorkFactory,
)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Engine:
    """Wires the use cases to a unit-of-work factory, a clock, the instance secret and the providers."""

    uow: UnitOfWorkFactory
    secret: bytes = b""
    owners: Iterable[CustomerRef] = ()
    clock: Clock = field(default_factory=SystemClock)
    providers: Mapping[str, PaymentProvider] = field(default_factory=dict)
    stars: StarsGateway | None = None  # Telegram Stars: points packs (digital goods)
    photos: PhotoProcessor | None = None  # makes owners' photos into the Mini App's sizes; without it /photo is off
    reader: UnitOfWorkFactory | None = None  # read-only snapshots; falls back to ``uow``
    charts: ChartRenderer | None = None  # draws the owner's /stats picture; without it /stats answers in text
    stories: StoryRenderer | None = None  # sharing: draws the story picture; without it no story is offered
    metrics: Metrics = field(default_factory=NoMetrics)  # operations: counted for /metrics (bot/observability.py)
    # abuse limits (journey/limits.py): token buckets per account and per address; ShopLimits.off() for none
    limits: abuse.ShopLimits = field(default_factory=abuse.ShopLimits)
    # personal data: the version of the policy customers consent to before ordering; None: consent not asked
    consent_version: str | None = None

    def __post_init__(self) -> None:
        # the account alone decides (not the name or language a ref may carry): ``is_owner`` looks it up
        self.owners = frozenset(CustomerRef(o.channel, o.external_id) for o in self.owners)
        self.providers = {"counter": CounterProvider(), **self.providers}

    def read(self) -> UnitOfWork:
        return (self.reader or self.uow)()

    def now(self) -> datetime:
        return self.clock.now()

    def provider(self, name: str) -> PaymentProvider:
        try:
            return self.providers[name]
        except KeyError:
            raise DomainError(ErrorCode.PAYMENT_PROVIDER_UNKNOWN, name) from None

    async def start(self) -> None:
        """Load or create the instance secret (kept in the database when not configured)."""
        if self.secret:
            return
        async with self.uow() as uow:  # two instances starting at once on a new database keep the same one
            stored = await uow.settings.setdefault("secret_key", secrets.token_hex(32))
        self.secret = bytes.fromhex(stored)

    async def rules(self, uow: UnitOfWork) -> ShopRules:
        return ShopRules.from_mapping({k[len("rule."):]: v for k, v in (await uow.settings.all()).items()
                                       if k.startswith("rule.")})

    @staticmethod
    async def emit(uow: UnitOfWork, event: DomainEvent) -> None:
        await uow.outbox.add(event)

    # use cases, grouped by area (each function takes the engine as ``self``)
    identify = customers.identify
    record_visit = customers.record_visit
    profile = customers.profile
    set_language = customers.set_language
    set_consent = customers.set_consent
    issue_link_code = abuse.limited("link_issue", customers.issue_link_code)
    redeem_link_code = abuse.limited("link_redeem", customers.redeem_link_code)
    is_owner = customers.is_owner
    claim_update = customers.claim_update
    begin_update = customers.begin_update  # several instances: an update handled under a lease
    finish_update = customers.finish_update
    release_update = customers.release_update  # a webhook's failed handling, to be redelivered
    language = queries.language
    balance = queries.balance

    deliver_each = delivery.deliver_each
    mark_unreachable = delivery.mark_unreachable
    clear_unreachable = delivery.clear_unreachable
    unreachable_reason = delivery.unreachable_reason
    set_messages_allowed = delivery.set_messages_allowed
    dead_letters = delivery.dead_letters
    waiting_deliveries = delivery.waiting_deliveries
    retry_dead = delivery.retry_dead
    prune = delivery.prune
    message_gate = abuse.message_gate  # abuse limits: a flood of chat messages

    shop_view = queries.shop_view
    menu = shop.menu
    menu_version = shop.menu_version
    import_menu = shop.import_menu
    export_menu = shop.export_menu
    list_staff = shop.list_staff
    set_stock = shop.set_stock
    set_available = shop.set_available
    set_rules = shop.set_rules
    save_promo = shop.save_promo
    add_staff = shop.add_staff
    remove_staff = shop.remove_staff
    holds_shop = shop.holds_shop

    add_review = abuse.limited("reviews", reviews.add_review)
    item_reviews = reviews.item_reviews
    ratings = reviews.ratings

    quote = ordering.quote
    place_order = abuse.limited("orders", ordering.place_order)
    accept = ordering.accept
    mark_ready = ordering.mark_ready
    hand_over = abuse.limited("pickup_lookups", ordering.hand_over, abuse.by_code)
    cancel = ordering.cancel
    expire_due = expiry.expire_due
    order_view = order_views.order_view
    pickup_token = order_views.pickup_token
    find_for_pickup = abuse.limited("pickup_lookups", ordering.find_for_pickup)
    orders_of = order_views.orders_of
    open_orders = order_views.open_orders
    repeat_lines = order_views.repeat_lines
    order_details = order_views.order_details
    my_orders = order_views.my_orders
    staff_board = order_views.staff_board

    # --- the owner in the chat: the audit log, undo, dialogs that span several messages
    undo = audit.undo
    changes = audit.changes
    dialog = dialogs.dialog
    open_dialog = dialogs.open_dialog
    end_dialog = dialogs.end_dialog
    # --- owner: menu edits (journey/admin.py)
    change_price = admin.change_price
    set_visible = admin.set_visible
    change_stock = admin.change_stock
    save_item = admin.save_item
    owner_menu = admin.owner_menu
    owner_item = admin.owner_item
    # --- owner: photos (journey/photos.py)
    set_photo = menu_photos.set_photo
    media = menu_photos.media
    # --- owner: shop, points, promotions, staff (journey/setup.py)
    shop_settings = setup.shop_settings
    change_shop = setup.change_shop
    add_point = setup.add_point
    change_point = setup.change_point
    promos = promo_codes.promos
    create_promo = promo_codes.create_promo
    end_promo = promo_codes.end_promo
    staff = setup.staff
    # --- owner: broadcasts (journey/broadcasts.py)
    set_broadcast_channels = broadcasts.set_broadcast_channels
    broadcast_audience = broadcasts.broadcast_audience
    draft_broadcast = broadcasts.draft_broadcast
    confirm_broadcast = broadcasts.confirm_broadcast
    cancel_broadcast = broadcasts.cancel_broadcast
    stop_broadcast = broadcasts.stop_broadcast
    broadcast_progress = broadcasts.broadcast_progress
    sending_broadcasts = broadcasts.sending_broadcasts
    due_broadcast_recipients = broadcasts.due_broadcast_recipients
    claim_broadcast_recipient = broadcasts.claim_broadcast_recipient
    broadcast_delivered = broadcasts.broadcast_delivered
    broadcast_not_delivered = broadcasts.broadcast_not_delivered
    finish_broadcast = broadcasts.finish_broadcast
    claim_broadcast_milestone = broadcasts.claim_broadcast_milestone
    # --- owner: numbers (journey/stats.py)
    stats = numbers.stats
    export_orders = numbers.export_orders
    export_customers = numbers.export_customers
    # --- staff: the orders board and pickup times
    pickup_slots = ordering.pickup_slots
    # --- online payments (journey/paying.py)
    payment_notice = paying.payment_notice
    reconcile = paying.reconcile
    check_invoice = paying.check_invoice
    invoice_paid = paying.invoice_paid
    refund = paying.refund
    payment_methods = payments.available
    # --- points packs for Telegram Stars (journey/packs.py)
    points_packs = packs.points_packs
    buy_pack = abuse.limited("orders", packs.buy_pack)
    pack_invoice_link = packs.pack_invoice_link
    check_pack = packs.check_pack
    pack_paid = packs.pack_paid
    refund_pack = packs.refund_pack
    # --- referrals that hold (journey/referrals.py)
    referral_summary = referrals.referral_summary
    referral_recipient = referrals.recipient_of
    # --- group orders (journey/groups.py)
    open_group = abuse.limited("orders", groups.open_group)
    group_view = groups.group_view
    join_group = abuse.limited("orders", groups.join_group)
    close_group = groups.close_group
    cancel_group = groups.cancel_group
    close_due_groups = groups.close_due_groups
    # --- sharing and regulars (journey/sharing.py, journey/regulars.py)
    share_offer = sharing.share_offer
    record_share = sharing.record_share
    story_picture = sharing.story_picture
    # --- suggestions and points (journey/suggestions.py, journey/loyalty.py)
    suggestions = suggestions.suggestions
    points_summary = loyalty.points_summary
    tier_of = loyalty.tier_of
    set_birthday = loyalty.set_birthday
    expire_points = loyalty.expire_points
    warn_expiring = loyalty.warn_expiring
    greet_birthdays = loyalty.greet_birthdays
    # --- gifts (journey/gifts.py)
    gift_offer = gifts.gift_offer
    buy_gift = abuse.limited("orders", gifts.buy_gift)
    gift_view = gifts.gift_view
    gift_card = gifts.gift_card
    my_gifts = gifts.my_gifts
    claim_gift = gifts.claim_gift
    order_gift = gifts.order_gift  # limited as the order it places
    expire_gifts = gifts.expire_gifts

    # --- personal data (journey/privacy.py)
    consent = privacy.consent
    give_consent = privacy.give_consent
    needs_consent = privacy.needs_consent
    export_data = privacy.export_data
    forget = privacy.forget
    anonymize_inactive = privacy.anonymize_inactive

    # --- operations: read at /metrics (journey/operations.py)
    open_order_counts = operations.open_order_counts
    outbox_backlog = operations.outbox_backlog

    recipient = notices.recipient
    new_order_notice = notices.new_order_notice
    points_earned_for = notices.points_earned_for
