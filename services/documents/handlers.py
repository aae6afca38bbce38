"""Consumed events -> service."""

from __future__ import annotations

from portal.identity.v1.events_pb2 import CustomerAccessChanged, CustomerPurged
from portal.projects.v1.events_pb2 import ProjectCreated

from services.chassis.consumer import Subscription
from services.documents import service

SUBSCRIPTIONS = (
    Subscription(ProjectCreated, service.on_project_created),
    Subscription(CustomerAccessChanged, service.on_customer_access_changed),
    Subscription(CustomerPurged, service.on_customer_purged),
)
