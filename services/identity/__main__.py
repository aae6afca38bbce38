"""python -m services.identity"""

from portal.identity.v1 import identity_pb2, identity_pb2_grpc

from services.chassis.runtime import ServiceSpec, main
from services.identity.grpc_api import IdentityServicer
from services.identity.settings import IdentitySettings

SPEC = ServiceSpec(
    name="identity",
    grpc_service_names=[identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name],
    register_grpc=lambda server, deps: identity_pb2_grpc.add_IdentityServiceServicer_to_server(
        IdentityServicer(deps.sessions), server
    ),
)

if __name__ == "__main__":
    main(SPEC, IdentitySettings)
