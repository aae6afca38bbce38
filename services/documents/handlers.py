"""Consumed subjects -> service."""

from __future__ import annotations

from portal.projects.v1 import events_pb2 as project_events

from services.chassis.access import access_subscriptions
from services.chassis.consumer import Subscription
from services.documents import service


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            "projects.project.created", project_events.ProjectCreated, service.on_project_created
        ),
        *access_subscriptions(),
    ]
