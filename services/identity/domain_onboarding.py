"""Onboarding an integrator: what the request must hold, the defaults it may
leave out, and what a second request for a taken slug means. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from services.chassis.errors import AlreadyExists
from services.chassis.validation import require_text
from services.identity import domain

# Sensible for a platform with no better guess: an operator passes the
# integrator's own zone and currency (the owner can change both later).
DEFAULT_TIME_ZONE = "UTC"
DEFAULT_CURRENCY = "USD"
_NAME_SEPARATORS = re.compile(r"[._\-]+")


@dataclass(frozen=True)
class Onboarding:
    """A checked onboarding request, defaults filled in."""

    slug: str
    display_name: str
    owner_email: str
    owner_name: str
    time_zone: str
    currency: str
    region: str


def plan_onboarding(
    *,
    slug: str,
    display_name: str,
    owner_email: str,
    owner_name: str = "",
    time_zone: str = "",
    currency: str = "",
    region: str = "",
) -> Onboarding:
    email = domain.normalize_email(owner_email, field="owner_email")
    return Onboarding(
        slug=domain.validate_slug(slug),
        display_name=require_text(display_name, field="display_name"),
        owner_email=email,
        owner_name=require_text(owner_name or name_from_email(email), field="owner_name"),
        time_zone=domain.validate_time_zone(time_zone.strip() or DEFAULT_TIME_ZONE),
        currency=domain.validate_currency(currency.strip().upper() or DEFAULT_CURRENCY),
        region=domain.validate_region(region),
    )


def name_from_email(email: str) -> str:
    """A greeting for the invite when the operator gave no name:
    "olivia.grant+av@acme.example" -> "Olivia Grant"."""
    local = email.split("@", 1)[0].split("+", 1)[0]
    words = [word for word in _NAME_SEPARATORS.split(local) if word]
    return " ".join(word[:1].upper() + word[1:] for word in words)[:200] or local[:200]


def check_retry(*, slug: str, owner_email: str, owner_emails: Iterable[str], purged: bool) -> None:
    """The slug is taken. The same onboarding again (its owner email is an owner
    there) is a retry and is answered with that tenant; anything else is refused,
    saying nothing about who owns it. A purged integrator's slug is never reused."""
    if purged or owner_email.lower() not in {email.lower() for email in owner_emails}:
        raise AlreadyExists(f"the subdomain '{slug}' is taken; choose another", field="slug")
