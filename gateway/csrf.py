"""CSRF tokens.

Signed in, the token is HMAC-SHA256(csrf key, session token): nothing to store,
bound to one session, worthless once the session ends. Forms carry it in a
hidden `csrf_token` field, cookie-authenticated API calls in `X-CSRF-Token`.

Before sign-in there is no session to bind to, so the anonymous forms (sign-in,
link and reset requests, Continue) use a double-submit cookie: a random value
in an HttpOnly, SameSite=Strict cookie that the form must repeat.

Bearer-token API calls need none: a browser never attaches a bearer token by
itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.responses import Response

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MAX_TOKEN = 200


class CsrfRefused(Exception):
    """The request's CSRF token is missing or wrong: answered 403."""


def session_token(secret: bytes, session_secret: str) -> str:
    return hmac.new(secret, session_secret.encode(), hashlib.sha256).hexdigest()


def matches(expected: str | None, given: str | None) -> bool:
    if not expected or not given or len(given) > _MAX_TOKEN:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def check_session_token(secret: bytes, session_secret: str, given: str | None) -> None:
    if not matches(session_token(secret, session_secret), given):
        raise CsrfRefused


def check_double_submit(cookie_value: str | None, given: str | None) -> None:
    if not matches(cookie_value, given):
        raise CsrfRefused


def new_anonymous_token() -> str:
    return secrets.token_urlsafe(32)


def usable_anonymous_token(value: str | None) -> bool:
    return bool(value) and 20 <= len(value or "") <= _MAX_TOKEN


def set_anonymous_cookie(response: Response, *, name: str, value: str, secure: bool) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=secure, path="/", max_age=7200
    )
