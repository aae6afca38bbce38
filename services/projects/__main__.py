"""python -m services.projects"""

from __future__ import annotations

from portal.projects.v1 import projects_pb2, projects_pb2_grpc

from services.chassis.runtime import ServiceSpec, main
from services.projects import handlers
from services.projects.documents_client import DocumentsClient
from services.projects.grpc_api import ProjectsServicer
from services.projects.identity_client import IdentityClient
from services.projects.settings import ProjectsSettings


def _servicer(identity: IdentityClient, sessions) -> ProjectsServicer:
    """Identity answers both: a project's customer, and the integrator's time zone."""
    return ProjectsServicer(sessions, customers=identity, tenants=identity)


SPEC = ServiceSpec(
    name="projects",
    settings=ProjectsSettings,
    calls=("documents", "identity"),
    grpc_service_names=[projects_pb2.DESCRIPTOR.services_by_name["ProjectsService"].full_name],
    register_grpc=lambda server, deps: projects_pb2_grpc.add_ProjectsServiceServicer_to_server(
        _servicer(IdentityClient(deps.remote("identity")), deps.sessions), server
    ),
    # The consumer's own IdentityClient (its own minute-long zone copies).
    subscriptions=lambda deps: handlers.subscriptions(
        documents=DocumentsClient(deps.remote("documents")),
        tenants=IdentityClient(deps.remote("identity")),
    ),
)

if __name__ == "__main__":
    main(SPEC)
