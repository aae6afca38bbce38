"""Adapters to the integrators' books: QuickBooks Online (python-quickbooks
with intuit-oauth) and Xero (xero-python), one module each, behind the small
port below. The SDKs are blocking, so service/sync.py calls everything here
from a worker thread; nothing here touches the database.

Posting is idempotent against the provider: each `post_*` first looks the
record up by our own reference (the customer's id, the invoice number, the
payment's reference) and returns what it finds, so a crash after the
provider accepted a record but before we stored its id never posts it twice.
The create itself carries the sync record's id as the provider's idempotency
key (QuickBooks `requestid`, Xero `Idempotency-Key`) as a second guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

PROVIDERS = ("quickbooks", "xero")
PROVIDER_NAMES = {"quickbooks": "QuickBooks Online", "xero": "Xero"}
# An access token this close to its expiry is refreshed before a pass uses it.
REFRESH_MARGIN = timedelta(seconds=120)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime  # the access token's

    def expiring(self, now: datetime) -> bool:
        return self.expires_at <= now + REFRESH_MARGIN


@dataclass(frozen=True)
class Grant:
    """What the authorization code bought: tokens and the organisation they open."""

    tokens: Tokens
    organisation_id: str
    organisation_name: str


@dataclass(frozen=True)
class CustomerDoc:
    reference: str  # our customer id
    name: str


@dataclass(frozen=True)
class LineDoc:
    description: str
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True)
class InvoiceDoc:
    number: str  # INV-1001: the provider's document number, and how we find it again
    customer_external_id: str
    currency: str
    issued_on: date
    due_on: date
    lines: tuple[LineDoc, ...]
    # Tax travels as its own line (our one rounding rule decided it), so the
    # books' total equals ours to the minor unit whatever tax codes they use.
    tax_minor: int
    tax_label: str
    memo: str  # the project, for the person reading the books
    total_minor: int


@dataclass(frozen=True)
class PaymentDoc:
    reference: str  # PAY-1A2B3C4D5E6F: ours, at most 21 characters (QuickBooks' limit)
    invoice_number: str
    invoice_external_id: str
    customer_external_id: str
    currency: str
    amount_minor: int
    received_on: date
    method: str


class SyncError(Exception):
    """A post that did not happen. `message` is safe to show staff and log:
    never a token, never a whole response body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Transient(SyncError):
    """The provider is down, slow or rate-limiting us: try again later."""


class Rejected(SyncError):
    """The provider refused the record itself: retrying the same data won't help."""


class AuthRefused(SyncError):
    """The provider no longer accepts our tokens: refresh, or the tenant reconnects."""


class Books(Protocol):
    """One connected organisation for one pass. `tokens` is current after any
    refresh the SDK made while posting."""

    tokens: Tokens

    def post_customer(self, doc: CustomerDoc, *, key: str) -> str: ...
    def post_invoice(self, doc: InvoiceDoc, *, key: str) -> str: ...
    def post_payment(self, doc: PaymentDoc, *, key: str) -> str: ...


class Provider(Protocol):
    name: str

    def authorize_url(self, *, state: str, redirect_uri: str) -> str: ...
    def exchange(self, *, code: str, redirect_uri: str, realm_id: str) -> Grant: ...
    def refresh(self, tokens: Tokens) -> Tokens: ...
    def books(self, tokens: Tokens, organisation_id: str) -> Books: ...


def short(text: object, limit: int = 300) -> str:
    """An error text trimmed for a person and a log line."""
    words = " ".join(str(text).split())
    return words if len(words) <= limit else words[: limit - 1] + "…"
