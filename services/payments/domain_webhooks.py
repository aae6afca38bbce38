"""Stripe's webhook signature, checked as Stripe's SDK checks it
(`stripe.WebhookSignature.verify_header`), over the raw bytes.

`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256>[,v1=...][,v0=...]`:
the MAC is of `"<t>." + body` under the endpoint's secret; any `v1` may match
(Stripe sends one per secret while a secret is being rolled); other schemes
are ignored; a timestamp older than the tolerance is refused (a replay), one
in the future is not (as the SDK). Pure: the clock is passed in. Directly,
not through the SDK: at webhook rates its decode-to-str, list building and
exceptions were measurable, and the rule is this short.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "v1"


def signature_problem(
    payload: bytes, header: str, secret: str, *, now: float, tolerance: int
) -> str | None:
    """None if Stripe signed these exact bytes within `tolerance` seconds of
    `now`; else what is wrong, in words."""
    if not header:
        return "no Stripe-Signature header"
    if not secret.strip():
        return "no webhook secret is configured"
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key == "t" and timestamp is None:
            try:
                timestamp = int(value)
            except ValueError:
                return "the Stripe-Signature header has no timestamp"
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None:
        return "the Stripe-Signature header has no timestamp"
    if not signatures:
        return f"the Stripe-Signature header has no {SCHEME} signature"
    expected = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256
    ).hexdigest()
    # Bytes, not str: compare_digest raises on a str with non-ASCII characters
    # (a header is latin-1), which would fail the whole batch the delivery
    # came in instead of refusing it alone.
    wanted = expected.encode()
    if not any(hmac.compare_digest(wanted, s.encode("utf-8", "replace")) for s in signatures):
        return "the Stripe-Signature header does not match this body"
    if tolerance and timestamp < now - tolerance:
        return "the Stripe-Signature is too old (a replay?)"
    return None
