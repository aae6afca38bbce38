"""A customer's account as dated entries, decided in pure code: the tenant's
calendar dates each entry, and payments and refunds name their invoice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from services.payments.domain_documents import EntryKind
from services.payments.domain_statement import statement_entries

ZONE = "Pacific/Auckland"  # 13 hours ahead in November: a late UTC hour is tomorrow there
LATE = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)  # 3 November in Auckland


@dataclass
class Inv:
    number: str | None = "INV-1001"
    project_reference: str = "PRJ-0001"
    project_name: str = "Home cinema"
    issued_at: datetime | None = LATE
    issued_on: date | None = date(2026, 11, 3)
    voided_at: datetime | None = None
    void_reason: str = ""
    total_minor: int = 10_000
    currency: str = "NZD"
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class Pay:
    invoice_id: uuid.UUID
    method: str = "card"
    card_brand: str = "visa"
    card_last4: str = "4242"
    succeeded_at: datetime | None = LATE
    created_at: datetime = LATE
    received_on: date | None = None
    applied_minor: int = 4_000
    currency: str = "NZD"
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class Ref:
    payment_id: uuid.UUID
    created_at: datetime = LATE
    amount_minor: int = 1_000
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def test_an_invoice_its_void_a_payment_and_a_refund_are_dated_on_the_tenants_calendar():
    inv = Inv(voided_at=LATE, void_reason="Wrong rate")
    pay = Pay(invoice_id=inv.id)
    entries = statement_entries([inv], [pay], [Ref(payment_id=pay.id)], ZONE)
    assert [(e.kind, e.on, e.reference, e.description) for e in entries] == [
        (EntryKind.INVOICE, date(2026, 11, 3), "INV-1001", "PRJ-0001 Home cinema"),
        (EntryKind.VOID, date(2026, 11, 3), "INV-1001", "Wrong rate"),
        (EntryKind.PAYMENT, date(2026, 11, 3), "INV-1001", "Visa card ending 4242"),
        (EntryKind.REFUND, date(2026, 11, 3), "INV-1001", "to the visa card ending 4242"),
    ]
    assert [e.signed_minor for e in entries] == [10_000, -10_000, -4_000, 1_000]


def test_a_bank_transfer_is_dated_when_received_and_an_unsucceeded_one_when_made():
    inv = Inv(project_reference="", project_name="Den")
    stated = Pay(invoice_id=inv.id, method="bank_transfer", received_on=date(2026, 10, 30))
    unstamped = Pay(invoice_id=inv.id, method="bank_transfer", succeeded_at=None)
    entries = statement_entries([inv], [stated, unstamped], [], "UTC")
    assert entries[0].description == "Den"  # no reference: no stray space
    assert [e.on for e in entries[1:]] == [date(2026, 10, 30), date(2026, 11, 2)]
    assert entries[2].order == (LATE, str(unstamped.id))
