"""python -m services.identity"""

from datetime import timedelta

from portal.identity.v1 import identity_pb2, identity_pb2_grpc

from services.chassis.runtime import ServiceSpec, main
from services.identity import handlers, jobs
from services.identity.grpc_api import IdentityServicer
from services.identity.grpc_api.brand import DEADLINE_CEILINGS
from services.identity.passwords import Passwords
from services.identity.settings import IdentitySettings

SPEC = ServiceSpec(
    name="identity",
    settings=IdentitySettings,
    grpc_service_names=[identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name],
    register_grpc=lambda server, deps: identity_pb2_grpc.add_IdentityServiceServicer_to_server(
        IdentityServicer(
            deps.sessions,
            brand_keys=deps.settings.keys(),
            passwords=Passwords.from_settings(deps.settings),
        ),
        server,
    ),
    subscriptions=lambda deps: handlers.subscriptions(),
    jobs=lambda deps: [
        jobs.housekeeping(sessions=deps.sessions, interval=deps.settings.purge_interval_seconds)
    ],
    deadline_ceilings=DEADLINE_CEILINGS,
    # Identity's events carry one-time sign-in links: keep them briefly.
    stream_max_age_seconds=24 * 3600.0,
    outbox_keep_published=timedelta(hours=1),
)

if __name__ == "__main__":
    main(SPEC)
