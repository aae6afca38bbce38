"""Sessions and one-time login tokens: lifetimes and the checks on use. Pure."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.chassis.errors import InvalidArgument
from services.identity.domain_credentials import check_password_policy, hash_secret

SessionKind = Literal["staff", "client"]
Purpose = Literal["magic_link", "invite", "password_reset"]
PURPOSES: tuple[Purpose, ...] = ("magic_link", "invite", "password_reset")
USER_AGENT_MAX = 300
IP_MAX = 45  # an IPv6 address in text
# last_seen_at is written at most this often: a page view must not be a write.
TOUCH_EVERY = timedelta(minutes=1)

SESSION_EXPIRED_MESSAGE = "Your session has ended. Sign in again."
LINK_SPENT_MESSAGE = "This link has expired or was already used. Ask for a new one."


@dataclass(frozen=True)
class SessionPolicy:
    absolute: timedelta  # from sign-in, whatever happens
    idle: timedelta  # since the session was last used


# Staff hold the keys to every client: shorter sessions, a working day of idleness.
SESSION_POLICIES: dict[str, SessionPolicy] = {
    "staff": SessionPolicy(absolute=timedelta(days=7), idle=timedelta(hours=12)),
    "client": SessionPolicy(absolute=timedelta(days=30), idle=timedelta(days=14)),
}

LOGIN_TOKEN_TTL: dict[str, timedelta] = {
    "invite": timedelta(days=7),
    "magic_link": timedelta(minutes=15),
    "password_reset": timedelta(minutes=30),
}


def session_expires_at(kind: str, now: datetime) -> datetime:
    return now + SESSION_POLICIES[kind].absolute


def session_end_reason(
    kind: str,
    *,
    now: datetime,
    expires_at: datetime,
    last_seen_at: datetime,
    revoked_at: datetime | None,
) -> str | None:
    """Why a session can no longer be used ("revoked", "expired", "idle"), or None."""
    if revoked_at is not None:
        return "revoked"
    if now >= expires_at:
        return "expired"
    if now >= last_seen_at + SESSION_POLICIES[kind].idle:
        return "idle"
    return None


def should_touch(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at >= TOUCH_EVERY


def login_token_expires_at(purpose: str, now: datetime) -> datetime:
    return now + LOGIN_TOKEN_TTL[purpose]


def purpose_needs_password(purpose: str) -> bool:
    """Invites and resets set the password as they are redeemed."""
    return purpose in ("invite", "password_reset")


def login_token_usable(
    *, used_at: datetime | None, revoked_at: datetime | None, expires_at: datetime, now: datetime
) -> bool:
    """A one-time link works once, until it expires or is revoked."""
    return used_at is None and revoked_at is None and now < expires_at


@dataclass(frozen=True)
class RedemptionPlan:
    """What spending a one-time link does besides (maybe) opening a session."""

    sets_password: bool
    # A reset: whoever knew the old password is signed out, and other reset links die.
    ends_other_sessions: bool


def plan_redemption(purpose: str, *, new_password: str, email: str) -> RedemptionPlan:
    """Invites and resets set the password; it is checked here, before the link
    is spent, so a refused password leaves the link usable."""
    sets_password = purpose_needs_password(purpose)
    if sets_password:
        check_password_policy(new_password, email=email)
    return RedemptionPlan(
        sets_password=sets_password, ends_other_sessions=purpose == "password_reset"
    )


def link_opens_session(*, totp_enabled: bool) -> bool:
    """Staff with two-step verification get no session from a link: an emailed
    link alone must not get past TOTP."""
    return not totp_enabled


def clean_user_agent(user_agent: str) -> str:
    return "".join(ch for ch in user_agent if ch.isprintable())[:USER_AGENT_MAX]


def clean_ip(ip: str) -> str:
    ip = ip.strip()
    return ip[:IP_MAX]


def check_current_session(requested: str, actual: str | None) -> None:
    """The request's current_session_id, if given, must be the caller's own session.

    The principal's session id (from the gateway's signed token) is the
    authority; a request field that disagrees is a bug or a forgery.
    """
    if requested and requested != (actual or ""):
        raise InvalidArgument(
            "current_session_id is not the session this call comes from",
            field="current_session_id",
        )


def session_read_only(*, kind: str, view_as: bool, customer_state: str | None) -> bool:
    """Staff viewing a client's portal only look; an archived customer's portal is read-only."""
    if kind == "staff":
        return view_as
    return customer_state == "archived"


# -- step-up: a fresh proof before a signature ---------------------------------------

STEP_UP_CODE_TTL = timedelta(minutes=10)
STEP_UP_MAX_TRIES = 5
WRONG_STEP_UP = "That is not right. Check it and try again, or ask for a new code."
STEP_UP_SPENT = "Too many tries, or the code has expired. Ask for a new code."


def step_up_code_hash(code: str) -> str:
    return hash_secret("step-up:" + "".join(code.split()))


@dataclass(frozen=True)
class StepUpCheck:
    """What a step-up attempt does to the session: prove it, or count a miss."""

    proven: bool
    method: str
    message: str = ""


def check_step_up(
    *,
    password_ok: bool | None,
    code: str,
    stored_code_hash: str | None,
    code_expires_at: datetime | None,
    attempts: int,
    now: datetime,
) -> StepUpCheck:
    """A password (already verified: `password_ok`) or the emailed code. Every
    miss counts against STEP_UP_MAX_TRIES, so a stolen session cannot guess its
    way to a signature; a spent or expired code proves nothing."""
    if attempts >= STEP_UP_MAX_TRIES:
        return StepUpCheck(False, "", STEP_UP_SPENT)
    if password_ok is not None:
        return StepUpCheck(password_ok, "step_up:password", "" if password_ok else WRONG_STEP_UP)
    if not stored_code_hash or code_expires_at is None or now >= code_expires_at:
        return StepUpCheck(False, "", STEP_UP_SPENT)
    if not hmac.compare_digest(step_up_code_hash(code), stored_code_hash):
        return StepUpCheck(False, "", WRONG_STEP_UP)
    return StepUpCheck(True, "step_up:email_code")
