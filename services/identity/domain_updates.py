"""Updates of tenant settings, branding and customers as changes (AIP-134 field
masks): which fields an update may name, and each new value checked on its own,
so a mask changes only what it names.

Branding is what every page of the portal shows, so nothing unsafe gets in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.chassis.errors import InvalidArgument
from services.chassis.validation import require_text
from services.identity import domain

BRANDING_FIELDS = (
    "logo_url",
    "splash_image_url",
    "headline",
    "accent_color",
    "support_email",
    "support_phone",
    "postal_address",
    "website",
)
DEFAULT_ACCENT_COLOR = "#1f6feb"
# Update-mask paths of UpdateTenantRequest: the settings, the branding block
# whole, and each branding field on its own.
TENANT_PATHS = (
    "display_name",
    "branding",
    "time_zone",
    "currency",
    "region",
    "signing_reauth_minutes",
    *(f"branding.{name}" for name in BRANDING_FIELDS),
)
# How old a client's proof of who they are may be when they sign: a minute to a day.
SIGNING_REAUTH_MINUTES = (1, 1440)
CUSTOMER_FIELDS = ("name",)


def check_branding_field(name: str, value: str) -> str:
    """One branding field's stored value; an empty accent colour is the default."""
    if name in ("logo_url", "splash_image_url"):
        return domain.validate_branding_url(value, field=name)
    if name == "headline":
        return domain.validate_headline(value)
    if name == "accent_color":
        return domain.validate_accent_color(value or DEFAULT_ACCENT_COLOR)
    if name == "support_email":
        return domain.normalize_email(value, field=name) if value.strip() else ""
    if name == "support_phone":
        return domain.validate_support_phone(value)
    if name == "postal_address":
        return domain.validate_postal_address(value)
    if name == "website":
        return domain.validate_website(value)
    raise KeyError(name)


def check_branding(values: Mapping[str, str]) -> dict[str, str]:
    """A whole branding block: a field left out is cleared."""
    return {name: check_branding_field(name, values.get(name, "")) for name in BRANDING_FIELDS}


def check_tenant_setting(name: str, value: Any) -> Any:
    if name == "signing_reauth_minutes":
        low, high = SIGNING_REAUTH_MINUTES
        if not isinstance(value, int) or not low <= value <= high:
            raise InvalidArgument(
                f"must be between {low} and {high} minutes", field="signing_reauth_minutes"
            )
        return value
    if name == "display_name":
        return require_text(value, field="display_name")
    if name == "time_zone":
        return domain.validate_time_zone(value)
    if name == "currency":
        return domain.validate_currency(value)
    if name == "region":
        return domain.validate_region(value)
    return check_branding_field(name, value)


def check_tenant_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """{column: checked value} for changes keyed by column name (branding fields
    by their own name); the checks name the field at fault."""
    return {name: check_tenant_setting(name, value) for name, value in changes.items()}


def changed_fields(current: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The fields whose value differs, sorted: what the audit entry names."""
    return sorted(name for name, value in new.items() if current.get(name) != value)


def check_customer_changes(changes: Mapping[str, str]) -> dict[str, str]:
    return {"name": require_text(changes["name"], field="name")} if "name" in changes else {}
