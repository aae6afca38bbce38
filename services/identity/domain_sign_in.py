"""What a sign-in whose password was right does next, decided in pure code:
the order matters (only someone who knows the password learns that the
portal is closed; a second factor is asked for before anything opens)."""

from __future__ import annotations

from enum import StrEnum

from services.identity.domain_access import portal_open


class SignInStep(StrEnum):
    PORTAL_CLOSED = "portal_closed"  # a client whose customer is archived or deleted
    ASK_FOR_CODE = "ask_for_code"  # a second factor is enrolled and no code came
    CHECK_CODE = "check_code"  # spend the code given, then open
    OPEN_SESSION = "open_session"


def next_step(
    *, kind: str, customer_state: str | None, totp_enabled: bool, totp_code: str
) -> SignInStep:
    """`kind` staff or client; `customer_state` the client's customer's access state."""
    if kind == "client" and not portal_open(customer_state or ""):
        return SignInStep.PORTAL_CLOSED
    if not totp_enabled:
        return SignInStep.OPEN_SESSION
    return SignInStep.CHECK_CODE if totp_code.strip() else SignInStep.ASK_FOR_CODE


def auth_method(*, totp_enabled: bool) -> str:
    """How the session was opened, as it is recorded on it."""
    return "password+totp" if totp_enabled else "password"
