"""Consumed subjects -> service."""

from __future__ import annotations

from portal.identity.v1 import events_pb2 as identity_events
from portal.projects.v1 import events_pb2 as project_events

from services.chassis.consumer import Subscription
from services.documents import service


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            "projects.project.created", project_events.ProjectCreated, service.on_project_created
        ),
        Subscription(
            "identity.customer.access_changed",
            identity_events.CustomerAccessChanged,
            service.on_customer_access_changed,
        ),
        Subscription(
            "identity.customer.purged", identity_events.CustomerPurged, service.on_customer_purged
        ),
    ]
