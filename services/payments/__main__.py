"""python -m services.payments"""

from __future__ import annotations

from portal.payments.v1 import payments_pb2, payments_pb2_grpc

from services.chassis.runtime import ServiceSpec, main
from services.payments import handlers
from services.payments.grpc_api import PaymentsServicer
from services.payments.settings import PaymentsSettings, stripe_gateway

SPEC = ServiceSpec(
    name="payments",
    settings=PaymentsSettings,
    grpc_service_names=[payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name],
    register_grpc=lambda server, deps: payments_pb2_grpc.add_PaymentsServiceServicer_to_server(
        PaymentsServicer(deps.sessions, stripe_gateway(deps.settings)), server
    ),
    subscriptions=lambda deps: handlers.subscriptions(),
)

if __name__ == "__main__":
    main(SPEC)
