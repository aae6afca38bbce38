"""Idempotency keys: a request id names one request. Its retry (the same
operation with the same inputs) finds the effect the first one left and
answers with it; the same key on a different request is refused, since
answering with the first request's effect would tell the caller that
something happened which did not (a stage move, a room on this project).

The owning table keeps the key (`request_id`, unique per tenant) and the
request's fingerprint (`request_sha256`) next to the effect. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from services.chassis.errors import InvalidArgument


class IdempotencyKeyReused(InvalidArgument):
    code = "idempotency_key_reused"


def fingerprint(operation: str, **inputs: Any) -> str:
    """SHA-256 of the operation and its (cleaned) inputs, canonical JSON."""
    canonical = json.dumps(
        {"operation": operation, **inputs}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def refuse_reuse(*, stored: str | None, given: str, field: str = "request_id") -> None:
    """Passes for the same request again (a row kept from before fingerprints
    counts as the same); refuses a key already spent on another request."""
    if stored is not None and stored != given:
        raise IdempotencyKeyReused(
            "this request id (Idempotency-Key) was already used for a different request; "
            "send a new key with each new request",
            field=field,
        )
