"""Sync records: queued by payments' own events (an invoice issued, a payment
succeeded), listed for staff with what each one is, and retried by staff.
The posting itself is the job's (service/posting.py).

Queueing is idempotent: a record is (tenant, provider, kind, record id),
inserted once whatever the events do, and only while the tenant has a
connection. A payment queues its invoice and customer too, so an invoice
issued before the tenant connected still reaches the books before its
payment does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from portal.payments.v1 import events_pb2
from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.events import Event
from services.chassis.money import format_amount
from services.chassis.validation import parse_uuid
from services.payments import domain_sync
from services.payments.domain_sync import ConnectionState, SyncKind, SyncState
from services.payments.models import (
    AccountingConnection,
    Contract,
    Invoice,
    Payment,
    SyncRecord,
)
from services.payments.service.accounting import ADMIN_ROLES, wake_sync
from services.payments.service.common import Sessions, now_utc

PAGE_SIZE = 50


async def queue(uow: UnitOfWork, records: list[tuple[SyncKind, str]]) -> int:
    """Pending records for the tenant's connected provider; none without one."""
    tenant = uuid.UUID(str(uow.tenant_id))
    connection = await uow.session.get(AccountingConnection, tenant)
    if connection is None or connection.state == ConnectionState.DISCONNECTED:
        return 0
    now = now_utc()
    inserted = await uow.session.scalars(
        insert(SyncRecord)
        .values(
            [
                {
                    "id": uuid.uuid4(),
                    "tenant_id": tenant,
                    "provider": connection.provider,
                    "kind": kind.value,
                    "record_id": record_id,
                    "state": SyncState.PENDING.value,
                    "external_id": "",
                    "attempts": 0,
                    "last_error": "",
                    "next_attempt_at": now,
                }
                for kind, record_id in records
            ]
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "provider", "kind", "record_id"])
        .returning(SyncRecord.id)
    )
    count = len(inserted.all())
    if count:
        await wake_sync(uow)
    return count


async def queue_issued_invoice(uow: UnitOfWork, event: Event[events_pb2.InvoiceIssued]) -> None:
    issued = event.payload
    await queue(
        uow,
        [(SyncKind.CUSTOMER, issued.customer_id), (SyncKind.INVOICE, issued.invoice_id)],
    )


async def queue_succeeded_payment(
    uow: UnitOfWork, event: Event[events_pb2.PaymentSucceeded]
) -> None:
    paid = event.payload
    await queue(
        uow,
        [
            (SyncKind.CUSTOMER, paid.customer_id),
            (SyncKind.INVOICE, paid.invoice_id),
            (SyncKind.PAYMENT, paid.payment_id),
        ],
    )


@dataclass(frozen=True)
class SyncView:
    record: SyncRecord
    label: str


async def labels(uow: UnitOfWork, records: list[SyncRecord]) -> dict[uuid.UUID, str]:
    """Each record in words: the customer's name, the invoice number, the
    payment's amount and invoice (three queries, whatever the page holds)."""
    ids: dict[str, set[uuid.UUID]] = {k.value: set() for k in SyncKind}
    for r in records:
        try:
            ids[r.kind].add(uuid.UUID(r.record_id))
        except (KeyError, ValueError):
            continue
    names = dict(
        (
            await uow.session.execute(
                select(Contract.customer_id, Contract.client_name)
                .where(Contract.customer_id.in_(ids["customer"]))
                .order_by(Contract.accepted_at.asc().nulls_first())
            )
        ).all()
    )
    numbers = dict(
        (
            await uow.session.execute(
                select(Invoice.id, Invoice.number).where(Invoice.id.in_(ids["invoice"]))
            )
        ).all()
    )
    payments = {
        pid: f"{format_amount(applied, currency)} on {number or 'a draft'}"
        for pid, applied, currency, number in (
            await uow.session.execute(
                select(Payment.id, Payment.applied_minor, Payment.currency, Invoice.number)
                .join(Invoice, Invoice.id == Payment.invoice_id)
                .where(Payment.id.in_(ids["payment"]))
            )
        ).all()
    }
    found = {"customer": names, "invoice": numbers, "payment": payments}
    out = {}
    for r in records:
        try:
            out[r.id] = str(found[r.kind].get(uuid.UUID(r.record_id)) or r.record_id)
        except (KeyError, ValueError):
            out[r.id] = r.record_id
    return out


async def list_sync_records(
    *, sessions: Sessions, principal: Principal, state: str, page_size: int, page_token: str
) -> tuple[list[SyncView], str]:
    """Failed first (they need a person), then pending, then posted; newest first."""
    principal.require_staff()
    wanted = state.strip().lower()
    if wanted and wanted not in {s.value for s in SyncState}:
        raise InvalidArgument("state is one of pending, posted, failed", field="state")
    size = min(max(page_size, 0) or PAGE_SIZE, 200)
    if page_token and (not page_token.isdigit() or len(page_token) > 9):
        raise InvalidArgument("page_token is not one this service gave out", field="page_token")
    offset = int(page_token or 0)
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        query = select(SyncRecord)
        if wanted:
            query = query.where(SyncRecord.state == wanted)
        urgency = case({"failed": 0, "pending": 1}, value=SyncRecord.state, else_=2)
        query = query.order_by(urgency, SyncRecord.created_at.desc(), SyncRecord.id)
        rows = list((await uow.session.scalars(query.offset(offset).limit(size + 1))).all())
        more, rows = len(rows) > size, rows[:size]
        words = await labels(uow, rows)
    return [SyncView(r, words[r.id]) for r in rows], (str(offset + size) if more else "")


async def retry_sync(*, sessions: Sessions, principal: Principal, sync_id: str) -> SyncView:
    """A failed record goes back to pending with a fresh count, due now."""
    tenant_id = principal.require_editor(*ADMIN_ROLES, "project_manager")
    sid = parse_uuid(sync_id, field="sync_id")
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await uow.session.get(SyncRecord, sid, with_for_update=True)
        if row is None:
            raise NotFound("this sync record isn't available", field="sync_id")
        domain_sync.plan_retry(row.state)
        row.state = SyncState.PENDING
        row.attempts = 0
        row.next_attempt_at = now_utc()
        row.last_error = ""
        await uow.flush()
        await wake_sync(uow)
        view = SyncView(row, (await labels(uow, [row]))[row.id])
        await uow.commit()
    return view
