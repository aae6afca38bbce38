"""Throttling decisions for the front door. Pure: the times are passed in.

Sign-in: refused before the password is looked at, identically whether or not
the account exists, so the answer tells an attacker nothing. One-time links:
throttled silently (the request still answers OK) for the same reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

SIGN_IN_WINDOW = timedelta(minutes=15)
SIGN_IN_MAX_PER_EMAIL = 5  # 20 an hour at most: far below ASVS's 100 per hour per account
SIGN_IN_MAX_PER_IP = 30
LINK_WINDOW = timedelta(hours=1)
LINK_MAX_PER_EMAIL = 5
LINK_MAX_PER_IP = 20


@dataclass(frozen=True)
class ThrottleDecision:
    allowed: bool
    retry_after: int = 0  # seconds, when refused

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        unit = "minute" if minutes == 1 else "minutes"
        return f"Too many sign-in attempts. Try again in {minutes} {unit}, or use a sign-in link."


def _wait(failures: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> float:
    """Seconds until fewer than `limit` failures remain inside the window (0 if already)."""
    recent = sorted(at for at in failures if at > now - window)
    if len(recent) < limit:
        return 0.0
    # Once the oldest (len - limit + 1) failures have aged out, one more try is allowed.
    frees_at = recent[len(recent) - limit] + window
    return max((frees_at - now).total_seconds(), 0.0)


def sign_in_throttle(
    *,
    email_failures: Sequence[datetime],
    ip_failures: Sequence[datetime],
    now: datetime,
) -> ThrottleDecision:
    """May this email, from this address, try a password now?"""
    wait = max(
        _wait(email_failures, SIGN_IN_MAX_PER_EMAIL, SIGN_IN_WINDOW, now),
        _wait(ip_failures, SIGN_IN_MAX_PER_IP, SIGN_IN_WINDOW, now),
    )
    if wait <= 0:
        return ThrottleDecision(allowed=True)
    return ThrottleDecision(allowed=False, retry_after=max(1, math.ceil(wait)))


def link_request_allowed(*, email_requests: int, ip_requests: int) -> bool:
    """Requests already made in the last hour for this email and from this address."""
    return email_requests < LINK_MAX_PER_EMAIL and ip_requests < LINK_MAX_PER_IP
