"""The client's invoices: the ledger, one invoice, paying all or part of it
(Stripe.js in the page, with the integrator's publishable key), the payment's
progress and receipt, and Accept & pay (after signing, the deposit's pay page).

Every call is the JSON API's own (gateway.api.payments.calls), made as the
portal principal; payments decides what they may see and pay. The pay page
is the one page with script: Stripe.js turns the card into a PaymentMethod in
the browser (card numbers never reach us) and our /static/pay.js puts its id
in an ordinary CSRF-protected form. The attempt id is rendered once per page
load, so a double click or a resubmitted form makes one PaymentIntent."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from pydantic import ValidationError
from starlette.responses import Response

from gateway.api.payments import calls
from gateway.api.payments.shapes import Invoice, PayRequest
from gateway.backends import PaymentsRemote, RemoteError
from gateway.deps import ClientPage, PaymentsDep
from gateway.pages import invoice_views as views
from gateway.pages.pay_form import bank_quotes, card_quotes, pay_settings, pay_state_of, render_pay
from gateway.pages.projects import not_found, page_id, portal_of
from gateway.pages.rendering import refusal, render, see_other, signed_in_form
from gateway.sessions import SignedIn
from services.chassis.auth import Principal

router = APIRouter(include_in_schema=False)
LIST_SIZE = 100
# Accept & pay: payments issues the deposit from projects' event, usually
# within a second; the page waits this long before saying it is on its way.
DEPOSIT_WAIT_SECONDS = 3.0


@router.get("/invoices")
async def invoices_page(
    request: Request, signed_in: ClientPage, payments: PaymentsDep, project: str = ""
) -> Response:
    """All their invoices, or one project's (the status board links here)."""
    project_id = uuid.UUID(page_id(project, "project")) if project else None
    page = await calls.list_invoices(
        payments,
        portal_of(signed_in),
        common_pb2.PageRequest(page_size=LIST_SIZE),
        project_id=project_id,
    )
    open_, settled = views.ledger(page.invoices)
    return render(
        request,
        "invoices.html",
        signed_in=signed_in,
        surface="portal",
        open_invoices=open_,
        settled=settled,
        more=bool(page.next_page_token),
        one_project=project_id is not None,
        words=views.status_words,
        badge=views.status_class,
    )


@router.get("/invoices/{invoice_id}")
async def invoice_page(
    request: Request, invoice_id: str, signed_in: ClientPage, payments: PaymentsDep
) -> Response:
    principal = portal_of(signed_in)
    invoice = await calls.fetch_invoice(
        payments, principal, uuid.UUID(page_id(invoice_id, "invoice"))
    )
    settings = await pay_settings(payments, principal)
    return render(
        request,
        "invoice.html",
        signed_in=signed_in,
        surface="portal",
        invoice=invoice,
        pay=pay_state_of(invoice, signed_in, settings),
        **_helpers(),
    )


def _helpers() -> dict:
    return {
        "words": views.status_words,
        "badge": views.status_class,
        "settled_heading": views.settled_heading,
        "payment_words": views.payment_words,
        "method_words": views.method_words,
        "verification_words": views.verification_words,
        "verification_how": views.verification_how,
        "awaiting_verification": views.awaiting_verification,
    }


@router.get("/invoices/{invoice_id}/pay")
async def pay_page(
    request: Request,
    invoice_id: str,
    signed_in: ClientPage,
    payments: PaymentsDep,
    choice: str = "",
    amount: str = "",
) -> Response:
    """Step one chooses the amount (a GET form: nothing changes); with one
    chosen, payments quotes it and the card form appears."""
    principal = portal_of(signed_in)
    invoice = await calls.fetch_invoice(
        payments, principal, uuid.UUID(page_id(invoice_id, "invoice"))
    )
    settings = await pay_settings(payments, principal)
    state = pay_state_of(invoice, signed_in, settings)
    if state != "pay" or settings is None:
        return see_other(request, f"/invoices/{invoice.id}")
    context: dict = {"choice": choice or "full", "typed": amount[:40], "error": ""}
    if choice:
        chosen = views.chosen_amount(choice, amount.strip()[:40], invoice)
        context["error"] = chosen.error
        if not chosen.error:
            try:
                context["quotes"] = await card_quotes(
                    payments, principal, invoice, chosen.amount_minor
                )
                context["amount_minor"] = chosen.amount_minor
                context["bank_quotes"] = await bank_quotes(
                    payments, principal, invoice, chosen.amount_minor
                )
            except RemoteError as exc:
                context["error"] = refusal(exc).message
    return render_pay(request, signed_in, invoice, settings, **context)


@router.post("/invoices/{invoice_id}/pay")
async def start_payment(
    request: Request, invoice_id: str, signed_in: ClientPage, payments: PaymentsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    principal = portal_of(signed_in)
    invoice_uuid = uuid.UUID(page_id(invoice_id, "invoice"))
    try:  # the JSON API's own model: the same limits, the same words
        body = PayRequest(
            amount_minor=form["amount_minor"] or 0,  # type: ignore[arg-type]
            currency=form["currency"],
            payment_method_id=form["payment_method_id"],
        )
    except ValidationError:
        body = None
    attempt_id = form["attempt_id"]
    error = ""
    if body is not None:
        try:
            started = await calls.pay(
                payments,
                principal,
                invoice_uuid,
                attempt_id=attempt_id,
                amount_minor=body.amount_minor,
                currency=body.currency,
                payment_method_id=body.payment_method_id,
            )
        except RemoteError as exc:
            error = refusal(exc).message
        else:
            done = f"/invoices/{invoice_uuid}/payments/{started.payment.id}"
            if started.next_action != "requires_action":
                return see_other(request, done)
            return await _confirm_page(
                request, signed_in, payments, invoice_uuid, started.client_secret, done
            )
    invoice = await calls.fetch_invoice(payments, principal, invoice_uuid)
    settings = await pay_settings(payments, principal)
    if settings is None or pay_state_of(invoice, signed_in, settings) != "pay":
        return see_other(request, f"/invoices/{invoice.id}", flash=error or None, kind="error")
    return render_pay(
        request,
        signed_in,
        invoice,
        settings,
        status=422,
        choice="full",
        typed="",
        error=error or "The card details did not come through. Enter them again.",
    )


async def _confirm_page(
    request: Request,
    signed_in: SignedIn,
    payments: PaymentsRemote,
    invoice_id: uuid.UUID,
    client_secret: str,
    done: str,
) -> Response:
    """The card's bank asks the client to confirm (3-D Secure): Stripe.js
    shows its step with the intent's client secret, then goes on to `done`."""
    principal = portal_of(signed_in)
    invoice = await calls.fetch_invoice(payments, principal, invoice_id)
    settings = await pay_settings(payments, principal)
    assert settings is not None  # payments just took a payment with them
    return render_pay(
        request, signed_in, invoice, settings, client_secret=client_secret, next_url=done
    )


@router.get("/invoices/{invoice_id}/payments/{payment_id}")
async def payment_page(
    request: Request,
    invoice_id: str,
    payment_id: str,
    signed_in: ClientPage,
    payments: PaymentsDep,
) -> Response:
    """Processing or received: the payment as payments holds it now (a card
    succeeds at once; a webhook may still be on its way)."""
    principal = portal_of(signed_in)
    invoice = await calls.fetch_invoice(
        payments, principal, uuid.UUID(page_id(invoice_id, "invoice"))
    )
    wanted = uuid.UUID(page_id(payment_id, "payment"))
    payment = next((p for p in invoice.payments if p.id == wanted), None)
    if payment is None:
        raise not_found("payment")
    return render(
        request,
        "payment.html",
        signed_in=signed_in,
        surface="portal",
        invoice=invoice,
        payment=payment,
        **_helpers(),
    )


# -- Accept & pay --------------------------------------------------------------------------


async def _deposit(
    payments: PaymentsRemote, principal: Principal, project_id: str
) -> Invoice | None:
    page = await calls.list_invoices(
        payments,
        principal,
        common_pb2.PageRequest(page_size=LIST_SIZE),
        project_id=uuid.UUID(project_id),
    )
    return next((i for i in page.invoices if i.milestone == "acceptance"), None)


async def deposit_or_none(
    payments: PaymentsRemote, principal: Principal, project_id: str, *, wait: float
) -> tuple[bool, Invoice | None]:
    """(whether the plan asks for a deposit on acceptance, the deposit invoice
    once payments has issued it, waiting up to `wait` seconds for it)."""
    plan = await calls.fetch_plan(payments, principal, uuid.UUID(project_id))
    if not any(m.trigger == "acceptance" for m in plan.milestones):
        return False, None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        found = await _deposit(payments, principal, project_id)
        if found is not None or loop.time() >= deadline:
            return True, found
        await asyncio.sleep(0.25)


@router.get("/projects/{project_id}/deposit")
async def deposit_page(
    request: Request, project_id: str, signed_in: ClientPage, payments: PaymentsDep
) -> Response:
    """Where signing the proposal leads: the deposit's pay page once it is
    issued, else a short "being prepared" page that looks again."""
    project_id = page_id(project_id, "project")
    principal = portal_of(signed_in)
    wanted, invoice = await deposit_or_none(
        payments, principal, project_id, wait=DEPOSIT_WAIT_SECONDS
    )
    if not wanted:
        return see_other(request, f"/projects/{project_id}/proposal")
    if invoice is not None:
        settings = await pay_settings(payments, principal)
        if pay_state_of(invoice, signed_in, settings) == "pay":
            return see_other(request, f"/invoices/{invoice.id}/pay")
        return see_other(request, f"/invoices/{invoice.id}")
    return render(
        request,
        "deposit.html",
        signed_in=signed_in,
        surface="portal",
        project_id=project_id,
        headers={"Refresh": f"3; url=/projects/{project_id}/deposit"},
    )
