"""python -m services.bookings"""

from __future__ import annotations

from portal.bookings.v1 import bookings_pb2, bookings_pb2_grpc

from services.bookings import handlers
from services.bookings.grpc_api import BookingsServicer
from services.bookings.projects_client import ProjectsClient
from services.bookings.settings import BookingsSettings
from services.chassis.runtime import ServiceSpec, main

SPEC = ServiceSpec(
    name="bookings",
    settings=BookingsSettings,
    calls=("projects",),
    grpc_service_names=[bookings_pb2.DESCRIPTOR.services_by_name["BookingsService"].full_name],
    register_grpc=lambda server, deps: bookings_pb2_grpc.add_BookingsServiceServicer_to_server(
        BookingsServicer(deps.sessions, ProjectsClient(deps.remote("projects"))), server
    ),
    subscriptions=lambda deps: handlers.subscriptions(),
)

if __name__ == "__main__":
    main(SPEC)
