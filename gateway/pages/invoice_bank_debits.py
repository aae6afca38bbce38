"""Paying an invoice by bank debit (ACH for US dollars, Bacs for pounds),
the pay page's second form: the details and the mandate the client agreed to
go to payments' StartPayment as `bank_debit`; payments makes the
PaymentMethod on the integrator's account (see payments' README: no Stripe.js
stand-in plays bank debits). Re-rendered with the refusal in words on the
same pay page. An ACH debit left waiting for micro-deposit verification can
be cancelled here (payments cancels its PaymentIntent), to pay by card."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.payments import calls
from gateway.backends import RemoteError
from gateway.deps import ClientPage, PaymentsDep
from gateway.pages import invoice_views as views
from gateway.pages.pay_form import bank_quotes, card_quotes, pay_settings, pay_state_of, render_pay
from gateway.pages.projects import page_id, portal_of
from gateway.pages.rendering import refusal, see_other, signed_in_form

router = APIRouter(include_in_schema=False)


@router.post("/invoices/{invoice_id}/pay/bank")
async def start_bank_debit(
    request: Request, invoice_id: str, signed_in: ClientPage, payments: PaymentsDep
) -> Response:
    """A bank debit: the details and the mandate the client agreed to go to
    payments, which makes the PaymentMethod on the integrator's account
    (bank details never reach Stripe.js here; see payments' README). It
    succeeds days later: the payment page says "processing, expected by"."""
    form = await signed_in_form(request, signed_in)
    principal = portal_of(signed_in)
    invoice_uuid = uuid.UUID(page_id(invoice_id, "invoice"))
    amount = form["amount_minor"]
    debit = {
        "method": form.get("method")[:40],
        "account_holder_name": form.get("account_holder_name")[:100],
        "email": form.get("email")[:254],
        "routing_number": form.get("routing_number")[:20],
        "sort_code": form.get("sort_code")[:20],
        "account_number": form.get("account_number")[:30],
        "mandate_accepted": form.has("mandate_accepted"),
        "ip_address": request.client.host if request.client else "",
        "user_agent": request.headers.get("user-agent", "")[:500],
    }
    try:
        started = await calls.pay(
            payments,
            principal,
            invoice_uuid,
            attempt_id=form["bank_attempt_id"],
            amount_minor=int(amount) if amount.isdigit() else 0,
            currency=form.get("currency")[:3],
            payment_method_id="",
            bank_debit=debit,
        )
    except RemoteError as exc:
        error = refusal(exc).message
    else:
        return see_other(request, f"/invoices/{invoice_uuid}/payments/{started.payment.id}")
    invoice = await calls.fetch_invoice(payments, principal, invoice_uuid)
    settings = await pay_settings(payments, principal)
    if settings is None or pay_state_of(invoice, signed_in, settings) != "pay":
        return see_other(request, f"/invoices/{invoice.id}", flash=error, kind="error")
    chosen = int(amount) if amount.isdigit() else views.payable_minor(invoice)
    return render_pay(
        request,
        signed_in,
        invoice,
        settings,
        status=422,
        choice="full",
        typed="",
        amount_minor=chosen,
        quotes=await card_quotes(payments, principal, invoice, chosen),
        bank_quotes=await bank_quotes(payments, principal, invoice, chosen),
        bank_error=error,
        bank_form=debit,
    )


@router.post("/invoices/{invoice_id}/payments/{payment_id}/cancel")
async def cancel_bank_debit(
    request: Request, invoice_id: str, payment_id: str, signed_in: ClientPage, payments: PaymentsDep
) -> Response:
    """Give up an ACH debit still waiting for micro-deposit verification
    (payments cancels its PaymentIntent), then straight to paying by card."""
    await signed_in_form(request, signed_in)
    invoice_uuid = uuid.UUID(page_id(invoice_id, "invoice"))
    payment_uuid = uuid.UUID(page_id(payment_id, "payment"))
    try:
        await calls.cancel_payment(payments, portal_of(signed_in), invoice_uuid, payment_uuid)
    except RemoteError as exc:
        error = refusal(exc).message
        return see_other(request, f"/invoices/{invoice_uuid}", flash=error, kind="error")
    return see_other(
        request,
        f"/invoices/{invoice_uuid}/pay",
        flash="The bank payment was cancelled and nothing was taken. Pay by card below.",
    )
