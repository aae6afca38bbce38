"""python -m services.notifications"""

from __future__ import annotations

from functools import partial

from portal.notifications.v1 import notifications_pb2, notifications_pb2_grpc

from services.chassis.runtime import Deps, ServiceSpec, main
from services.notifications import handlers, service, smtp_gateway
from services.notifications.grpc_api import NotificationsServicer
from services.notifications.identity_client import IdentityClient
from services.notifications.settings import NotificationsSettings


def _signer(deps: Deps):
    if deps.signer is None:
        raise RuntimeError("NOTIFICATIONS_PRINCIPAL_PRIVATE_KEY is needed to call identity")
    return deps.signer


def _subscriptions(deps: Deps):
    settings: NotificationsSettings = deps.settings  # type: ignore[assignment]
    return handlers.subscriptions(
        identity=IdentityClient(settings.identity_target, _signer(deps)),
        portal_url_template=settings.portal_url_template,
    )


def _background(deps: Deps):
    settings: NotificationsSettings = deps.settings  # type: ignore[assignment]
    return [
        partial(
            service.run_mailer,
            sessions=deps.sessions,
            database_url=settings.database_url,
            send=partial(smtp_gateway.send, settings=settings),
            max_attempts=settings.mail_max_attempts,
        ),
        partial(
            service.run_share_digests,
            interval=settings.share_digest_interval_seconds,
            sessions=deps.sessions,
            identity=IdentityClient(settings.identity_target, _signer(deps)),
            portal_url_template=settings.portal_url_template,
            quiet_seconds=settings.share_digest_quiet_seconds,
        ),
    ]


SPEC = ServiceSpec(
    name="notifications",
    grpc_service_names=[
        notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"].full_name
    ],
    register_grpc=lambda server, deps: (
        notifications_pb2_grpc.add_NotificationsServiceServicer_to_server(
            NotificationsServicer(deps.sessions), server
        )
    ),
    subscriptions=_subscriptions,
    background=_background,
)

if __name__ == "__main__":
    main(SPEC, NotificationsSettings)
