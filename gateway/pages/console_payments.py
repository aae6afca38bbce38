"""The console's payment settings (the Stripe account and publishable key, the
minimum part payment, the card surcharge or bank-debit discount, the region
that decides what the law allows, default terms) and a project's payment
plan (its milestones). The JSON API's calls, as the staff member; payments
checks every value and its refusal comes back as the flash."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.payments import calls
from gateway.backends import RemoteError
from gateway.deps import PaymentsDep, StaffPage
from gateway.pages.console_invoices import TRIGGERS, invoices_url
from gateway.pages.projects import page_id
from gateway.pages.rendering import Form, refusal, render, see_other, signed_in_form
from services.chassis.money import format_amount, parse_amount, parse_percent_bps

router = APIRouter(include_in_schema=False)
PAGE = "/console/payments"
MAX_MILESTONES = 8


@router.get(PAGE)
async def payments_page(request: Request, signed_in: StaffPage, payments: PaymentsDep) -> Response:
    settings = await calls.fetch_settings(payments, signed_in.person)
    currency = settings.currency or request.state.tenant.currency or "USD"
    minimum = format_amount(settings.minimum_payment_minor, currency)
    return render(
        request,
        "console/payments.html",
        signed_in=signed_in,
        surface="console",
        settings=settings,
        currency=currency,
        minimum_text="".join(c for c in minimum if c.isdigit() or c in ".,"),
    )


def read_settings(form: Form, currency: str) -> tuple[dict[str, Any], str]:
    """The settings form as the API's changes; a number typed wrong is named."""
    try:
        changes: dict[str, Any] = {
            "stripe_account_id": form.get("stripe_account_id")[:100],
            "publishable_key": form.get("publishable_key")[:200],
            "minimum_payment_minor": parse_amount(form.get("minimum_payment"), currency),
            "card_surcharge_bps": parse_percent_bps(form.get("card_surcharge")),
            "bank_discount_bps": parse_percent_bps(form.get("bank_discount")),
            "region": form.get("region")[:10].upper(),
            "ach_debit_enabled": form.has("ach_debit_enabled"),
            "bacs_debit_enabled": form.has("bacs_debit_enabled"),
        }
    except ValueError as exc:
        return {}, str(exc)
    terms = form.get("default_terms_days")
    if terms:
        if not terms.isdigit():
            return {}, "Payment terms are a whole number of days."
        changes["default_terms_days"] = int(terms)
    return changes, ""


@router.post(PAGE)
async def save_settings(request: Request, signed_in: StaffPage, payments: PaymentsDep) -> Response:
    form = await signed_in_form(request, signed_in)
    changes, error = read_settings(form, form.get("currency") or "USD")
    if error:
        return see_other(request, PAGE, flash=error, kind="error")
    try:
        await calls.change_settings(payments, signed_in.person, changes)
    except RemoteError as exc:
        return see_other(request, PAGE, flash=refusal(exc).message, kind="error")
    return see_other(request, PAGE, flash="Payment settings saved.")


def read_plan(form: Form) -> tuple[list[tuple[str, str, int]], str]:
    """The plan form's rows with a label, in order; a share typed as "50"."""
    rows = []
    triggers = dict(TRIGGERS)
    for n in range(MAX_MILESTONES):
        label = form.get(f"m_{n}_label")[:80]
        if not label:
            continue
        trigger = form.get(f"m_{n}_trigger")
        if trigger not in triggers:
            return [], f"Milestone {n + 1}: choose when it is invoiced."
        try:
            share = parse_percent_bps(form.get(f"m_{n}_share"))
        except ValueError as exc:
            return [], f"Milestone {n + 1}: {exc}"
        rows.append((label, trigger, share))
    if not rows:
        return [], "Keep at least one milestone."
    return rows, ""


@router.post("/console/projects/{project_id}/payment-plan")
async def save_plan(
    request: Request, project_id: str, signed_in: StaffPage, payments: PaymentsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    back = invoices_url(project_id) + "#plan"
    milestones, error = read_plan(form)
    if error:
        return see_other(request, back, flash=error, kind="error")
    try:
        await calls.change_plan(payments, signed_in.person, uuid.UUID(project_id), milestones)
    except RemoteError as exc:
        return see_other(request, back, flash=refusal(exc).message, kind="error")
    return see_other(request, back, flash="Payment plan saved.")
