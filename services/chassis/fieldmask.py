"""Update requests as field masks (Google AIP-134), read once for every service.

A use case declares which of its request's fields may change; `changes` checks
the request's `update_mask` against them and hands back the new values as a
plain dict, keyed by field name, for the domain to apply. The row is locked and
merged in the service, never read, merged and replaced by a caller, so two
updates of different fields both land.

- paths listed: exactly those fields change (an unset one is cleared to its
  default: "" / 0 / false / empty list);
- no paths: the fields set to a non-default value (proto3 cannot tell "unset"
  from "default" for a plain scalar, so a default can only be written by naming
  it in the mask);
- "*": every updatable field, as a full replacement;
- a path the use case does not allow: INVALID_ARGUMENT on `update_mask`, naming it.

A path may reach into a message field ("branding.headline"); allowing both
"branding" and its sub-paths lets a caller replace the block or change one of
its fields. "*" and an empty mask use only the top-level paths.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from google.protobuf.message import Message

from services.chassis.errors import InvalidArgument

MASK_FIELD = "update_mask"
FULL_REPLACEMENT = "*"


def _value(request: Message, path: str) -> Any:
    *parents, name = path.split(".")
    message = request
    for parent in parents:
        message = getattr(message, parent)
    value = getattr(message, name)
    if message.DESCRIPTOR.fields_by_name[name].is_repeated:
        return list(value)
    return value


def _top_level(allowed: Collection[str]) -> list[str]:
    return [name for name in allowed if "." not in name]


def masked_paths(
    request: Message, *, allowed: Collection[str], resource: Message | None = None
) -> list[str]:
    """The fields of `request` (or of the `resource` it carries, AIP-134's
    `UpdateXRequest{X x; FieldMask update_mask}`) that its update_mask says
    change, in `allowed` order."""
    paths = list(getattr(request, MASK_FIELD).paths)
    if not paths:
        populated = {field.name for field, _ in (resource or request).ListFields()}
        return [name for name in _top_level(allowed) if name in populated]
    if FULL_REPLACEMENT in paths:
        if paths != [FULL_REPLACEMENT]:
            raise InvalidArgument(
                'update_mask "*" replaces every field and cannot be combined with paths',
                field=MASK_FIELD,
            )
        return _top_level(allowed)
    for path in paths:
        if path not in allowed:
            raise InvalidArgument(
                f"update_mask names a field that cannot be updated: {path!r} "
                f"(allowed: {', '.join(allowed)})",
                field=MASK_FIELD,
            )
    return [name for name in allowed if name in paths]


def changes(request: Message, *, allowed: Collection[str], resource: str = "") -> dict[str, Any]:
    """{field name: new value} for each field the mask changes (repeated fields
    as lists). With `resource`, the mask's paths are relative to that field of
    the request (AIP-134)."""
    source = getattr(request, resource) if resource else request
    paths = masked_paths(request, allowed=allowed, resource=source)
    return {name: _value(source, name) for name in paths}
