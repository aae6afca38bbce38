"""Consumed subjects -> service.py."""

from __future__ import annotations

from functools import partial

from portal.projects.v1 import events_pb2 as projects_events

from services.chassis.consumer import Subscription
from services.notifications import service
from services.notifications.identity_client import IdentityClient


def subscriptions(*, identity: IdentityClient, portal_url_template: str) -> list[Subscription]:
    return [
        Subscription(
            subject="projects.project.stage_changed",
            payload_type=projects_events.ProjectStageChanged,
            handler=partial(
                service.on_project_stage_changed,
                identity=identity,
                portal_url_template=portal_url_template,
            ),
        ),
    ]
