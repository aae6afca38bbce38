"""Consumed events -> service."""

from __future__ import annotations

from portal.projects.v1.events_pb2 import ProjectCreated

from services.chassis.access import access_subscriptions
from services.chassis.consumer import Subscription
from services.documents import service

SUBSCRIPTIONS = (
    Subscription(ProjectCreated, service.on_project_created),
    *access_subscriptions(),
)
