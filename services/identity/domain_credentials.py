"""Credentials: the password policy, one-time secrets, TOTP and recovery codes.

Pure: randomness and the clock are passed in. Hashing of passwords (argon2id)
lives in passwords.py because it is slow, salted and tuned by settings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from urllib.parse import quote

import pyotp

from services.chassis.errors import InvalidArgument

PASSWORD_MIN = 10
PASSWORD_MAX = 128
TOTP_DIGITS = 6
TOTP_PERIOD_SECONDS = 30
# One step either side absorbs clock drift between the phone and the server.
TOTP_WINDOW_STEPS = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 10  # 80 bits: a leaked hash cannot be brute-forced back to the code
SESSION_TOKEN_BYTES = 32  # 256 bits (ASVS asks for >= 128)


def check_password_policy(password: str, *, email: str, field: str = "new_password") -> str:
    """The password a person chose, or InvalidArgument saying what to change.

    Length is what makes a password strong (NIST SP 800-63B); no composition
    rules, but a few choices that are trivially guessed are refused.
    """
    if len(password) < PASSWORD_MIN:
        raise InvalidArgument(
            f"Choose a password of at least {PASSWORD_MIN} characters.", field=field
        )
    if len(password) > PASSWORD_MAX:
        raise InvalidArgument(
            f"Choose a password of at most {PASSWORD_MAX} characters.", field=field
        )
    if email and password.strip().lower() == email.strip().lower():
        raise InvalidArgument("Your password cannot be your email address.", field=field)
    if len(set(password)) == 1:
        raise InvalidArgument(
            "Your password cannot be one character repeated; choose something harder to guess.",
            field=field,
        )
    return password


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (session or one-time token, recovery code).

    The secrets carry >= 80 random bits, so a fast hash is enough: nobody can
    enumerate the inputs, and lookups by hash stay a single index probe.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def token_from_bytes(raw: bytes) -> str:
    """A URL-safe token from random bytes (the caller draws them from `secrets`)."""
    if len(raw) < 16:
        raise ValueError("a token needs at least 128 random bits")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s) ---------------------------------


def totp_secret_from_bytes(raw: bytes) -> str:
    """A base32 TOTP secret from random bytes (RFC 4226 recommends 160 bits)."""
    if len(raw) < 20:
        raise ValueError("a TOTP secret needs at least 160 random bits")
    return base64.b32encode(raw).decode().rstrip("=")


def totp_uri(secret: str, *, account: str, issuer: str) -> str:
    """otpauth:// URI an authenticator app reads from a QR code."""
    label = quote(f"{issuer}:{account}", safe=":@")
    return (
        f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}"
        f"&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_PERIOD_SECONDS}"
    )


def totp_step(now: datetime) -> int:
    return int(now.timestamp()) // TOTP_PERIOD_SECONDS


def totp_code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS).generate_otp(step)


def looks_like_totp_code(code: str) -> bool:
    code = normalize_code(code)
    return len(code) == TOTP_DIGITS and re.fullmatch(r"[0-9]+", code) is not None


def verify_totp(
    secret: str, code: str, *, now: datetime, last_used_step: int | None = None
) -> int | None:
    """The time step the code belongs to, or None if it is not valid now.

    Accepts the current step and one either side. A code from a step at or
    before `last_used_step` is refused, so a code seen over a shoulder or in a
    log cannot be replayed within its window.
    """
    code = normalize_code(code)
    if not looks_like_totp_code(code):
        return None
    current = totp_step(now)
    for step in range(current - TOTP_WINDOW_STEPS, current + TOTP_WINDOW_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if hmac.compare_digest(totp_code(secret, step), code):
            return step
    return None


# --- recovery codes -------------------------------------------------------------


def recovery_code_from_bytes(raw: bytes) -> str:
    """'abcd-efgh-ijkl-mnop': 16 base32 characters, easy to copy from paper."""
    if len(raw) != RECOVERY_CODE_BYTES:
        raise ValueError(f"a recovery code is made of {RECOVERY_CODE_BYTES} random bytes")
    text = base64.b32encode(raw).decode().lower()
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def normalize_code(code: str) -> str:
    """What a person typed, without spaces or dashes, lowercased."""
    return re.sub(r"[\s-]", "", code).lower()


def hash_recovery_code(code: str) -> str:
    return hash_secret("recovery:" + normalize_code(code))
