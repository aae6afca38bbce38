"""Input checks every service needs, raising the domain's InvalidArgument.

Text: PostgreSQL cannot store NUL, an unpaired surrogate cannot be encoded,
and a line break in a name ends up in an email header. So single-line text
(names, titles, addresses for a letter's one line) refuses every control
character and line separator; multi-line text (notes, introductions, postal
addresses) keeps line breaks and tabs, with CR LF, CR and U+2028/U+2029
read as one newline. The gateway checks with the same functions, so a JSON
request and a gRPC call that bypasses it are refused alike.
"""

from __future__ import annotations

import re
import uuid

from services.chassis.errors import InvalidArgument

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)
REQUEST_ID_MAX = 100  # every table's request_id column

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, surrogates.
_NOT_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# The same, less newline and tab (the text is normalised to "\n" first).
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029]")
_NAMES = {
    "\x00": "a NUL character (U+0000)",
    "\t": "a tab",
    "\n": "a line break",
    "\r": "a line break",
    "\u2028": "a line break",
    "\u2029": "a line break",
}


def normalise_newlines(value: str) -> str:
    """CR LF, a lone CR and the Unicode separators as "\\n"."""
    return _LINE_BREAKS.sub("\n", value)


def unusable_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character that has no place in this kind of text, or None.
    Multi-line text is expected normalised (`normalise_newlines`)."""
    found = (_NOT_IN_TEXT if multiline else _NOT_IN_A_LINE).search(value)
    return found.group() if found else None


def describe_character(char: str) -> str:
    """How a refused character is named to a person."""
    if char in _NAMES:
        return _NAMES[char]
    if "\ud800" <= char <= "\udfff":
        return f"an unpaired surrogate (U+{ord(char):04X})"
    return f"the control character U+{ord(char):04X}"


def _label(field: str) -> str:
    return field.replace("_", " ")


def refuse_unusable(value: str, *, field: str, multiline: bool = False) -> None:
    char = unusable_character(value, multiline=multiline)
    if char is not None:
        raise InvalidArgument(
            f"{_label(field)} cannot contain {describe_character(char)}; remove it and try again",
            field=field,
        )


def parse_uuid(value: str, *, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise InvalidArgument(f"{field} must be a UUID", field=field) from None


def single_line(value: str, *, field: str, max_len: int = 200, required: bool = False) -> str:
    """Trimmed, on one line, bounded; empty allowed unless `required`."""
    value = value.strip()
    refuse_unusable(value, field=field)
    if required and not value:
        raise InvalidArgument(f"{_label(field)} is required", field=field)
    if len(value) > max_len:
        raise InvalidArgument(f"{_label(field)} is longer than {max_len} characters", field=field)
    return value


def require_text(value: str, *, field: str, max_len: int = 200) -> str:
    """Trimmed, non-empty, on one line, bounded; the message names the field as
    a person reads it."""
    return single_line(value, field=field, max_len=max_len, required=True)


def multiline_text(value: str, *, field: str, max_len: int, required: bool = False) -> str:
    """Trimmed, newlines as "\\n", tabs kept, no other control character, bounded."""
    value = normalise_newlines(value).strip()
    refuse_unusable(value, field=field, multiline=True)
    if required and not value:
        raise InvalidArgument(f"{_label(field)} is required", field=field)
    if len(value) > max_len:
        raise InvalidArgument(f"{_label(field)} is longer than {max_len} characters", field=field)
    return value


def bounded_int(value: int, *, field: str, low: int, high: int, unit: str = "") -> int:
    """`value` if low <= value <= high, else a sentence naming the range."""
    if not low <= value <= high:
        suffix = f" {unit}" if unit else ""
        raise InvalidArgument(
            f"{_label(field)} must be between {low} and {high}{suffix}", field=field
        )
    return value


def check_request_id(value: str, *, field: str = "request_id") -> str:
    """An idempotency key as a caller sent it (empty: none): one line, at most
    the 100 characters every request_id column holds."""
    value = value.strip()
    refuse_unusable(value, field=field)
    if len(value) > REQUEST_ID_MAX:
        raise InvalidArgument(
            f"{_label(field)} is longer than {REQUEST_ID_MAX} characters", field=field
        )
    return value
