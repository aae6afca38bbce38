"""The email the portal sent, for staff ("did you get my email?")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, get_args

from fastapi import APIRouter
from portal.notifications.v1 import notifications_pb2
from pydantic import BaseModel, Field

from gateway.api.translate import timestamp
from gateway.deps import BackendsDep, PageDep, StaffDep
from gateway.problems import problem_responses
from services.chassis import enums

router = APIRouter(prefix="/emails", tags=["emails"], responses=problem_responses(401, 403))

# A test keeps this in step with the proto's EmailStatus enum.
EmailStatusName = Literal["pending", "sent", "failed"]
EMAIL_STATUS_NAMES: tuple[str, ...] = get_args(EmailStatusName)


def email_status_name(value: notifications_pb2.EmailStatus.ValueType) -> str:
    return enums.short_name(notifications_pb2.EmailStatus, value)


class Email(BaseModel):
    id: str
    to_address: str
    subject: str
    event_type: str = Field(
        description="The event that caused it, e.g. projects.project.stage_changed."
    )
    status: EmailStatusName
    created_at: datetime
    sent_at: datetime | None


class EmailPage(BaseModel):
    emails: list[Email]
    next_page_token: str = Field(
        description="Pass as page_token for the next page; empty at the end."
    )


def email_out(e: notifications_pb2.Email) -> Email:
    return Email(
        id=e.id,
        to_address=e.to_address,
        subject=e.subject,
        event_type=e.event_type,
        status=email_status_name(e.status),  # type: ignore[arg-type]  # validated by the model
        created_at=e.created_at.ToDatetime(tzinfo=UTC),
        sent_at=timestamp(e, "sent_at"),
    )


@router.get("", summary="List the email sent on this integrator's behalf")
async def list_emails(staff: StaffDep, backends: BackendsDep, page: PageDep) -> EmailPage:
    notifications = backends.notifications
    response = await notifications.call(
        notifications.stub.ListEmails,
        notifications_pb2.ListEmailsRequest(page=page),
        principal=staff,
    )
    return EmailPage(
        emails=[email_out(e) for e in response.emails],
        next_page_token=response.page.next_page_token,
    )
