"""python -m services.identity"""

from datetime import timedelta
from functools import partial

from portal.identity.v1 import identity_pb2, identity_pb2_grpc

from services.chassis.runtime import ServiceSpec, main
from services.identity.grpc_api import IdentityServicer
from services.identity.jobs import run_housekeeping
from services.identity.passwords import Passwords
from services.identity.settings import IdentitySettings

SPEC = ServiceSpec(
    name="identity",
    grpc_service_names=[identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name],
    register_grpc=lambda server, deps: identity_pb2_grpc.add_IdentityServiceServicer_to_server(
        IdentityServicer(deps.sessions, passwords=Passwords.from_settings(deps.settings)), server
    ),
    # Purges customers deleted more than 30 days ago, across tenants, every hour.
    background=lambda deps: [
        partial(
            run_housekeeping,
            sessions=deps.sessions,
            interval=getattr(deps.settings, "purge_interval_seconds", 3600.0),
        )
    ],
    # Identity's events carry one-time sign-in links: keep them briefly.
    stream_max_age_seconds=24 * 3600.0,
    outbox_keep_published=timedelta(hours=1),
)

if __name__ == "__main__":
    main(SPEC, IdentitySettings)
