"""Payments' use cases: one transaction each, through the unit of work."""

from services.payments.service.common import InvoiceView
from services.payments.service.invoices import (
    create_invoice,
    get_invoice,
    issue_invoice,
    list_invoices,
    void_invoice,
)
from services.payments.service.ledger import record_offline_payment, refund_payment
from services.payments.service.pay_now import quote_payment, start_payment
from services.payments.service.plan import (
    PlanView,
    get_plan,
    on_proposal_accepted,
    on_stage_changed,
    update_plan,
)
from services.payments.service.settings import get_settings, update_settings
from services.payments.service.webhooks import ingest_stripe_event, on_stripe_event

__all__ = [
    "InvoiceView",
    "PlanView",
    "create_invoice",
    "get_invoice",
    "get_plan",
    "get_settings",
    "ingest_stripe_event",
    "issue_invoice",
    "list_invoices",
    "on_proposal_accepted",
    "on_stage_changed",
    "on_stripe_event",
    "quote_payment",
    "record_offline_payment",
    "refund_payment",
    "start_payment",
    "update_plan",
    "update_settings",
    "void_invoice",
]
