"""python -m services.payments"""

from __future__ import annotations

from portal.payments.v1 import payments_pb2, payments_pb2_grpc

from services.chassis.background import BackgroundProcess
from services.chassis.runtime import ServiceSpec, main
from services.payments import handlers, jobs
from services.payments.documents_client import DocumentsClient
from services.payments.grpc_api import PaymentsServicer
from services.payments.settings import PaymentsSettings, accounting, stripe_gateway

SPEC = ServiceSpec(
    name="payments",
    settings=PaymentsSettings,
    # Invoices as issued and receipts are filed in the project's documents.
    calls=("documents",),
    grpc_service_names=[payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name],
    register_grpc=lambda server, deps: payments_pb2_grpc.add_PaymentsServiceServicer_to_server(
        PaymentsServicer(deps.sessions, stripe_gateway(deps.settings), accounting(deps.settings)),
        server,
    ),
    subscriptions=lambda deps: handlers.subscriptions(
        base_domain=deps.settings.portal_base_domain,
        documents=DocumentsClient(deps.remote("documents")),
        # Issued invoices' PDFs are drawn in a niced child process, off this loop.
        background=BackgroundProcess(),
    ),
    jobs=lambda deps: [
        *jobs.accounting_sync(
            sessions=deps.sessions,
            accounting=accounting(deps.settings),
            interval=deps.settings.sync_interval_seconds,
        ),
        *jobs.payment_method_domains(
            sessions=deps.sessions,
            stripe_api=stripe_gateway(deps.settings),
            retry_seconds=deps.settings.domain_retry_seconds,
        ),
    ],
)

if __name__ == "__main__":
    main(SPEC)
