"""E-signatures, once for the suite: what a client signs is canonical JSON and
its SHA-256, and the evidence kept beside the signature (the typed name, the
address and browser it came from) is cleaned the same way wherever a client
signs (a proposal in projects, a change order in changeorders). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import unicodedata
from typing import Any

from services.chassis.errors import InvalidArgument

SIGNER_NAME_MIN, SIGNER_NAME_MAX = 2, 200
USER_AGENT_MAX = 500


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, non-ASCII kept as is (hashed as UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_signer_name(name: str) -> str:
    """The typed full name: trimmed, inner whitespace collapsed, printable."""
    cleaned = " ".join(name.split())
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in cleaned):
        raise InvalidArgument("signer name contains invisible characters", field="signer_name")
    if not SIGNER_NAME_MIN <= len(cleaned) <= SIGNER_NAME_MAX:
        raise InvalidArgument(
            f"type your full name to sign ({SIGNER_NAME_MIN} to {SIGNER_NAME_MAX} characters)",
            field="signer_name",
        )
    return cleaned


def check_ip(ip: str) -> str:
    """The signer's address as the gateway saw it, normalised; empty if unknown."""
    ip = ip.strip()
    if not ip:
        return ""
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        raise InvalidArgument("ip must be an IPv4 or IPv6 address", field="ip") from None


def clean_user_agent(user_agent: str, max_len: int = USER_AGENT_MAX) -> str:
    """Printable, trimmed, bounded: kept as evidence, never interpreted."""
    printable = "".join(ch for ch in user_agent if unicodedata.category(ch) != "Cc")
    return printable.strip()[:max_len]
