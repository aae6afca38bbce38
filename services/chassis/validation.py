"""Input checks every service needs, raising the domain's InvalidArgument."""

from __future__ import annotations

import uuid

from services.chassis.errors import InvalidArgument


def parse_uuid(value: str, *, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise InvalidArgument(f"{field} must be a UUID", field=field) from None


def require_text(value: str, *, field: str, max_len: int = 200) -> str:
    """Trimmed, non-empty, bounded; the message names the field as a person reads it."""
    value = value.strip()
    label = field.replace("_", " ")
    if not value:
        raise InvalidArgument(f"{label} is required", field=field)
    if len(value) > max_len:
        raise InvalidArgument(f"{label} is longer than {max_len} characters", field=field)
    return value
