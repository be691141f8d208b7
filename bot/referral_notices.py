"""Referrals in the chat: both sides are told when a friend came by the link and when the bonus arrived
(or why the inviter's did not: the month's cap), and a linked account told what an invitation to itself
took back. Also the invitation's wording for /points, so the chat says what the Mini App says."""
from __future__ import annotations

from typing import TYPE_CHECKING

from journey.channels import CustomerRef, Reply, Text
from journey.deeplinks import DeepLink
from journey.events import DomainEvent
from journey.model import Customer
from journey.referrals import ReferralSummary

from .texts import add_texts, t

if TYPE_CHECKING:
    from .notifications import Notifier

add_texts({
    "n_referral_joined": ("По вашей ссылке пришёл друг{name}. Когда он заберёт свой первый заказ, вы оба получите "
                          "{points} баллов.",
                          "A friend{name} came by your link. When they pick up their first order, you both get "
                          "{points} points."),
    "n_referral_friend": ("Бонус за приглашение: +{points} баллов. Спасибо, что пришли по ссылке друга!",
                          "Invitation bonus: +{points} points. Thank you for coming by a friend's link!"),
    "n_referral_rewarded": ("Ваш друг{name} забрал свой первый заказ: вам +{points} баллов.",
                            "Your friend{name} picked up their first order: +{points} points for you."),
    "n_referral_capped": ("Ваш друг{name} забрал свой первый заказ и получил бонус. Вам бонус не начислен: в этом "
                          "месяце вы уже получили его за {cap} друзей. Со следующего месяца — снова.",
                          "Your friend{name} picked up their first order and got the bonus. You did not this time: "
                          "this month you were already rewarded for {cap} friends. Next month it starts again."),
    "n_referral_void": ("Приглашение между вашими связанными аккаунтами не засчитывается: списано {points} баллов.",
                        "An invitation between your own linked accounts does not count: {points} points taken back."),
    "invite": ("Пригласите друга: когда он заберёт свой первый заказ, вы оба получите {points} баллов.\n{link}",
               "Invite a friend: when they pick up their first order, you both get {points} points.\n{link}"),
    "invite_cap": ("Бонусов за друзей в этом месяце осталось: {left} из {cap}.",
                   "Friend bonuses left this month: {left} of {cap}."),
    "invite_totals": ("Пришло друзей: {friends}, вам начислено за них: {points} баллов.",
                      "Friends who came: {friends}, points you got for them: {points}."),
    "greet_referral_own": ("Это ваша собственная ссылка-приглашение: отправьте её другу.",
                           "This is your own invitation link: send it to a friend."),
    "greet_referral_not_new": ("Бонус за приглашение получают новые покупатели, но мы вам всё равно рады.",
                               "The invitation bonus is for new customers, but you are welcome all the same."),
})


def greeting(language: str, link: DeepLink, customer: Customer, bonus: int) -> str:
    """What /start r<code> says: the bonus only when the invitation really counts for this customer."""
    if link.code == customer.referral_code:
        return t(language, "greet_referral_own")
    if customer.referred_by and bonus:
        return t(language, "greet_referral", points=bonus)
    return t(language, "greet_referral_not_new")


def invitation(language: str, summary: ReferralSummary, link: str) -> str:
    """The invitation as /points shows it: the real reward, the cap, the friends so far."""
    lines = [t(language, "invite", points=summary.bonus, link=link)]
    if summary.left_this_month is not None:
        lines.append(t(language, "invite_cap", left=summary.left_this_month, cap=summary.monthly_cap))
    if summary.friends:
        lines.append(t(language, "invite_totals", friends=summary.invited, points=summary.points))
    return "\n".join(lines)


def _name(event: DomainEvent) -> str:
    name = event.data.get("invitee_name") or ""
    return f" {name}" if name else ""


async def _to(notifier: Notifier, customer_id: str, account: str = "") -> tuple[CustomerRef, str] | None:
    found = await notifier.engine.referral_recipient(customer_id, account)
    return (found.to, found.language) if found else None


async def joined(notifier: Notifier, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
    who = await _to(notifier, event.data["customer_id"])
    if not who:
        return []
    bonus = (await notifier.engine.shop_view()).rules.referral_bonus
    return [(who[0], Text(t(who[1], "n_referral_joined", name=_name(event), points=bonus)))] if bonus else []


async def rewarded(notifier: Notifier, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
    told: list[tuple[CustomerRef, Reply]] = []
    friend = await _to(notifier, event.data["invitee_id"], event.data.get("account", ""))
    if friend:
        told.append((friend[0], Text(t(friend[1], "n_referral_friend", points=event.data["invitee_points"]))))
    inviter = await _to(notifier, event.data["customer_id"])
    if inviter:
        if event.data.get("status") == "capped":
            text = t(inviter[1], "n_referral_capped", name=_name(event), cap=event.data.get("monthly_cap", 0))
        else:
            text = t(inviter[1], "n_referral_rewarded", name=_name(event), points=event.data["referrer_points"])
        told.append((inviter[0], Text(text)))
    return told


async def voided(notifier: Notifier, event: DomainEvent) -> list[tuple[CustomerRef, Reply]]:
    taken = int(event.data.get("points_taken") or 0)
    who = await _to(notifier, event.data["invitee_id"]) if taken else None
    return [(who[0], Text(t(who[1], "n_referral_void", points=taken)))] if who else []
