"""The webhook signature rule, against Stripe's own SDK verifier: the same
headers pass and fail (valid, forged, stale, a second secret being rolled,
other schemes, malformed)."""

from __future__ import annotations

import hashlib
import hmac
import json
from types import SimpleNamespace

import pytest
import stripe
from stripe import _webhook as stripe_webhook

from services.payments.domain_webhooks import signature_problem

SECRET = "whsec_test_rule"
NOW = 1_800_000_000
BODY = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded"}).encode()


def mac(t: int, body: bytes = BODY, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


HEADERS = {
    "valid": (f"t={NOW},v1={mac(NOW)}", True),
    "valid, v0 beside it": (f"t={NOW},v0=deadbeef,v1={mac(NOW)}", True),
    "rolling secrets: the second v1 matches": (
        f"t={NOW},v1={mac(NOW, secret='whsec_old')},v1={mac(NOW)}",
        True,
    ),
    "a second early: fine": (f"t={NOW + 1},v1={mac(NOW + 1)}", True),
    "at the tolerance's edge": (f"t={NOW - 300},v1={mac(NOW - 300)}", True),
    "forged": (f"t={NOW},v1={mac(NOW, secret='whsec_not_ours')}", False),
    "another body": (f"t={NOW},v1={mac(NOW, body=b'{}')}", False),
    "stale (a replay)": (f"t={NOW - 301},v1={mac(NOW - 301)}", False),
    "the timestamp changed": (f"t={NOW - 1},v1={mac(NOW)}", False),
    "only v0": (f"t={NOW},v0={mac(NOW)}", False),
    "no timestamp": (f"v1={mac(NOW)}", False),
    "a timestamp that is no number": (f"t=soon,v1={mac(NOW)}", False),
    "empty": ("", False),
    "garbage": ("garbage", False),
    "a non-ASCII signature (headers are latin-1)": (f"t={NOW},v1=\u00ff{mac(NOW)[1:]}", False),
}


def _sdk_accepts(header: str) -> bool:
    try:
        stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, 300)
        return True
    except stripe.SignatureVerificationError:
        return False
    except TypeError:  # the SDK compares str: non-ASCII raises instead of refusing
        return False


@pytest.mark.parametrize("case", sorted(HEADERS))
def test_the_rule_agrees_with_stripes_sdk(case, monkeypatch):
    # The SDK reads the clock itself: its module's `time`, at NOW.
    monkeypatch.setattr(stripe_webhook, "time", SimpleNamespace(time=lambda: NOW))
    header, valid = HEADERS[case]
    problem = signature_problem(BODY, header, SECRET, now=NOW, tolerance=300)
    assert (problem is None) is valid, problem
    assert _sdk_accepts(header) is valid


def test_a_refusal_says_what_is_wrong():
    stale = signature_problem(
        BODY, f"t={NOW - 301},v1={mac(NOW - 301)}", SECRET, now=NOW, tolerance=300
    )
    assert stale is not None and "too old" in stale
    forged = signature_problem(BODY, f"t={NOW},v1=00", SECRET, now=NOW, tolerance=300)
    assert forged is not None and "does not match" in forged
    assert signature_problem(BODY, f"t={NOW},v1={mac(NOW)}", " ", now=NOW, tolerance=300)
