"""Consumed events -> service/."""

from __future__ import annotations

from portal.changeorders.v1.events_pb2 import ChangeOrderApproved
from portal.identity.v1.events_pb2 import StaffUserChanged
from portal.projects.v1.events_pb2 import ProjectServiceContractChanged, ProjectStageChanged

from services.bookings import service
from services.chassis.access import access_subscriptions
from services.chassis.audience import audience_subscriptions
from services.chassis.consumer import Subscription


def subscriptions() -> list[Subscription]:
    return [
        *access_subscriptions(),
        # The project's audience, and our copy of its facts from its first event.
        *audience_subscriptions(on_created=service.on_project_created),
        # Technicians: staff users with the technician role.
        Subscription(StaffUserChanged, service.on_staff_user_changed),
        # Who may book: past handover, or a service contract.
        Subscription(ProjectStageChanged, service.on_stage_changed),
        Subscription(ProjectServiceContractChanged, service.on_service_contract_changed),
        # An approved change order: its tasks and schedule shift on the install visits.
        Subscription(ChangeOrderApproved, service.on_change_order_approved),
    ]
