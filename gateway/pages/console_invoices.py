"""The console's invoices: a project's invoices and payment plan, drafting an
invoice with its lines, issuing and voiding it, recording money received
outside Stripe (a transfer, a cheque) and refunding a payment.

Each form calls the JSON API's own call (gateway.api.payments.calls) as the
staff member, and goes back to the page with the outcome or payments' refusal
as the flash (post/redirect/get). Payments decides who may do what."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from pydantic import ValidationError
from starlette.responses import Response

from gateway.api.payments import calls
from gateway.api.payments.shapes import InvoiceLineIn, NewInvoice
from gateway.api.projects import fetch_project
from gateway.backends import RemoteError
from gateway.deps import BackendsDep, PaymentsDep, StaffPage
from gateway.pages import invoice_views as views
from gateway.pages.console_projects.common import act, form_request_id
from gateway.pages.projects import page_id
from gateway.pages.rendering import Form, refusal, render, see_other, signed_in_form
from services.chassis.money import format_amount, parse_amount, parse_percent_bps
from services.chassis.timefmt import local

router = APIRouter(include_in_schema=False)
NEW_LINES = 3  # blank line rows on the draft form; empty ones are skipped
TRIGGERS = (
    ("acceptance", "Acceptance (deposit)"),  # fits the phone's select
    ("procurement", "Procurement"),
    ("install", "Install"),
    ("commissioning", "Commissioning"),
    ("handover", "Handover"),
)
OFFLINE_METHODS = (
    ("bank_transfer", "Bank transfer"),
    ("cheque", "Cheque"),
    ("cash", "Cash"),
    ("other", "Other"),
)


def invoices_url(project_id: str) -> str:
    return f"/console/projects/{project_id}/invoices"


def invoice_url(invoice_id: str | uuid.UUID, anchor: str = "") -> str:
    return f"/console/invoices/{invoice_id}" + (f"#{anchor}" if anchor else "")


@router.get("/console/projects/{project_id}/invoices")
async def project_invoices_page(
    request: Request,
    project_id: str,
    signed_in: StaffPage,
    backends: BackendsDep,
    payments: PaymentsDep,
) -> Response:
    project_id = page_id(project_id, "project")
    staff = signed_in.person
    project = await fetch_project(backends, staff, project_id)
    page = await calls.list_invoices(
        payments, staff, common_pb2.PageRequest(page_size=100), project_id=uuid.UUID(project_id)
    )
    plan = await calls.fetch_plan(payments, staff, uuid.UUID(project_id))
    return render(
        request,
        "console/invoices.html",
        signed_in=signed_in,
        surface="console",
        project=project,
        invoices=page.invoices,
        plan=plan,
        triggers=TRIGGERS,
        plan_rows=max(len(plan.milestones) + 1, 3),
        new_lines=NEW_LINES,
        request_id=str(uuid.uuid4()),
        currency=request.state.tenant.currency or "USD",
        words=views.status_words,
        badge=views.status_class,
    )


@dataclass(frozen=True)
class Draft:
    body: NewInvoice | None
    error: str


def read_draft(form: Form, currency: str) -> Draft:
    """The draft form's filled-in lines, tax, terms and memo, as the JSON
    API's model (its limits); a blank line row is skipped."""
    lines = []
    try:
        for n in range(NEW_LINES):
            description = form.get(f"line_{n}_description")
            price = form.get(f"line_{n}_price")
            if not description and not price:
                continue
            quantity = form.get(f"line_{n}_quantity") or "1"
            if not quantity.isdigit():
                return Draft(None, f"Line {n + 1}: the quantity is a whole number.")
            lines.append(
                InvoiceLineIn(
                    description=description,
                    quantity=int(quantity),
                    unit_price_minor=parse_amount(price, currency, allow_negative=True),
                )
            )
        terms = form.get("terms_days")
        body = NewInvoice(
            lines=lines,
            tax_rate_bps=parse_percent_bps(form.get("tax_rate")),
            terms_days=int(terms) if terms.isdigit() else None,
            memo=form.text("memo"),
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        return Draft(None, _first_error(exc))
    return Draft(body, "")


def _first_error(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "the form"
        if where == "lines":
            return "Add at least one line with a description and a price."
        return f"Check {where.replace('_', ' ')}: {first['msg'].lower()}."
    return str(exc)


@router.post("/console/projects/{project_id}/invoices")
async def create_invoice(
    request: Request, project_id: str, signed_in: StaffPage, payments: PaymentsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    draft = read_draft(form, request.state.tenant.currency or "USD")
    if draft.body is None:
        return see_other(
            request, invoices_url(project_id) + "#new", flash=draft.error, kind="error"
        )
    try:
        created = await calls.create_invoice(
            payments,
            signed_in.person,
            uuid.UUID(project_id),
            draft.body,
            request_id=form_request_id(form),
        )
    except RemoteError as exc:
        return see_other(
            request, invoices_url(project_id) + "#new", flash=refusal(exc).message, kind="error"
        )
    return see_other(
        request, invoice_url(created.id), flash="Draft saved. Issue it to send it to the client."
    )


@router.get("/console/invoices/{invoice_id}")
async def invoice_page(
    request: Request, invoice_id: str, signed_in: StaffPage, payments: PaymentsDep
) -> Response:
    invoice = await calls.fetch_invoice(
        payments, signed_in.person, uuid.UUID(page_id(invoice_id, "invoice"))
    )
    currency = invoice.total.currency if invoice.total else "USD"
    return render(
        request,
        "console/invoice.html",
        signed_in=signed_in,
        surface="console",
        invoice=invoice,
        console=True,
        methods=OFFLINE_METHODS,
        request_id=str(uuid.uuid4()),
        # One id per refund form, so a double click refunds once.
        refund_ids={p.id: str(uuid.uuid4()) for p in invoice.payments},
        due_text=_plain(invoice.due.amount_minor if invoice.due else 0, currency),
        # Money is mostly recorded the day it arrives: today, on the firm's clock.
        today=local(datetime.now(UTC), request.state.tenant.time_zone).date().isoformat(),
        words=views.status_words,
        badge=views.status_class,
        payment_words=views.payment_words,
        method_words=views.method_words,
        verification_words=views.verification_words,
    )


def _plain(amount_minor: int, currency: str) -> str:
    """An amount as a form field shows it: "1,250.00", without the symbol."""
    text = format_amount(amount_minor, currency)
    return "".join(c for c in text if c.isdigit() or c in ".,-")


@router.post("/console/invoices/{invoice_id}/issue")
async def issue_invoice(
    request: Request, invoice_id: str, signed_in: StaffPage, payments: PaymentsDep
) -> Response:
    await signed_in_form(request, signed_in)
    wanted = uuid.UUID(page_id(invoice_id, "invoice"))
    return await act(
        request,
        calls.issue_invoice(payments, signed_in.person, wanted),
        then=invoice_url(wanted),
        done="Issued: the client can see and pay it now.",
    )


@router.post("/console/invoices/{invoice_id}/void")
async def void_invoice(
    request: Request, invoice_id: str, signed_in: StaffPage, payments: PaymentsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    wanted = uuid.UUID(page_id(invoice_id, "invoice"))
    return await act(
        request,
        calls.void_invoice(payments, signed_in.person, wanted, form.text("reason")[:500]),
        then=invoice_url(wanted),
        done="Voided. Nothing more is due on it.",
    )


def _amount(form: Form, currency: str) -> tuple[int, str]:
    try:
        amount = parse_amount(form.get("amount"), currency)
    except ValueError as exc:
        return 0, str(exc)
    return (amount, "") if amount > 0 else (0, "Enter an amount more than zero.")


@router.post("/console/invoices/{invoice_id}/offline-payments")
async def record_offline(
    request: Request, invoice_id: str, signed_in: StaffPage, payments: PaymentsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    wanted = uuid.UUID(page_id(invoice_id, "invoice"))
    back = invoice_url(wanted, "record")
    currency = form.get("currency") or "USD"
    amount, error = _amount(form, currency)
    method = form.get("method")
    if method not in dict(OFFLINE_METHODS):
        error = "Choose how the money came."
    if error:
        return see_other(request, back, flash=error, kind="error")
    return await act(
        request,
        calls.record_offline(
            payments,
            signed_in.person,
            wanted,
            request_id=form_request_id(form),
            method=method,
            amount_minor=amount,
            currency=currency,
            reference=form.get("reference")[:120],
            received_on=form.get("received_on")[:10],
        ),
        then=invoice_url(wanted, "payments-heading"),
        done=f"Recorded {format_amount(amount, currency)} received.",
    )


@router.post("/console/invoices/{invoice_id}/payments/{payment_id}/refund")
async def refund_payment(
    request: Request,
    invoice_id: str,
    payment_id: str,
    signed_in: StaffPage,
    payments: PaymentsDep,
) -> Response:
    form = await signed_in_form(request, signed_in)
    wanted = uuid.UUID(page_id(invoice_id, "invoice"))
    payment = uuid.UUID(page_id(payment_id, "payment"))
    currency = form.get("currency") or "USD"
    amount, error = _amount(form, currency)
    back = invoice_url(wanted, f"payment-{payment}")
    if error:
        return see_other(request, back, flash=error, kind="error")
    return await act(
        request,
        calls.refund(
            payments,
            signed_in.person,
            payment,
            request_id=form_request_id(form),
            amount_minor=amount,
            currency=currency,
            reason=form.text("reason")[:500],
        ),
        then=back,
        done=f"Refunded {format_amount(amount, currency)}.",
    )
