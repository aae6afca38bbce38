"""One call function per payments operation, returning the API's model: the
JSON routes and the pages both call these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from portal.common.v1 import common_pb2
from portal.payments.v1 import payments_pb2 as pb

from gateway.api.payments.shapes import (
    Invoice,
    InvoicePage,
    NewInvoice,
    PaymentPlan,
    PaymentSettings,
    Quote,
    StartedPayment,
    invoice_out,
    payment_out,
    plan_out,
    settings_out,
)
from gateway.api.translate import money_out
from gateway.backends import PaymentsRemote
from services.chassis.auth import Principal


def _money(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency=currency.upper())


async def list_invoices(
    payments: PaymentsRemote,
    principal: Principal,
    page: common_pb2.PageRequest,
    *,
    project_id: UUID | None = None,
    customer_id: UUID | None = None,
) -> InvoicePage:
    answer = await payments.call(
        payments.stub.ListInvoices,
        pb.ListInvoicesRequest(
            project_id=str(project_id or ""), customer_id=str(customer_id or ""), page=page
        ),
        principal=principal,
    )
    return InvoicePage(
        invoices=[invoice_out(i) for i in answer.invoices],
        next_page_token=answer.page.next_page_token,
    )


async def fetch_invoice(
    payments: PaymentsRemote, principal: Principal, invoice_id: UUID
) -> Invoice:
    answer = await payments.call(
        payments.stub.GetInvoice,
        pb.GetInvoiceRequest(invoice_id=str(invoice_id)),
        principal=principal,
    )
    return invoice_out(answer.invoice)


async def create_invoice(
    payments: PaymentsRemote,
    principal: Principal,
    project_id: UUID,
    body: NewInvoice,
    *,
    request_id: str,
) -> Invoice:
    request = pb.CreateInvoiceRequest(
        request_id=request_id,
        project_id=str(project_id),
        lines=[
            pb.InvoiceLine(
                description=x.description, quantity=x.quantity, unit_price_minor=x.unit_price_minor
            )
            for x in body.lines
        ],
        tax_rate_bps=body.tax_rate_bps,
        memo=body.memo,
    )
    if body.terms_days is not None:
        request.terms_days = body.terms_days
    answer = await payments.call(payments.stub.CreateInvoice, request, principal=principal)
    return invoice_out(answer.invoice)


async def issue_invoice(
    payments: PaymentsRemote, principal: Principal, invoice_id: UUID
) -> Invoice:
    answer = await payments.call(
        payments.stub.IssueInvoice,
        pb.IssueInvoiceRequest(invoice_id=str(invoice_id)),
        principal=principal,
    )
    return invoice_out(answer.invoice)


async def void_invoice(
    payments: PaymentsRemote, principal: Principal, invoice_id: UUID, reason: str
) -> Invoice:
    answer = await payments.call(
        payments.stub.VoidInvoice,
        pb.VoidInvoiceRequest(invoice_id=str(invoice_id), reason=reason),
        principal=principal,
    )
    return invoice_out(answer.invoice)


async def fetch_plan(
    payments: PaymentsRemote, principal: Principal, project_id: UUID
) -> PaymentPlan:
    answer = await payments.call(
        payments.stub.GetPaymentPlan,
        pb.GetPaymentPlanRequest(project_id=str(project_id)),
        principal=principal,
    )
    return plan_out(answer)


async def change_plan(
    payments: PaymentsRemote,
    principal: Principal,
    project_id: UUID,
    milestones: list[tuple[str, str, int]],
) -> PaymentPlan:
    answer = await payments.call(
        payments.stub.UpdatePaymentPlan,
        pb.UpdatePaymentPlanRequest(
            project_id=str(project_id),
            milestones=[pb.Milestone(label=a, trigger=b, share_bps=c) for a, b, c in milestones],
        ),
        principal=principal,
    )
    return plan_out(answer.plan)


async def quote(
    payments: PaymentsRemote,
    principal: Principal,
    invoice_id: UUID,
    *,
    amount_minor: int,
    currency: str,
    method: str,
    card_funding: str,
) -> Quote:
    answer = await payments.call(
        payments.stub.QuotePayment,
        pb.QuotePaymentRequest(
            invoice_id=str(invoice_id),
            amount=_money(amount_minor, currency),
            method=method,
            card_funding=card_funding,
        ),
        principal=principal,
    )
    return Quote(
        applied=money_out(answer, "applied"),
        surcharge=money_out(answer, "surcharge"),
        discount=money_out(answer, "discount"),
        charged=money_out(answer, "charged"),
    )


async def pay(
    payments: PaymentsRemote,
    principal: Principal,
    invoice_id: UUID,
    *,
    attempt_id: str,
    amount_minor: int,
    currency: str,
    payment_method_id: str,
    bank_debit: Mapping[str, Any] | None = None,
) -> StartedPayment:
    """`bank_debit`: the BankDebit message's fields, instead of a Stripe.js method."""
    answer = await payments.call(
        payments.stub.StartPayment,
        pb.StartPaymentRequest(
            invoice_id=str(invoice_id),
            attempt_id=attempt_id,
            amount=_money(amount_minor, currency),
            payment_method_id=payment_method_id,
            bank_debit=pb.BankDebit(**bank_debit) if bank_debit else None,
        ),
        principal=principal,
    )
    return StartedPayment(
        payment=payment_out(answer.payment),
        client_secret=answer.client_secret,
        next_action=answer.next_action,
    )


async def cancel_payment(
    payments: PaymentsRemote, principal: Principal, invoice_id: UUID, payment_id: UUID
) -> Invoice:
    """A client gives up a bank debit awaiting verification (to pay by card)."""
    answer = await payments.call(
        payments.stub.CancelPayment,
        pb.CancelPaymentRequest(invoice_id=str(invoice_id), payment_id=str(payment_id)),
        principal=principal,
    )
    return invoice_out(answer.invoice)


async def record_offline(
    payments: PaymentsRemote,
    principal: Principal,
    invoice_id: UUID,
    *,
    request_id: str,
    method: str,
    amount_minor: int,
    currency: str,
    reference: str,
    received_on: str,
) -> Invoice:
    answer = await payments.call(
        payments.stub.RecordOfflinePayment,
        pb.RecordOfflinePaymentRequest(
            request_id=request_id,
            invoice_id=str(invoice_id),
            method=method,
            amount=_money(amount_minor, currency),
            reference=reference,
            received_on=received_on,
        ),
        principal=principal,
    )
    return invoice_out(answer.invoice)


async def refund(
    payments: PaymentsRemote,
    principal: Principal,
    payment_id: UUID,
    *,
    request_id: str,
    amount_minor: int,
    currency: str,
    reason: str,
) -> Invoice:
    answer = await payments.call(
        payments.stub.RefundPayment,
        pb.RefundPaymentRequest(
            request_id=request_id,
            payment_id=str(payment_id),
            amount=_money(amount_minor, currency),
            reason=reason,
        ),
        principal=principal,
    )
    return invoice_out(answer.invoice)


async def fetch_settings(payments: PaymentsRemote, principal: Principal) -> PaymentSettings:
    answer = await payments.call(
        payments.stub.GetPaymentSettings, pb.GetPaymentSettingsRequest(), principal=principal
    )
    return settings_out(answer.settings)


async def change_settings(
    payments: PaymentsRemote, principal: Principal, changes: Mapping[str, Any]
) -> PaymentSettings:
    request = pb.UpdatePaymentSettingsRequest()
    for name, value in changes.items():
        if name == "default_plan":
            request.settings.default_plan.extend(
                pb.Milestone(label=m["label"], trigger=m["trigger"], share_bps=m["share_bps"])
                for m in value or []
            )
        else:
            setattr(
                request.settings,
                name,
                value if value is not None else type(getattr(request.settings, name))(),
            )
        request.update_mask.paths.append(name)
    answer = await payments.call(payments.stub.UpdatePaymentSettings, request, principal=principal)
    return settings_out(answer.settings)
