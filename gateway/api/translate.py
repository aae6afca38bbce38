"""Proto <-> JSON helpers the API modules share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from portal.common.v1 import common_pb2
from pydantic import BaseModel, Field

from services.chassis.money import format_money


def timestamp(message: Message, field: str) -> datetime | None:
    """A Timestamp field as an aware UTC datetime; None when unset."""
    if not message.HasField(field):
        return None
    return getattr(message, field).ToDatetime(tzinfo=UTC)


class MoneyOut(BaseModel):
    currency: str = Field(description="ISO 4217, e.g. USD.")
    amount_minor: int = Field(description="Integer minor units (cents, pence).")
    formatted: str = Field(description="For people, e.g. $12,345.67.")


def money_out(message: Message, field: str) -> MoneyOut | None:
    """A Money field as JSON; None when unset."""
    if not message.HasField(field):
        return None
    money: common_pb2.Money = getattr(message, field)
    return MoneyOut(
        currency=money.currency, amount_minor=money.amount_minor, formatted=format_money(money)
    )


def calendar_date(value: str) -> date | None:
    """A "YYYY-MM-DD" string field as a date; None when empty (or unreadable)."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


M = TypeVar("M", bound=Message)


def masked(request: M, changes: Mapping[str, Any]) -> M:
    """`request` with each of `changes` set and named in its update_mask (AIP-134),
    so the service changes exactly those fields under its own row lock. A path
    may reach into a message field (`branding.headline`). None clears a field;
    dates become "YYYY-MM-DD", ids and other values their text where the field
    is a string."""
    for path, value in changes.items():
        *parents, name = path.split(".")
        target: Any = request
        for parent in parents:
            target = getattr(target, parent)
        field = target.DESCRIPTOR.fields_by_name[name]
        if value is None:
            target.ClearField(name)
        elif field.is_repeated:
            values = getattr(target, name)
            del values[:]
            values.extend(_proto_value(v, field.type) for v in value)
        else:
            setattr(target, name, _proto_value(value, field.type))
        request.update_mask.paths.append(path)  # type: ignore[attr-defined]
    return request


def _proto_value(value: Any, field_type: int) -> Any:
    if field_type != FieldDescriptor.TYPE_STRING:
        return value
    return value.isoformat() if isinstance(value, date) else str(value)
