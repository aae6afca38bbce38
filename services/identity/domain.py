"""Identity rules: pure functions, no I/O."""

from __future__ import annotations

import hashlib
import re
import secrets
from zoneinfo import available_timezones

from services.chassis import money
from services.chassis.errors import InvalidArgument
from services.chassis.validation import single_line, unusable_character

# One DNS label (RFC 1123: letters, digits, inner hyphens), kept to 3-40
# characters; "--" is refused too, so no slug looks like punycode ("xn--").
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
# Subdomains we keep for ourselves or that would confuse a client.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "api",
        "admin",
        "platform",
        "console",
        "localhost",
        "root",
        "ns1",
        "ns2",
        "mx",
        "ftp",
        "email",
        "webmail",
        "app",
        "mail",
        "smtp",
        "static",
        "assets",
        "portal",
        "dev",
        "staging",
        "help",
        "support",
        "status",
        "docs",
        "login",
        "auth",
        "billing",
        "cdn",
    }
)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
STAFF_ROLES = ("owner", "admin", "project_manager", "technician", "finance")
CONTACT_ROLES = ("approver", "viewer")
API_TOKEN_PREFIX = "pat_"  # noqa: S105 - a prefix, not a secret


def validate_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug) or "--" in slug:
        raise InvalidArgument(
            "the subdomain must be 3-40 lowercase letters, digits or single hyphens, "
            "starting and ending with a letter or digit",
            field="slug",
        )
    if slug in RESERVED_SLUGS:
        raise InvalidArgument(f"the subdomain '{slug}' is reserved; choose another", field="slug")
    return slug


def normalize_email(email: str, *, field: str = "email") -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL_RE.match(email) or unusable_character(email):
        raise InvalidArgument(f"'{email}' is not an email address", field=field)
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def validate_accent_color(color: str) -> str:
    if color and not COLOR_RE.match(color):
        raise InvalidArgument("the accent colour must look like #1a2b3c", field="accent_color")
    return color.lower()


def validate_time_zone(tz: str) -> str:
    if tz not in available_timezones():
        raise InvalidArgument(
            f"'{tz}' is not an IANA time zone (e.g. Europe/London)", field="time_zone"
        )
    return tz


def validate_currency(code: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise InvalidArgument("the currency must be an ISO 4217 code such as USD", field="currency")
    if code not in money.currency_codes():
        raise InvalidArgument(
            f"'{code}' is not a currency in use today; choose one such as USD, GBP or EUR",
            field="currency",
        )
    return code


def validate_roles(
    roles: list[str], allowed: tuple[str, ...], *, field: str = "roles"
) -> list[str]:
    unknown = [r for r in roles if r not in allowed]
    if unknown or not roles:
        raise InvalidArgument(f"roles must be among: {', '.join(allowed)}", field=field)
    return sorted(set(roles))


def new_api_token() -> tuple[str, str, str]:
    """(secret shown once, its SHA-256 hex stored, a short prefix to recognise it).

    256 random bits make a slow hash unnecessary: nobody can guess the input.
    """
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, hash_api_token(secret), secret[:10]


def hash_api_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Branding assets are shown on every page of the portal: only https or a path on
# the portal's own host, never javascript:, data: or protocol-relative (//evil) URLs.
_URL_RE = re.compile(r"^(?:https://[^\s/?#]+[^\s]*|/(?!/)[^\s]*)$")
_PHONE_RE = re.compile(r"^[0-9+()./ -]{0,50}$")


def validate_branding_url(url: str, *, field: str) -> str:
    url = url.strip()
    if not url:
        return ""
    if len(url) > 500 or not _URL_RE.match(url) or any(ord(ch) < 32 for ch in url):
        raise InvalidArgument(
            f"{field.replace('_', ' ')} must start with https:// or be a path such as /logo.png",
            field=field,
        )
    return url


def validate_support_phone(phone: str) -> str:
    phone = phone.strip()
    if not _PHONE_RE.match(phone):
        raise InvalidArgument(
            "the support phone may hold digits, spaces and + ( ) . / - only",
            field="support_phone",
        )
    return phone


POSTAL_ADDRESS_MAX_LINES = 6
POSTAL_LINE_MAX = 80
_WEBSITE_RE = re.compile(r"^https://[^\s/?#]+\.[^\s/?#]+[^\s]*$")


def validate_postal_address(address: str) -> str:
    """The integrator's address as printed on a letterhead: up to six lines of
    up to 80 characters, blank lines and edge spaces dropped."""
    lines = [line.strip() for line in address.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    if any(unusable_character(line) for line in lines):
        raise InvalidArgument(
            "the postal address cannot hold control characters", field="postal_address"
        )
    if len(lines) > POSTAL_ADDRESS_MAX_LINES or any(len(x) > POSTAL_LINE_MAX for x in lines):
        raise InvalidArgument(
            f"the postal address fits in {POSTAL_ADDRESS_MAX_LINES} lines of "
            f"{POSTAL_LINE_MAX} characters",
            field="postal_address",
        )
    return "\n".join(lines)


def validate_website(url: str) -> str:
    """The integrator's public site, printed on documents: an https:// address."""
    url = url.strip()
    if url and (len(url) > 500 or not _WEBSITE_RE.match(url)):
        raise InvalidArgument(
            "the website must be an https:// address, e.g. https://example.com", field="website"
        )
    return url


def validate_headline(headline: str) -> str:
    return single_line(headline, field="headline", max_len=300)


def validate_region(region: str) -> str:
    region = region.strip().upper()
    if region and not re.fullmatch(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?", region):
        raise InvalidArgument(
            "the region must be an ISO 3166 code such as US or GB", field="region"
        )
    return region
