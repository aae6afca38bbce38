"""Invoice, receipt and statement PDFs. Payments draws them and decides who
may have which (staff; the customer's own client, archived too); the gateway
resolves the tenant's letterhead and serves the bytes as an attachment. The
call functions are shared with the pages (a PDF link is the same route)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from portal.common.v1 import common_pb2
from portal.payments.v1 import payments_pb2 as pb

from gateway.backends import PaymentsRemote
from gateway.brand import letterhead_for
from gateway.deps import BackendsDep, CallerDep, PaymentsDep, TenantDep
from gateway.files import content_disposition
from services.chassis.auth import Principal

router = APIRouter(tags=["payments"])

PDF_RESPONSE = {
    200: {
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The PDF, as an attachment.",
    }
}


def pdf_response(answer: pb.GetInvoicePdfResponse | pb.GetStatementPdfResponse) -> Response:
    return Response(
        content=answer.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(answer.filename),
            # Money and names: a shared cache must not keep a copy.
            "Cache-Control": "private, no-store",
        },
    )


async def invoice_pdf(
    payments: PaymentsRemote,
    principal: Principal,
    invoice_id: UUID,
    letterhead: common_pb2.Letterhead,
) -> Response:
    answer = await payments.call(
        payments.stub.GetInvoicePdf,
        pb.GetInvoicePdfRequest(invoice_id=str(invoice_id), letterhead=letterhead),
        principal=principal,
    )
    return pdf_response(answer)


async def receipt_pdf(
    payments: PaymentsRemote,
    principal: Principal,
    payment_id: UUID,
    letterhead: common_pb2.Letterhead,
) -> Response:
    answer = await payments.call(
        payments.stub.GetReceiptPdf,
        pb.GetReceiptPdfRequest(payment_id=str(payment_id), letterhead=letterhead),
        principal=principal,
    )
    return pdf_response(answer)


async def statement_pdf(
    payments: PaymentsRemote,
    principal: Principal,
    *,
    customer_id: UUID | None,
    start: date,
    end: date,
    letterhead: common_pb2.Letterhead,
) -> Response:
    answer = await payments.call(
        payments.stub.GetStatementPdf,
        pb.GetStatementPdfRequest(
            customer_id=str(customer_id or ""),
            from_date=start.isoformat(),
            to_date=end.isoformat(),
            letterhead=letterhead,
        ),
        principal=principal,
    )
    return pdf_response(answer)


@router.get(
    "/invoices/{invoice_id}/pdf",
    summary="The invoice as a PDF (staff; the customer's client)",
    response_class=Response,
    responses=PDF_RESPONSE,
)
async def get_invoice_pdf(
    invoice_id: UUID,
    caller: CallerDep,
    payments: PaymentsDep,
    backends: BackendsDep,
    tenant: TenantDep,
) -> Response:
    return await invoice_pdf(payments, caller, invoice_id, await letterhead_for(backends, tenant))


@router.get(
    "/payments/{payment_id}/receipt.pdf",
    summary="The receipt for a payment that succeeded, as a PDF",
    response_class=Response,
    responses=PDF_RESPONSE,
)
async def get_receipt_pdf(
    payment_id: UUID,
    caller: CallerDep,
    payments: PaymentsDep,
    backends: BackendsDep,
    tenant: TenantDep,
) -> Response:
    return await receipt_pdf(payments, caller, payment_id, await letterhead_for(backends, tenant))


@router.get(
    "/statement.pdf",
    summary="A customer's statement for a date range, as a PDF (staff name the customer)",
    response_class=Response,
    responses=PDF_RESPONSE,
)
async def get_statement_pdf(
    caller: CallerDep,
    payments: PaymentsDep,
    backends: BackendsDep,
    tenant: TenantDep,
    start: Annotated[date, Query(alias="from", description="The first day, YYYY-MM-DD")],
    end: Annotated[date, Query(alias="to", description="The last day, YYYY-MM-DD, included")],
    customer_id: Annotated[UUID | None, Query(description="Staff: whose statement")] = None,
) -> Response:
    return await statement_pdf(
        payments,
        caller,
        customer_id=customer_id,
        start=start,
        end=end,
        letterhead=await letterhead_for(backends, tenant),
    )
