"""The field types every request model uses, so each text and number a person
or a program sends is checked once, the same way, before any call is made:

- `Line`: one line (names, titles, emails, URLs): no control character, no
  line break, no unpaired surrogate;
- `Text`: several lines (notes, introductions, postal addresses): newlines
  and tabs kept (CR LF read as one newline), no other control character;
- `Secret`: passwords and codes, kept as typed, without NUL or an unpaired
  surrogate (which no service can store or a protobuf string carry);
- integers bounded by the protobuf field they travel in (`Int32`, `Int64`,
  `MinorUnits`), so 2^63 is a 422 naming the field rather than a 500 when
  the request is built. The limits that are rules (the largest price, the
  most items) are the services': they answer with the sentence.

The checks are the chassis's (`services.chassis.validation`), the ones the
services apply again to a gRPC caller that skips the gateway. Forms on pages
read through `gateway.pages.forms`, which uses `check_line` and `check_text`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from services.chassis.validation import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    describe_character,
    normalise_newlines,
    unusable_character,
)


def line_problem(value: str) -> str | None:
    """Why `value` cannot be one line of text, or None."""
    char = unusable_character(value)
    return None if char is None else f"cannot contain {describe_character(char)}"


def text_problem(value: str) -> str | None:
    """Why `value` (newlines normalised) cannot be text, or None."""
    char = unusable_character(value, multiline=True)
    return None if char is None else f"cannot contain {describe_character(char)}"


def secret_problem(value: str) -> str | None:
    """Why `value` cannot be a password or code, or None."""
    for char in value:
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            return f"cannot contain {describe_character(char)}"
    return None


def _refused(problem: str) -> PydanticCustomError:
    return PydanticCustomError("unusable_character", "{problem}", {"problem": problem})


def check_line(value: str) -> str:
    # As the services see it: what they strip off (a trailing newline) is no fault.
    if problem := line_problem(value.strip()):
        raise _refused(problem)
    return value


def check_text(value: str) -> str:
    value = normalise_newlines(value)
    if problem := text_problem(value.strip()):
        raise _refused(problem)
    return value


def check_secret(value: str) -> str:
    if problem := secret_problem(value):
        raise _refused(problem)
    return value


Line = Annotated[str, AfterValidator(check_line)]
Text = Annotated[str, AfterValidator(check_text)]
Secret = Annotated[str, AfterValidator(check_secret)]
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
# An amount in minor units: never negative, and within an int64 (Money).
MinorUnits = Annotated[int, Field(ge=0, le=INT64_MAX)]
# The validators above, for tests that check every model uses them.
CHECKS = frozenset({check_line, check_text, check_secret})


# -- the catch: what reaches the gateway outside a typed field ---------------------------


def _scan(value: Any, path: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], str] | None:
    """The first string in a parsed JSON body no service can take (NUL, an
    unpaired surrogate) or integer no protobuf field can carry, with its path."""
    if isinstance(value, str):
        problem = secret_problem(value)
        return (path, problem) if problem else None
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return path, f"must be between {INT64_MIN} and {INT64_MAX}"
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(key, str) and (problem := secret_problem(key)):
            return (*path, key), problem
        if found := _scan(item, (*path, key)):
            return found
    return None


def _nul(where: str, name: str) -> dict[str, Any]:
    return {
        "loc": (where, name),
        "msg": f"cannot contain {describe_character(chr(0))}",
        "type": "unusable_character",
    }


async def refuse_unusable_input(request: Request) -> None:
    """Route dependency of the JSON API and the pages: a NUL in a query
    parameter, a path segment or a header (the user agent is stored with
    sessions and signatures), or in any JSON string, and an integer beyond
    int64 anywhere in a JSON body, is a 422 naming where it was, before a
    route or a model sees it. The typed fields above give the finer answer."""
    errors = _nul_errors(request) if _may_hold_nul(request.scope) else []
    if not errors and is_json(request.headers.get("content-type", "")):
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None  # FastAPI says what is wrong with it
        if found := _scan(body, ()):
            path, problem = found
            errors.append({"loc": ("body", *path), "msg": problem, "type": "unusable_input"})
    if errors:
        raise RequestValidationError(errors)


def _may_hold_nul(scope: Any) -> bool:
    """Whether a NUL could be in a decoded query parameter (a NUL byte or
    "%00" in the query string), a path parameter (a part of the decoded path)
    or a header (latin-1, byte for byte): read on the raw request, so the
    usual request, which has none, builds no query or header mapping."""
    query = scope.get("query_string", b"")
    return (
        b"\0" in query
        or b"%00" in query
        or "\0" in scope["path"]
        or any(b"\0" in value for _, value in scope["headers"])
    )


def _nul_errors(request: Request) -> list[dict[str, Any]]:
    errors = [_nul("query", k) for k, v in request.query_params.multi_items() if "\0" in k + v]
    errors += [_nul("path", k) for k, v in request.path_params.items() if "\0" in str(v)]
    errors += [_nul("header", k) for k, v in request.headers.items() if "\0" in v]
    return errors


def is_json(content_type: str) -> bool:
    """application/json or application/<something>+json, parameters aside.
    Read as email.message does (the type before any ';', trimmed, any case;
    not exactly one '/': not JSON), without building a Message per request:
    that was ~5% of the gateway's CPU on a burst of bookings."""
    main, slash, subtype = content_type.partition(";")[0].strip().lower().partition("/")
    if not slash or "/" in subtype:
        return False
    return main == "application" and (subtype == "json" or subtype.endswith("+json"))
