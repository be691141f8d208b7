"""The shop's personal data policy from the settings: rendered once at start, served at ``/privacy``, and
its version is what customers consent to (``Engine.consent_version``) unless consent is not asked."""
from __future__ import annotations

from typing import TYPE_CHECKING

from journey.engine import Engine

from .failures import CommandError
from .settings import Settings

if TYPE_CHECKING:
    from webapp.policy import Policy


async def privacy_policy(settings: Settings, engine: Engine) -> Policy:
    """The owner's file (``VITRINA_PRIVACY__POLICY_FILE``) or the shipped text, filled with the operator's
    details; sets ``engine.consent_version`` to its version when ``VITRINA_PRIVACY__ASK_CONSENT`` (default)."""
    from webapp.policy import PolicyDetails, PolicyError, read_template, render

    p = settings.privacy
    try:
        own = read_template(p.policy_file) if p.policy_file is not None else None
    except PolicyError as e:
        raise CommandError(f"VITRINA_PRIVACY__POLICY_FILE: {e}") from None
    shop = (await engine.shop_view()).rules.name
    policy = render(PolicyDetails(shop=shop, operator=p.operator, operator_details=p.operator_details,
                                  contact_email=p.contact_email, site=settings.webapp.base_url,
                                  inactive_days=p.inactive_days or None), own)
    engine.consent_version = policy.version if p.ask_consent else None
    return policy
