"""Protobuf enum values as the suite names them, both ways, for every enum.

Our protos prefix each value with its enum's name in upper snake case
(`Stage.STAGE_IN_PROGRESS`, `ContactRole.CONTACT_ROLE_APPROVER`), so the
prefix is derived from the enum, never typed: `short_name(Stage, 3)` ->
"install", `label(Stage, 3)` -> "Install", `value(Stage, "install")` -> 3.
The short names are what the JSON API, the services' own tables and the
templates use; the labels are what people read.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# A generated enum wrapper (`projects_pb2.Stage`): mypy-protobuf types each as
# its own class with `Name` / `Value` / `DESCRIPTOR`, which no one Protocol
# matches, so the parameter is untyped and the results are plain ints and str.
EnumType = Any
UNSPECIFIED = "unspecified"


@cache
def _prefix(enum_name: str) -> str:
    """ "AccessState" -> "ACCESS_STATE_"; "LoginTokenPurpose" -> "LOGIN_TOKEN_PURPOSE_"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", enum_name).upper() + "_"


def prefix(enum: EnumType) -> str:
    return _prefix(enum.DESCRIPTOR.name)


def short_name(enum: EnumType, number: int, *, unknown: str | None = None) -> str:
    """STAGE_IN_PROGRESS -> "in_progress"; 0 -> "unspecified".

    A number this build does not know (a newer peer) raises ValueError, or
    answers `unknown` when one is given."""
    try:
        return _short_name(enum, number)
    except ValueError:
        if unknown is None:
            raise
        return unknown


@cache
def _short_name(enum: EnumType, number: int) -> str:
    """Remembered per enum and number (a page names a dozen stages; `Name`
    and the prefix cost more than the lookup). A ValueError is not cached."""
    return enum.Name(number).removeprefix(prefix(enum)).lower()


def known_name(enum: EnumType, number: int) -> str | None:
    """The short name, or None for UNSPECIFIED and for numbers we do not know."""
    name = short_name(enum, number, unknown=UNSPECIFIED)
    return None if name == UNSPECIFIED else name


def label(enum: EnumType, number: int, *, missing: str = "\u2014") -> str:
    """What people read: STAGE_IN_PROGRESS -> "In progress"; unknown -> `missing`."""
    name = known_name(enum, number)
    return name.replace("_", " ").capitalize() if name else missing


def value(enum: EnumType, name: str) -> int:
    """ "in_progress" -> STAGE_IN_PROGRESS's number; ValueError for a name the enum lacks."""
    cleaned = (name or "").strip().upper()
    if not cleaned:
        raise ValueError("an empty enum name")
    return enum.Value(prefix(enum) + cleaned.removeprefix(prefix(enum)))


def names(enum: EnumType) -> tuple[str, ...]:
    """Every short name but UNSPECIFIED, in declaration order."""
    return tuple(short_name(enum, v.number) for v in enum.DESCRIPTOR.values if v.number != 0)
