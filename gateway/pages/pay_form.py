"""The pay page's shared pieces: what payments lets the client pay with (its
settings and the pay state), the quotes it gives for a card or a bank debit,
and the page itself. The card form (invoices.py) and the bank-debit form
(invoice_bank_debits.py) both render it, and re-render it with a refusal."""

from __future__ import annotations

import uuid

from fastapi import Request
from starlette.responses import Response

from gateway.api.payments import calls
from gateway.api.payments.shapes import Invoice, PaymentSettings
from gateway.backends import PaymentsRemote, RemoteError
from gateway.pages import invoice_views as views
from gateway.pages.projects import portal_of
from gateway.pages.rendering import refusal, render
from gateway.sessions import SignedIn
from services.chassis.auth import Principal


async def pay_settings(payments: PaymentsRemote, principal: Principal) -> PaymentSettings | None:
    """The publishable key and the minimum part payment (payments lets a
    client read them); None if payments will not say."""
    try:
        return await calls.fetch_settings(payments, principal)
    except RemoteError as exc:
        refusal(exc)  # a 5xx is the error page; a refusal means "no pay button"
        return None


def pay_state_of(invoice: Invoice, signed_in: SignedIn, settings: PaymentSettings | None) -> str:
    return views.pay_state(
        invoice,
        portal_of(signed_in),
        viewing_as_client=signed_in.viewing_as_client,
        settings=settings,
    )


async def card_quotes(
    payments: PaymentsRemote, principal: Principal, invoice: Invoice, amount_minor: int
) -> dict:
    """What a credit and a debit card would be charged: a surcharge applies to
    credit cards only, and which kind this card is shows only once it is used."""
    currency = invoice.payable.currency if invoice.payable else ""
    ask = {"amount_minor": amount_minor, "currency": currency, "method": "card"}
    credit = await calls.quote(payments, principal, invoice.id, **ask, card_funding="credit")
    debit = await calls.quote(payments, principal, invoice.id, **ask, card_funding="debit")
    return {"credit": credit, "debit": debit}


async def bank_quotes(
    payments: PaymentsRemote,
    principal: Principal,
    invoice: Invoice,
    amount_minor: int,
) -> dict:
    """{method: its quote} for each bank debit payments offers on this invoice
    (it decides which: the invoice says), with the discount, if any."""
    currency = invoice.payable.currency if invoice.payable else ""
    return {
        method: await calls.quote(
            payments,
            principal,
            invoice.id,
            amount_minor=amount_minor,
            currency=currency,
            method=method,
            card_funding="",
        )
        for method in invoice.bank_debits
    }


def render_pay(
    request: Request,
    signed_in: SignedIn,
    invoice: Invoice,
    settings: PaymentSettings,
    *,
    status: int = 200,
    **context,
) -> Response:
    js_url = request.app.state.settings.stripe_js_url
    return render(
        request,
        "pay.html",
        signed_in=signed_in,
        surface="portal",
        status=422 if context.get("error") and status == 200 else status,
        headers={"Content-Security-Policy": views.stripe_csp(js_url)},
        invoice=invoice,
        settings=settings,
        stripe_js_url=js_url,
        attempt_id=context.pop("attempt_id", "") or str(uuid.uuid4()),
        bank_attempt_id=context.pop("bank_attempt_id", "") or str(uuid.uuid4()),
        part_hint=views.part_hint(invoice, settings.minimum_payment_minor),
        **context,
    )
