"""Broadcasts: one message from the owner to every customer who agreed to news, in every channel.

A broadcast goes through its own transition table: ``draft -> sending | cancelled``, ``sending -> done |
stopped``. A draft holds the text and the channels it will go through; confirming it writes one row per
recipient in the same transaction, and from then on any sender (``vitrina run`` in the background,
``vitrina broadcast`` at the terminal, both at once) works through those rows. No outbox event starts it:
the senders look for a broadcast being sent every few seconds, since the relay serves its subscribers one
event at a time and a broadcast to thousands would hold up every order notification behind it.

Who gets it: one account per person. Every customer with ``consent`` (those who sent /stop have none)
gets it once, on one of their accounts in a channel that can be messaged and is not marked unreachable:
the account their latest order came from, else the first in the order of the channels (Telegram before
VK). A person who linked a Telegram and a VK account is one customer and hears it once.

Towards people a broadcast is sent at most once, never twice: a sender claims a row (``pending ->
sending``, only while the broadcast is sending) in its own unit of work before the message goes out and
marks it sent after. A row a sender claimed and never confirmed (the process died in between) is not
sent again: after ``CLAIM_LEASE`` it counts as ``unconfirmed``. A transient failure puts the row back
with a growing delay, ``MAX_ATTEMPTS`` times at most; a permanent one marks the account unreachable.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from .audit import Change, require_owner
from .channels import Channel, CustomerRef, DeliveryError
from .errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from .engine import Engine
    from .ports import UnitOfWork

MAX_TEXT = 3500  # a message is at most 4096 characters in Telegram and 4000 in VK: room for the footer
MAX_ATTEMPTS = 6  # sends of one recipient's message before a transient failure counts as failed
CLAIM_LEASE = timedelta(minutes=10)  # longer than any send with the messengers' own waits and retries
MILESTONES = (25, 50, 75)  # percent of the recipients dealt with, told to the owner; then "done"
CHANNELS_KEY = "broadcast.channels"  # the channels the running shop can message (``vitrina run`` records them)


class BroadcastStatus(str, Enum):
    DRAFT = "draft"
    SENDING = "sending"
    DONE = "done"
    STOPPED = "stopped"
    CANCELLED = "cancelled"


BROADCAST_TRANSITIONS: dict[BroadcastStatus, frozenset[BroadcastStatus]] = {
    BroadcastStatus.DRAFT: frozenset({BroadcastStatus.SENDING, BroadcastStatus.CANCELLED}),
    BroadcastStatus.SENDING: frozenset({BroadcastStatus.DONE, BroadcastStatus.STOPPED}),
    BroadcastStatus.DONE: frozenset(),
    BroadcastStatus.STOPPED: frozenset(),
    BroadcastStatus.CANCELLED: frozenset(),
}
BroadcastStatus.TRANSITIONS = BROADCAST_TRANSITIONS  # type: ignore[attr-defined]


def ensure_transition(current: BroadcastStatus, target: BroadcastStatus) -> None:
    if target not in BROADCAST_TRANSITIONS[current]:
        raise DomainError(ErrorCode.BROADCAST_STATE, f"{current.value} -> {target.value}")


class RecipientStatus(str, Enum):
    PENDING = "pending"  # not sent yet (or waiting after a transient failure)
    SENDING = "sending"  # claimed by a sender, the message is on its way
    SENT = "sent"
    FAILED = "failed"  # the account cannot be messaged, or every attempt failed
    UNCONFIRMED = "unconfirmed"  # claimed by a sender that never said how it went: not sent again


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    status: BroadcastStatus
    text: str
    author: str  # the owner's account (``telegram:1``), or ``cli``
    language: str  # the author's, for the progress reports
    channels: tuple[str, ...]  # where it goes, in order of preference
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reported: int = 0  # the last milestone (percent) told to the author; 100 when "done" was told

    @property
    def author_ref(self) -> CustomerRef | None:
        channel, _, external_id = self.author.partition(":")
        return CustomerRef(Channel(channel), external_id) if external_id else None


@dataclass(frozen=True, slots=True)
class BroadcastRecipient:
    id: int  # also names the send (VK's ``random_id``), so a repeated send is dropped by VK
    broadcast_id: int
    channel: str
    external_id: str
    language: str

    @property
    def to(self) -> CustomerRef:
        return CustomerRef(Channel(self.channel), self.external_id, language=self.language)

    @property
    def account(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass(frozen=True, slots=True)
class AudienceMember:
    """One account that may be told: its customer agreed to news and it is not marked unreachable."""

    channel: str
    external_id: str
    customer_id: str
    language: str
    last_order_account: str = ""  # ``channel:id`` their latest order came from, "" without orders

    @property
    def account(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass(frozen=True, slots=True)
class Progress:
    broadcast: Broadcast
    total: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0
    sending: int = 0
    unconfirmed: int = 0
    next_at: datetime | None = None  # when the earliest row waiting after a failure is due

    @property
    def left(self) -> int:
        """Not dealt with yet: waiting, or on their way."""
        return self.pending + self.sending

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.unconfirmed

    @property
    def percent(self) -> int:
        return self.processed * 100 // self.total if self.total else 100


@dataclass(frozen=True, slots=True)
class Preview:
    """A draft and whom it would reach now, per channel."""

    broadcast: Broadcast
    per_channel: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.per_channel.values())


def pick_recipients(members: Iterable[AudienceMember], channels: Sequence[str]) -> list[AudienceMember]:
    """One account per customer: the one their latest order came from, else the first by channel order."""
    rank = {c: i for i, c in enumerate(channels)}
    by_customer: dict[str, list[AudienceMember]] = {}
    for m in members:
        if m.channel in rank:
            by_customer.setdefault(m.customer_id, []).append(m)
    chosen = []
    for accounts in by_customer.values():
        accounts.sort(key=lambda m: (rank[m.channel], m.external_id))
        chosen.append(next((m for m in accounts if m.account == m.last_order_account), accounts[0]))
    return sorted(chosen, key=lambda m: (rank[m.channel], m.customer_id))


def per_channel(members: Iterable[AudienceMember], channels: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(channels, 0)
    for m in members:
        counts[m.channel] += 1
    return counts


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed sends of one message: 5 s, 20 s, 80 s ... at most 10 minutes."""
    return timedelta(seconds=min(5 * 4 ** (attempts - 1), 600))


async def _audit(engine: Engine, uow: UnitOfWork, actor: CustomerRef, action: str, broadcast: Broadcast,
                 after: dict) -> None:
    await uow.audit.add(Change(actor.key, action, f"broadcast:{broadcast.id}", {"status": broadcast.status.value},
                               after, engine.now()))


async def _channels(uow: UnitOfWork) -> tuple[str, ...]:
    stored = await uow.settings.get(CHANNELS_KEY)
    return tuple(c for c in (stored or "").split(",") if c)


async def _progress(uow: UnitOfWork, broadcast: Broadcast) -> Progress:
    counts, next_at = await uow.broadcasts.counts(broadcast.id)
    return Progress(broadcast, sum(counts.values()), sent=counts.get(RecipientStatus.SENT.value, 0),
                    failed=counts.get(RecipientStatus.FAILED.value, 0),
                    pending=counts.get(RecipientStatus.PENDING.value, 0),
                    sending=counts.get(RecipientStatus.SENDING.value, 0),
                    unconfirmed=counts.get(RecipientStatus.UNCONFIRMED.value, 0), next_at=next_at)


async def _get(uow: UnitOfWork, broadcast_id: int) -> Broadcast:
    found = await uow.broadcasts.get(broadcast_id)
    if found is None:
        raise DomainError(ErrorCode.BROADCAST_NOT_FOUND, str(broadcast_id))
    return found


# --- the owner's use cases ---------------------------------------------------------------------------

async def set_broadcast_channels(self: Engine, channels: Iterable[str]) -> None:
    """The channels this shop can message (``vitrina run`` records the ones it has a messenger for)."""
    async with self.uow() as uow:
        await uow.settings.set(CHANNELS_KEY, ",".join(Channel(c).value for c in channels))


async def broadcast_audience(self: Engine, actor: CustomerRef,
                             channels: Collection[str] | None = None) -> dict[str, int]:
    """How many people a broadcast would reach now, per channel."""
    require_owner(self, actor)
    async with self.read() as uow:
        order = tuple(channels) if channels is not None else await _channels(uow)
        return per_channel(pick_recipients(await uow.broadcasts.audience(order), order), order)


async def draft_broadcast(self: Engine, actor: CustomerRef, text: str,
                          channels: Collection[str] | None = None) -> Preview:
    """Keep the text as a draft and count whom it would reach (through ``channels``, else through those
    ``vitrina run`` recorded). Nothing is sent until it is confirmed."""
    require_owner(self, actor)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise DomainError(ErrorCode.BROADCAST_TEXT_INVALID, f"{len(text)} characters")
    async with self.uow() as uow:
        order = tuple(channels) if channels is not None else await _channels(uow)
        customer = await uow.customers.by_account(actor.channel, actor.external_id)
        language = customer.language if customer else "ru"
        draft = Broadcast(0, BroadcastStatus.DRAFT, text, actor.key, language, order, self.now())
        draft = replace(draft, id=await uow.broadcasts.add(draft))
        members = pick_recipients(await uow.broadcasts.audience(order), order)
    return Preview(draft, per_channel(members, order))


async def confirm_broadcast(self: Engine, actor: CustomerRef, broadcast_id: int) -> Progress:
    """Start sending a draft: its recipients are fixed now, one row each, in this transaction."""
    require_owner(self, actor)
    async with self.uow() as uow:
        draft = await _get(uow, broadcast_id)
        ensure_transition(draft.status, BroadcastStatus.SENDING)
        busy = await uow.broadcasts.sending()
        if busy:
            raise DomainError(ErrorCode.BROADCAST_BUSY, f"broadcast {busy[0].id}")
        members = pick_recipients(await uow.broadcasts.audience(draft.channels), draft.channels)
        if not members:
            raise DomainError(ErrorCode.BROADCAST_NO_RECIPIENTS)
        await uow.broadcasts.add_recipients(draft.id, members)
        now = self.now()
        await uow.broadcasts.set_status(draft.id, BroadcastStatus.SENDING, now)
        await _audit(self, uow, actor, "broadcast", draft, {"status": "sending", "text": draft.text,
                                                            "recipients": len(members)})
        return await _progress(uow, replace(draft, status=BroadcastStatus.SENDING, started_at=now))


async def cancel_broadcast(self: Engine, actor: CustomerRef, broadcast_id: int) -> None:
    """Drop a draft that was not confirmed."""
    require_owner(self, actor)
    async with self.uow() as uow:
        draft = await _get(uow, broadcast_id)
        ensure_transition(draft.status, BroadcastStatus.CANCELLED)
        await uow.broadcasts.set_status(draft.id, BroadcastStatus.CANCELLED, self.now())


async def stop_broadcast(self: Engine, actor: CustomerRef) -> Progress:
    """Stop the broadcast being sent: who has not got it yet will not. Returns where it stopped."""
    require_owner(self, actor)
    async with self.uow() as uow:
        sending = await uow.broadcasts.sending()
        if not sending:
            raise DomainError(ErrorCode.BROADCAST_NOT_SENDING)
        current = sending[0]
        ensure_transition(current.status, BroadcastStatus.STOPPED)
        now = self.now()
        await uow.broadcasts.set_status(current.id, BroadcastStatus.STOPPED, now)
        stopped = replace(current, status=BroadcastStatus.STOPPED, finished_at=now)
        progress = await _progress(uow, stopped)
        await _audit(self, uow, actor, "broadcast_stop", current, {"status": "stopped", "sent": progress.sent})
        return progress


async def broadcast_progress(self: Engine, actor: CustomerRef, broadcast_id: int | None = None
                             ) -> Progress | None:
    """How a broadcast goes: the given one, else the one being sent, else the latest; None before the first."""
    require_owner(self, actor)
    async with self.read() as uow:
        if broadcast_id is not None:
            found: Broadcast | None = await _get(uow, broadcast_id)
        else:
            sending = await uow.broadcasts.sending()
            found = sending[0] if sending else await uow.broadcasts.latest()
        return await _progress(uow, found) if found else None


# --- the sender's use cases (the shop itself: no actor) ------------------------------------------------

async def sending_broadcasts(self: Engine) -> list[Broadcast]:
    async with self.read() as uow:
        return await uow.broadcasts.sending()


async def due_broadcast_recipients(self: Engine, broadcast_id: int, channels: Collection[str],
                                   limit: int = 50) -> list[BroadcastRecipient]:
    """Rows of a broadcast being sent that wait for a sender now, in these channels."""
    async with self.read() as uow:
        return await uow.broadcasts.due(broadcast_id, tuple(channels), self.now(), limit)


async def claim_broadcast_recipient(self: Engine, recipient_id: int) -> bool:
    """Take one row before sending: True for the one sender that got it (and only while it is sending)."""
    async with self.uow() as uow:
        return await uow.broadcasts.claim(recipient_id, self.now())


async def broadcast_delivered(self: Engine, recipient_id: int) -> None:
    async with self.uow() as uow:
        await uow.broadcasts.mark_sent(recipient_id, self.now())


async def broadcast_not_delivered(self: Engine, recipient: BroadcastRecipient, error: DeliveryError) -> str:
    """Record a failed send: a permanent failure marks the account unreachable and the row failed; a
    transient one puts the row back for later, until its attempts run out. Returns the row's status."""
    now = self.now()
    async with self.uow() as uow:
        if error.permanent:
            await uow.broadcasts.mark_failed(recipient.id, error.reason, now)
            await self.mark_unreachable(recipient.to, error.reason)  # joins this unit of work
            return RecipientStatus.FAILED.value
        attempts = await uow.broadcasts.attempts(recipient.id)
        if attempts >= MAX_ATTEMPTS:
            await uow.broadcasts.mark_failed(recipient.id, f"{error.reason}: {error}", now)
            return RecipientStatus.FAILED.value
        await uow.broadcasts.retry_later(recipient.id, now + backoff(attempts), f"{error.reason}: {error}")
        return RecipientStatus.PENDING.value


async def finish_broadcast(self: Engine, broadcast_id: int) -> Progress:
    """Count rows whose sender went silent long ago as unconfirmed, and mark the broadcast done when no
    row is waiting or on its way. Returns its progress (``status`` tells whether it is done)."""
    now = self.now()
    async with self.uow() as uow:
        current = await _get(uow, broadcast_id)
        if current.status is BroadcastStatus.SENDING:
            await uow.broadcasts.expire_claims(broadcast_id, now - CLAIM_LEASE)
            progress = await _progress(uow, current)
            if progress.left == 0:
                ensure_transition(current.status, BroadcastStatus.DONE)
                await uow.broadcasts.set_status(broadcast_id, BroadcastStatus.DONE, now)
                return replace(progress, broadcast=replace(current, status=BroadcastStatus.DONE, finished_at=now))
            return progress
        return await _progress(uow, current)


async def claim_broadcast_milestone(self: Engine, broadcast_id: int, percent: int) -> bool:
    """True for the one sender that tells the author of this milestone (100: done)."""
    async with self.uow() as uow:
        return await uow.broadcasts.claim_milestone(broadcast_id, percent)
