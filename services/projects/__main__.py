"""python -m services.projects"""

from portal.projects.v1 import projects_pb2, projects_pb2_grpc

from services.chassis.runtime import ServiceSpec, main
from services.projects import handlers
from services.projects.grpc_api import ProjectsServicer
from services.projects.settings import ProjectsSettings

SPEC = ServiceSpec(
    name="projects",
    grpc_service_names=[projects_pb2.DESCRIPTOR.services_by_name["ProjectsService"].full_name],
    register_grpc=lambda server, deps: projects_pb2_grpc.add_ProjectsServiceServicer_to_server(
        ProjectsServicer(deps.sessions), server
    ),
    subscriptions=lambda deps: handlers.subscriptions(),
)

if __name__ == "__main__":
    main(SPEC, ProjectsSettings)
