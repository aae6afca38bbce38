"""Throttling decisions for the front door. Pure: the times are passed in.

Sign-in: refused before the password is looked at, identically whether or not
the account exists, so the answer tells an attacker nothing. Each attempt is
reserved (counted, under a lock per account and per address) before its
password is checked, so concurrent guesses cannot all slip past one reading
of the count: at most `SIGN_IN_MAX_PER_EMAIL` passwords are ever checked per
account in a window. The reservation is kept unless the secret proved right
(`attempt_counts`).

One-time links: every request is counted against the address it names
(whether or not anyone has it) and the address it came from, and past the cap
the request is refused plainly with when to try again. The answer is the same
for a registered and an unknown address, because the count is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

SIGN_IN_WINDOW = timedelta(minutes=15)
SIGN_IN_MAX_PER_EMAIL = 5  # 20 an hour at most: far below ASVS's 100 per hour per account
SIGN_IN_MAX_PER_IP = 30
LINK_WINDOW = timedelta(hours=1)
LINK_MAX_PER_EMAIL = 5
LINK_MAX_PER_IP = 20

Limit = Literal["sign_in", "link_email", "link_ip"]


def _minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@dataclass(frozen=True)
class ThrottleDecision:
    allowed: bool
    retry_after: int = 0  # seconds, when refused
    limit: Limit = "sign_in"  # which one refused

    @property
    def message(self) -> str:
        wait = _minutes(self.retry_after)
        if self.limit == "link_email":
            return (
                f"We've had several requests for links to this address recently, so no more "
                f"will be sent to it for about {wait}. If it has access, the links already "
                f"sent are in its inbox (check spam too)."
            )
        if self.limit == "link_ip":
            return (
                f"Many links have been asked for from your network recently, so no more will "
                f"be sent for about {wait}."
            )
        return f"Too many sign-in attempts. Try again in {wait}, or use a sign-in link."


def _wait(failures: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> float:
    """Seconds until fewer than `limit` failures remain inside the window (0 if already)."""
    recent = sorted(at for at in failures if at > now - window)
    if len(recent) < limit:
        return 0.0
    # Once the oldest (len - limit + 1) failures have aged out, one more try is allowed.
    frees_at = recent[len(recent) - limit] + window
    # Never more than the window: a failure stamped a moment "after" `now` (the
    # database's clock and ours, or a reserved attempt racing this read) ages out
    # within one window like any other.
    return min(max((frees_at - now).total_seconds(), 0.0), window.total_seconds())


def _refused(wait: float, limit: Limit) -> ThrottleDecision:
    return ThrottleDecision(allowed=False, retry_after=max(1, math.ceil(wait)), limit=limit)


def sign_in_throttle(
    *,
    email_failures: Sequence[datetime],
    ip_failures: Sequence[datetime],
    now: datetime,
) -> ThrottleDecision:
    """May this email, from this address, try a password now? `*_failures` are
    the attempts that still count: failed, or reserved and not yet answered."""
    wait = max(
        _wait(email_failures, SIGN_IN_MAX_PER_EMAIL, SIGN_IN_WINDOW, now),
        _wait(ip_failures, SIGN_IN_MAX_PER_IP, SIGN_IN_WINDOW, now),
    )
    if wait <= 0:
        return ThrottleDecision(allowed=True)
    return _refused(wait, "sign_in")


def attempt_counts(*, secret_right: bool) -> bool:
    """Does a reserved sign-in attempt stay counted once it is answered?

    Kept when the secret was wrong (or the account unknown, or the second
    factor wrong): that is the failure the limit is about. Released when the
    password proved right, whether the person got in, was asked for their
    TOTP code, or heard that their portal is closed: knowing the password is
    no guess. An attempt whose process died mid-check stays counted (it
    fails closed) and ages out with the window."""
    return not secret_right


def link_request_throttle(
    *,
    email_requests: Sequence[datetime],
    ip_requests: Sequence[datetime],
    now: datetime,
) -> ThrottleDecision:
    """May a link be asked for this email, from this address, now? The
    requests already made for it and from there (refused ones are not
    recorded, so asking again does not push the wait further out)."""
    by_email = _wait(email_requests, LINK_MAX_PER_EMAIL, LINK_WINDOW, now)
    if by_email > 0:
        return _refused(by_email, "link_email")
    by_ip = _wait(ip_requests, LINK_MAX_PER_IP, LINK_WINDOW, now)
    if by_ip > 0:
        return _refused(by_ip, "link_ip")
    return ThrottleDecision(allowed=True)
