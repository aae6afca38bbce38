"""python -m services.changeorders"""

from __future__ import annotations

from portal.changeorders.v1 import changeorders_pb2, changeorders_pb2_grpc

from services.changeorders import handlers, jobs
from services.changeorders.certificate_renderer import BackgroundRenderer
from services.changeorders.documents_client import DocumentsClient
from services.changeorders.grpc_api import ChangeOrdersServicer
from services.changeorders.payments_client import PaymentsClient
from services.changeorders.projects_client import ProjectsClient
from services.changeorders.settings import ChangeOrdersSettings
from services.chassis.admission import Admission
from services.chassis.runtime import ServiceSpec, main

SPEC = ServiceSpec(
    name="changeorders",
    settings=ChangeOrdersSettings,
    # The approved order's certificate is filed in the project's documents.
    calls=("projects", "payments", "documents"),
    grpc_service_names=[
        changeorders_pb2.DESCRIPTOR.services_by_name["ChangeOrdersService"].full_name
    ],
    register_grpc=lambda server, deps: (
        changeorders_pb2_grpc.add_ChangeOrdersServiceServicer_to_server(
            ChangeOrdersServicer(
                deps.sessions,
                ProjectsClient(deps.remote("projects")),
                PaymentsClient(deps.remote("payments")),
                Admission(
                    in_flight=deps.settings.approvals_in_flight,
                    waiting=deps.settings.approvals_waiting,
                    wait_seconds=deps.settings.approvals_wait_seconds,
                    needs_seconds=deps.settings.approvals_needs_seconds,
                ),
            ),
            server,
        )
    ),
    # Certificates filed after approvals are drawn in a niced child process:
    # on this process's loop they held up the approvals themselves. Started
    # with the service, so the first approvals do not pay for its start.
    subscriptions=lambda deps: handlers.subscriptions(
        documents=DocumentsClient(deps.remote("documents")),
        renderer=BackgroundRenderer(start=True),
    ),
    jobs=lambda deps: [
        jobs.expiry(sessions=deps.sessions, interval=deps.settings.expiry_interval_seconds)
    ],
)

if __name__ == "__main__":
    main(SPEC)
