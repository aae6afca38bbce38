"""Invoices, the payment plan, pay-now, offline payments, refunds and the
payment settings. Payments decides who sees and changes what: a client sees
their customer's issued invoices and pays as the customer's approver; staff
raise, issue and void invoices and record money received. Shapes in
`shapes`, the calls the pages share in `calls`; this module holds the routes."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status

from gateway.api.payments import accounting, calls, documents
from gateway.api.payments.shapes import (
    Invoice,
    InvoicePage,
    NewInvoice,
    OfflinePaymentIn,
    PaymentPlan,
    PaymentSettings,
    PaymentSettingsChange,
    PayRequest,
    PlanChange,
    Quote,
    QuoteRequest,
    RefundIn,
    StartedPayment,
    VoidRequest,
)
from gateway.deps import CallerDep, PageDep, PaymentsDep, RequestIdDep, StaffDep
from gateway.problems import problem_responses

__all__ = ["accounting", "calls", "documents", "router"]

router = APIRouter(tags=["payments"], responses=problem_responses(401, 403, 409))


@router.get("/invoices", summary="List invoices (staff: all; a client: their own, issued)")
async def list_invoices(
    caller: CallerDep,
    payments: PaymentsDep,
    page: PageDep,
    project_id: UUID | None = None,
    customer_id: UUID | None = None,
) -> InvoicePage:
    return await calls.list_invoices(
        payments, caller, page, project_id=project_id, customer_id=customer_id
    )


@router.get("/invoices/{invoice_id}", summary="An invoice: lines, payments, paid and due")
async def get_invoice(invoice_id: UUID, caller: CallerDep, payments: PaymentsDep) -> Invoice:
    return await calls.fetch_invoice(payments, caller, invoice_id)


@router.post(
    "/projects/{project_id}/invoices",
    status_code=status.HTTP_201_CREATED,
    summary="Draft an invoice for a project (staff)",
)
async def create_invoice(
    project_id: UUID,
    body: NewInvoice,
    staff: StaffDep,
    payments: PaymentsDep,
    request_id: RequestIdDep,
    request: Request,
    response: Response,
) -> Invoice:
    created = await calls.create_invoice(payments, staff, project_id, body, request_id=request_id)
    response.headers["Location"] = request.app.url_path_for("get_invoice", invoice_id=created.id)
    return created


@router.post("/invoices/{invoice_id}/issue", summary="Issue a draft: number, date, send (staff)")
async def issue_invoice(invoice_id: UUID, staff: StaffDep, payments: PaymentsDep) -> Invoice:
    return await calls.issue_invoice(payments, staff, invoice_id)


@router.post("/invoices/{invoice_id}/void", summary="Void an invoice holding no money (staff)")
async def void_invoice(
    invoice_id: UUID, body: VoidRequest, staff: StaffDep, payments: PaymentsDep
) -> Invoice:
    return await calls.void_invoice(payments, staff, invoice_id, body.reason)


@router.get("/projects/{project_id}/payment-plan", summary="The project's payment milestones")
async def get_plan(project_id: UUID, caller: CallerDep, payments: PaymentsDep) -> PaymentPlan:
    return await calls.fetch_plan(payments, caller, project_id)


@router.put("/projects/{project_id}/payment-plan", summary="Replace the milestones (staff)")
async def put_plan(
    project_id: UUID, body: PlanChange, staff: StaffDep, payments: PaymentsDep
) -> PaymentPlan:
    milestones = [(m.label, m.trigger, m.share_bps) for m in body.milestones]
    return await calls.change_plan(payments, staff, project_id, milestones)


@router.post(
    "/invoices/{invoice_id}/quote",
    summary="What a payment would cost: the surcharge or discount, before paying",
)
async def quote_payment(
    invoice_id: UUID, body: QuoteRequest, caller: CallerDep, payments: PaymentsDep
) -> Quote:
    return await calls.quote(
        payments,
        caller,
        invoice_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        method=body.method,
        card_funding=body.card_funding,
    )


@router.post(
    "/invoices/{invoice_id}/payments",
    summary="Pay all or part of an invoice (the customer's approver)",
    description="Send the pay form's one-time id as `Idempotency-Key`: a double click or a "
    "retry with the same key makes one payment.",
)
async def start_payment(
    invoice_id: UUID,
    body: PayRequest,
    caller: CallerDep,
    payments: PaymentsDep,
    request_id: RequestIdDep,
) -> StartedPayment:
    return await calls.pay(
        payments,
        caller,
        invoice_id,
        attempt_id=request_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        payment_method_id=body.payment_method_id,
    )


@router.post(
    "/invoices/{invoice_id}/payments/{payment_id}/cancel",
    summary="Give up a bank debit awaiting verification, to pay another way (the approver)",
)
async def cancel_payment(
    invoice_id: UUID, payment_id: UUID, caller: CallerDep, payments: PaymentsDep
) -> Invoice:
    return await calls.cancel_payment(payments, caller, invoice_id, payment_id)


@router.post(
    "/invoices/{invoice_id}/offline-payments",
    summary="Record money received outside Stripe: a transfer, a cheque (staff)",
)
async def record_offline_payment(
    invoice_id: UUID,
    body: OfflinePaymentIn,
    staff: StaffDep,
    payments: PaymentsDep,
    request_id: RequestIdDep,
) -> Invoice:
    return await calls.record_offline(
        payments,
        staff,
        invoice_id,
        request_id=request_id,
        method=body.method,
        amount_minor=body.amount_minor,
        currency=body.currency,
        reference=body.reference,
        received_on=body.received_on.isoformat() if body.received_on else "",
    )


@router.post("/payments/{payment_id}/refunds", summary="Refund part or all of a payment (finance)")
async def refund_payment(
    payment_id: UUID,
    body: RefundIn,
    staff: StaffDep,
    payments: PaymentsDep,
    request_id: RequestIdDep,
) -> Invoice:
    return await calls.refund(
        payments,
        staff,
        payment_id,
        request_id=request_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        reason=body.reason,
    )


@router.get("/payment-settings", summary="Stripe connection and pay-now rules (staff)")
async def get_payment_settings(staff: StaffDep, payments: PaymentsDep) -> PaymentSettings:
    return await calls.fetch_settings(payments, staff)


@router.patch("/payment-settings", summary="Change the payment settings (owner, admin, finance)")
async def patch_payment_settings(
    body: PaymentSettingsChange, staff: StaffDep, payments: PaymentsDep
) -> PaymentSettings:
    changes = body.model_dump(exclude_unset=True)
    return await calls.change_settings(payments, staff, changes)


# QuickBooks Online / Xero: the connection and the sync log.
router.include_router(accounting.router)
router.include_router(documents.router)
