"""Payments' events as `MAILINGS` entries (service/events.py): whom each tells
and what (`domain_payments`). Links go to the invoice's page in the portal,
where the client pays (or tries again) and reads what is left."""

from __future__ import annotations

from portal.payments.v1 import events_pb2 as payment_events

from services.notifications import domain, domain_payments

# Who at the integrator hears that money arrived (owner and admin, and finance).
FINANCE_ROLES = ("finance", "owner", "admin")


def invoice_issued(p: payment_events.InvoiceIssued) -> domain.Mailing:
    """The customer's approvers the project is for: they are the ones who pay."""
    label = p.standing.milestone_label
    return domain.Mailing(
        customer_id=p.customer_id,
        project_id=p.project_id,
        approvers_only=True,
        compose=lambda brand, portal: domain_payments.invoice_issued(
            number=p.number,
            project_name=p.project_name,
            due=p.due,
            due_on=p.due_on,
            milestone_label=label,
            link=f"{portal}/invoices/{p.invoice_id}",
        ),
    )


def payment_succeeded(p: payment_events.PaymentSucceeded) -> tuple[domain.Mailing, ...]:
    """A receipt to the client (the contacts the project is for) and "payment
    received" to the integrator's finance people."""
    project_name = p.standing.project_name
    receipt = domain.Mailing(
        customer_id=p.customer_id,
        project_id=p.project_id,
        compose=lambda brand, portal: domain_payments.receipt(
            number=p.invoice_number,
            project_name=project_name,
            paid=p.amount,
            charged=p.charged,
            method=p.method,
            left=p.invoice_due,
            link=f"{portal}/invoices/{p.invoice_id}",
        ),
    )
    received = domain.Mailing(
        staff_roles=FINANCE_ROLES,
        compose=lambda brand, portal: domain_payments.payment_received(
            number=p.invoice_number,
            project_name=project_name,
            paid=p.amount,
            method=p.method,
            left=p.invoice_due,
            link=f"{portal}/console/projects/{p.project_id}",
        ),
    )
    return (receipt, received)


def payment_failed(p: payment_events.PaymentFailed) -> domain.Mailing:
    """The approvers (who pay), with payments' own words for why."""
    return domain.Mailing(
        customer_id=p.customer_id,
        project_id=p.project_id,
        approvers_only=True,
        compose=lambda brand, portal: domain_payments.payment_failed(
            number=p.standing.number,
            project_name=p.standing.project_name,
            tried=p.amount,
            why=p.failure_message,
            link=f"{portal}/invoices/{p.invoice_id}",
        ),
    )


def verification_required(p: payment_events.PaymentVerificationRequired) -> domain.Mailing:
    """The approvers (who pay): the link is Stripe's own verification page."""
    return domain.Mailing(
        customer_id=p.customer_id,
        project_id=p.project_id,
        approvers_only=True,
        compose=lambda brand, portal: domain_payments.verify_bank_account(
            number=p.standing.number,
            project_name=p.standing.project_name,
            tried=p.amount,
            last4=p.account_last4,
            arrive_on=p.arrive_on,
            microdeposit_type=p.microdeposit_type,
            link=p.verification_url or f"{portal}/invoices/{p.invoice_id}",
        ),
    )


PAYMENT_MAILINGS = {
    payment_events.InvoiceIssued: invoice_issued,
    payment_events.PaymentSucceeded: payment_succeeded,
    payment_events.PaymentFailed: payment_failed,
    payment_events.PaymentVerificationRequired: verification_required,
}
