"""Payments' use cases: one transaction each, through the unit of work."""

from services.payments.service.accounting import (
    Accounting,
    ConnectionView,
    complete_connection,
    disconnect,
    get_connection,
    start_connection,
)
from services.payments.service.cancel_debit import cancel_payment
from services.payments.service.common import InvoiceView
from services.payments.service.documents import (
    Pdf,
    get_invoice_pdf,
    get_receipt_pdf,
    get_statement_pdf,
)
from services.payments.service.filing import (
    DocumentArchive,
    on_invoice_issued,
    on_payment_succeeded,
)
from services.payments.service.invoices import (
    create_invoice,
    get_invoice,
    issue_invoice,
    list_invoices,
    void_invoice,
)
from services.payments.service.ledger import record_offline_payment, refund_payment
from services.payments.service.method_domains import on_tenant_onboarded, register_due_domains
from services.payments.service.pay_now import quote_payment, start_payment
from services.payments.service.plan import (
    PlanView,
    get_plan,
    on_proposal_accepted,
    on_stage_changed,
    update_plan,
)
from services.payments.service.posting import sync_due
from services.payments.service.settings import get_settings, update_settings
from services.payments.service.sync import (
    SyncView,
    list_sync_records,
    retry_sync,
)
from services.payments.service.variations import (
    VariationPreview,
    on_change_order_approved,
    preview_variation,
)
from services.payments.service.webhooks import (
    Delivery,
    ingest_stripe_event,
    ingest_stripe_events,
    on_stripe_event,
    on_stripe_events,
)

__all__ = [
    "Accounting",
    "ConnectionView",
    "Delivery",
    "DocumentArchive",
    "InvoiceView",
    "Pdf",
    "PlanView",
    "SyncView",
    "VariationPreview",
    "cancel_payment",
    "complete_connection",
    "create_invoice",
    "disconnect",
    "get_connection",
    "get_invoice",
    "get_invoice_pdf",
    "get_plan",
    "get_receipt_pdf",
    "get_settings",
    "get_statement_pdf",
    "ingest_stripe_event",
    "ingest_stripe_events",
    "issue_invoice",
    "list_invoices",
    "list_sync_records",
    "on_change_order_approved",
    "on_invoice_issued",
    "on_payment_succeeded",
    "on_proposal_accepted",
    "on_stage_changed",
    "on_stripe_event",
    "on_stripe_events",
    "on_tenant_onboarded",
    "preview_variation",
    "quote_payment",
    "record_offline_payment",
    "refund_payment",
    "register_due_domains",
    "retry_sync",
    "start_connection",
    "start_payment",
    "sync_due",
    "update_plan",
    "update_settings",
    "void_invoice",
]
