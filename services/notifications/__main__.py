"""python -m services.notifications"""

from __future__ import annotations

from portal.notifications.v1 import notifications_pb2, notifications_pb2_grpc

from services.chassis.jobs import Job
from services.chassis.runtime import Deps, ServiceSpec, main
from services.notifications import handlers, jobs
from services.notifications.domain_delivery import RetryPolicy
from services.notifications.grpc_api import NotificationsServicer
from services.notifications.identity_client import IdentityClient
from services.notifications.service import MailerPolicy
from services.notifications.settings import NotificationsSettings
from services.notifications.smtp_gateway import SmtpGateway


def mailer_policy(s: NotificationsSettings) -> MailerPolicy:
    return MailerPolicy(
        retry=RetryPolicy(
            delays=s.mail_retry_seconds,
            max_attempts=s.mail_max_attempts,
            max_permanent_attempts=s.mail_max_permanent_attempts,
        ),
        hold_seconds=s.mail_hold_seconds,
        parallel=s.mail_parallel,
    )


def _jobs(deps: Deps[NotificationsSettings]) -> list[Job]:
    s = deps.settings
    return [
        jobs.mailer(
            sessions=deps.sessions,
            send=SmtpGateway(s, keep=s.mail_parallel, idle_seconds=s.smtp_idle_seconds).send,
            policy=mailer_policy(s),
        ),
        jobs.share_digests(
            sessions=deps.sessions,
            identity=IdentityClient(deps.remote("identity")),
            portal_url_template=s.portal_url_template,
            quiet_seconds=s.share_digest_quiet_seconds,
            interval=s.share_digest_interval_seconds,
        ),
    ]


SPEC = ServiceSpec(
    name="notifications",
    settings=NotificationsSettings,
    calls=("identity",),
    grpc_service_names=[
        notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"].full_name
    ],
    register_grpc=lambda server, deps: (
        notifications_pb2_grpc.add_NotificationsServiceServicer_to_server(
            NotificationsServicer(deps.sessions), server
        )
    ),
    subscriptions=lambda deps: handlers.subscriptions(
        # Kept until identity's events say it changed (handlers forget it).
        identity=IdentityClient(
            deps.remote("identity"), cache_seconds=deps.settings.identity_cache_seconds
        ),
        portal_url_template=deps.settings.portal_url_template,
    ),
    jobs=_jobs,
)

if __name__ == "__main__":
    main(SPEC)
