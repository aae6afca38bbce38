"""What a sign-in with the right password does next, decided in pure code."""

from __future__ import annotations

import pytest

from services.identity.domain_sign_in import SignInStep, auth_method, next_step


@pytest.mark.parametrize(
    ("kind", "state", "totp", "code", "step"),
    [
        ("client", "deleted", False, "", SignInStep.PORTAL_CLOSED),
        ("client", None, False, "", SignInStep.PORTAL_CLOSED),  # no customer row: closed
        ("client", "archived", False, "", SignInStep.OPEN_SESSION),  # read-only, not closed
        ("client", "active", False, "123456", SignInStep.OPEN_SESSION),  # a code needs no use
        ("staff", None, False, "", SignInStep.OPEN_SESSION),
        ("staff", None, True, "  ", SignInStep.ASK_FOR_CODE),
        ("staff", None, True, "123456", SignInStep.CHECK_CODE),
    ],
)
def test_the_portal_is_checked_before_the_second_factor(kind, state, totp, code, step):
    got = next_step(kind=kind, customer_state=state, totp_enabled=totp, totp_code=code)
    assert got is step


def test_the_session_records_how_it_was_opened():
    assert auth_method(totp_enabled=True) == "password+totp"
    assert auth_method(totp_enabled=False) == "password"
