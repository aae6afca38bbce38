"""Consumed events -> service."""

from __future__ import annotations

from services.chassis.access import access_subscriptions
from services.chassis.audience import audience_subscriptions
from services.documents import service

# projects.project.created records the audience and our project_ref in one
# transaction (one durable consumer per subject).
SUBSCRIPTIONS = (
    *audience_subscriptions(on_created=service.on_project_created),
    *access_subscriptions(),
)
