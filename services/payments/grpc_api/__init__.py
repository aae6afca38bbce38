"""PaymentsService over gRPC: translate, call the service layer, translate back."""

from __future__ import annotations

from datetime import date

from google.protobuf.json_format import MessageToDict
from portal.common.v1 import common_pb2
from portal.payments.v1 import payments_pb2 as pb
from portal.payments.v1 import payments_pb2_grpc

from services.chassis import fieldmask
from services.chassis.auth import current_principal
from services.chassis.errors import DomainError, InvalidArgument, Unavailable
from services.chassis.grpc_server import error_detail_of, status_for
from services.chassis.money import money
from services.payments import service
from services.payments.grpc_api.convert import (
    connection_pb,
    invoice_pb,
    payment_pb,
    plan_pb,
    preview_pb,
    settings_pb,
    sync_pb,
)
from services.payments.service import Accounting
from services.payments.service.settings import UPDATABLE
from services.payments.service.webhook_batch import WebhookBatcher
from services.payments.stripe_gateway import StripeGateway

__all__ = ["PaymentsServicer"]


def _date(value: str, *, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"{field} must be a date as YYYY-MM-DD", field=field) from None


class PaymentsServicer(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(
        self,
        sessions,
        stripe_api: StripeGateway | None = None,
        accounting: Accounting | None = None,
    ) -> None:
        self._sessions = sessions
        self._stripe = stripe_api
        self._accounting = accounting or Accounting()
        # One per process: concurrent webhooks share a transaction.
        self._webhooks = WebhookBatcher(sessions)

    def _stripe_api(self) -> StripeGateway:
        if self._stripe is None:
            raise Unavailable("card and bank payments are not set up on this server")
        return self._stripe

    # --- invoices --------------------------------------------------------------------

    async def ListInvoices(self, request, context):
        principal = current_principal()
        views, token = await service.list_invoices(
            sessions=self._sessions,
            principal=principal,
            project_id=request.project_id,
            customer_id=request.customer_id,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return pb.ListInvoicesResponse(
            invoices=[invoice_pb(v, for_client=principal.is_client) for v in views],
            page=common_pb2.PageResponse(next_page_token=token),
        )

    async def GetInvoice(self, request, context):
        principal = current_principal()
        view = await service.get_invoice(
            sessions=self._sessions, principal=principal, invoice_id=request.invoice_id
        )
        return pb.GetInvoiceResponse(invoice=invoice_pb(view, for_client=principal.is_client))

    async def CreateInvoice(self, request, context):
        view = await service.create_invoice(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            project_id=request.project_id,
            lines=[(x.description, x.quantity, x.unit_price_minor) for x in request.lines],
            tax_rate_bps=request.tax_rate_bps,
            terms_days=request.terms_days if request.HasField("terms_days") else None,
            memo=request.memo,
        )
        return pb.CreateInvoiceResponse(invoice=invoice_pb(view, for_client=False))

    async def IssueInvoice(self, request, context):
        view = await service.issue_invoice(
            sessions=self._sessions, principal=current_principal(), invoice_id=request.invoice_id
        )
        return pb.IssueInvoiceResponse(invoice=invoice_pb(view, for_client=False))

    async def VoidInvoice(self, request, context):
        view = await service.void_invoice(
            sessions=self._sessions,
            principal=current_principal(),
            invoice_id=request.invoice_id,
            reason=request.reason,
        )
        return pb.VoidInvoiceResponse(invoice=invoice_pb(view, for_client=False))

    async def GetInvoicePdf(self, request, context):
        document = await service.get_invoice_pdf(
            sessions=self._sessions,
            principal=current_principal(),
            invoice_id=request.invoice_id,
            letterhead=request.letterhead if request.HasField("letterhead") else None,
        )
        return pb.GetInvoicePdfResponse(pdf=document.pdf, filename=document.filename)

    async def GetReceiptPdf(self, request, context):
        document = await service.get_receipt_pdf(
            sessions=self._sessions,
            principal=current_principal(),
            payment_id=request.payment_id,
            letterhead=request.letterhead if request.HasField("letterhead") else None,
        )
        return pb.GetReceiptPdfResponse(pdf=document.pdf, filename=document.filename)

    async def GetStatementPdf(self, request, context):
        document = await service.get_statement_pdf(
            sessions=self._sessions,
            principal=current_principal(),
            customer_id=request.customer_id,
            from_date=request.from_date,
            to_date=request.to_date,
            letterhead=request.letterhead if request.HasField("letterhead") else None,
        )
        return pb.GetStatementPdfResponse(pdf=document.pdf, filename=document.filename)

    # --- the plan --------------------------------------------------------------------

    async def GetPaymentPlan(self, request, context):
        principal = current_principal()
        view = await service.get_plan(
            sessions=self._sessions, principal=principal, project_id=request.project_id
        )
        return plan_pb(view, for_client=principal.is_client)

    async def UpdatePaymentPlan(self, request, context):
        view = await service.update_plan(
            sessions=self._sessions,
            principal=current_principal(),
            project_id=request.project_id,
            milestones=[(m.label, m.trigger, m.share_bps) for m in request.milestones],
        )
        return pb.UpdatePaymentPlanResponse(plan=plan_pb(view, for_client=False))

    async def PreviewVariation(self, request, context):
        view = await service.preview_variation(
            sessions=self._sessions,
            principal=current_principal(),
            project_id=request.project_id,
            impact_minor=request.price_impact.amount_minor,
            tax_minor=request.tax_impact.amount_minor,
            currency=request.price_impact.currency,
        )
        return preview_pb(view)

    # --- money in and out ----------------------------------------------------------------

    async def RecordOfflinePayment(self, request, context):
        view = await service.record_offline_payment(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            invoice_id=request.invoice_id,
            method=request.method,
            amount_minor=request.amount.amount_minor,
            currency=request.amount.currency,
            reference=request.reference,
            received_on=_date(request.received_on, field="received_on"),
        )
        return pb.RecordOfflinePaymentResponse(invoice=invoice_pb(view, for_client=False))

    async def RefundPayment(self, request, context):
        view = await service.refund_payment(
            sessions=self._sessions,
            stripe_api=self._stripe,
            principal=current_principal(),
            request_id=request.request_id,
            payment_id=request.payment_id,
            amount_minor=request.amount.amount_minor,
            reason=request.reason,
        )
        return pb.RefundPaymentResponse(invoice=invoice_pb(view, for_client=False))

    async def CancelPayment(self, request, context):
        principal = current_principal()
        view = await service.cancel_payment(
            sessions=self._sessions,
            stripe_api=self._stripe_api(),
            principal=principal,
            invoice_id=request.invoice_id,
            payment_id=request.payment_id,
        )
        return pb.CancelPaymentResponse(invoice=invoice_pb(view, for_client=principal.is_client))

    async def QuotePayment(self, request, context):
        charge = await service.quote_payment(
            sessions=self._sessions,
            principal=current_principal(),
            invoice_id=request.invoice_id,
            amount_minor=request.amount.amount_minor,
            currency=request.amount.currency,
            method=request.method,
            card_funding=request.card_funding,
        )
        cur = request.amount.currency.upper()
        return pb.QuotePaymentResponse(
            applied=money(charge.applied_minor, cur),
            surcharge=money(charge.surcharge_minor, cur),
            discount=money(charge.discount_minor, cur),
            charged=money(charge.charged_minor, cur),
        )

    async def StartPayment(self, request, context):
        principal = current_principal()
        started = await service.start_payment(
            sessions=self._sessions,
            stripe_api=self._stripe_api(),
            principal=principal,
            invoice_id=request.invoice_id,
            attempt_id=request.attempt_id,
            amount_minor=request.amount.amount_minor,
            currency=request.amount.currency,
            payment_method_id=request.payment_method_id,
            bank_debit=(
                MessageToDict(request.bank_debit, preserving_proto_field_name=True)
                if request.HasField("bank_debit")
                else None
            ),
        )
        return pb.StartPaymentResponse(
            payment=payment_pb(started.payment, 0, for_client=True),
            client_secret=started.client_secret,
            next_action=started.next_action,
        )

    async def IngestStripeEvent(self, request, context):
        event_id, duplicate = await service.ingest_stripe_event(
            batcher=self._webhooks,
            stripe_api=self._stripe_api(),
            principal=current_principal(),
            payload=request.payload,
            signature=request.signature,
        )
        return pb.IngestStripeEventResponse(event_id=event_id, duplicate=duplicate)

    async def IngestStripeEvents(self, request, context):
        results = await service.ingest_stripe_events(
            batcher=self._webhooks,
            stripe_api=self._stripe_api(),
            principal=current_principal(),
            deliveries=[
                service.Delivery(d.payload, d.signature, d.traceparent) for d in request.deliveries
            ],
        )
        return pb.IngestStripeEventsResponse(results=[_delivery_result(r) for r in results])

    # --- settings --------------------------------------------------------------------

    async def GetPaymentSettings(self, request, context):
        settings = await service.get_settings(
            sessions=self._sessions, principal=current_principal()
        )
        return pb.GetPaymentSettingsResponse(settings=settings_pb(settings))

    async def UpdatePaymentSettings(self, request, context):
        changes = fieldmask.changes(request, allowed=UPDATABLE, resource="settings")
        settings = await service.update_settings(
            sessions=self._sessions, principal=current_principal(), changes=changes
        )
        return pb.UpdatePaymentSettingsResponse(settings=settings_pb(settings))

    # --- accounting ------------------------------------------------------------------

    async def ListSyncRecords(self, request, context):
        views, token = await service.list_sync_records(
            sessions=self._sessions,
            principal=current_principal(),
            state=request.state,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return pb.ListSyncRecordsResponse(
            records=[sync_pb(v) for v in views],
            page=common_pb2.PageResponse(next_page_token=token),
        )

    async def RetrySync(self, request, context):
        view = await service.retry_sync(
            sessions=self._sessions, principal=current_principal(), sync_id=request.sync_id
        )
        return pb.RetrySyncResponse(record=sync_pb(view))

    async def GetAccountingConnection(self, request, context):
        view = await service.get_connection(
            sessions=self._sessions, accounting=self._accounting, principal=current_principal()
        )
        return pb.GetAccountingConnectionResponse(
            connection=connection_pb(view),
            available_providers=list(view.available),
            counts=pb.SyncCounts(**view.counts),
        )

    async def StartAccountingConnection(self, request, context):
        url = await service.start_connection(
            sessions=self._sessions,
            accounting=self._accounting,
            principal=current_principal(),
            provider=request.provider,
            redirect_uri=request.redirect_uri,
        )
        return pb.StartAccountingConnectionResponse(authorize_url=url)

    async def CompleteAccountingConnection(self, request, context):
        view = await service.complete_connection(
            sessions=self._sessions,
            accounting=self._accounting,
            principal=current_principal(),
            state=request.state,
            code=request.code,
            realm_id=request.realm_id,
        )
        return pb.CompleteAccountingConnectionResponse(connection=connection_pb(view))

    async def DisconnectAccounting(self, request, context):
        view = await service.disconnect(
            sessions=self._sessions, accounting=self._accounting, principal=current_principal()
        )
        return pb.DisconnectAccountingResponse(connection=connection_pb(view))


def _delivery_result(result: tuple[str, bool] | DomainError) -> pb.StripeDeliveryResult:
    """One delivery's answer, or its refusal as the status it would have had alone."""
    if isinstance(result, DomainError):
        return pb.StripeDeliveryResult(
            error_status=status_for(result).value[0], error=error_detail_of(result)
        )
    event_id, duplicate = result
    return pb.StripeDeliveryResult(event_id=event_id, duplicate=duplicate)
