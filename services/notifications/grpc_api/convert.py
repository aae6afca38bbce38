"""Rows -> notifications.v1 messages."""

from __future__ import annotations

from portal.notifications.v1 import notifications_pb2 as pb

from services.notifications.models import Email

STATUS = {
    "pending": pb.EMAIL_STATUS_PENDING,
    "sent": pb.EMAIL_STATUS_SENT,
    "failed": pb.EMAIL_STATUS_FAILED,
}


def email_pb(e: Email) -> pb.Email:
    msg = pb.Email(
        id=str(e.id),
        to_address=e.to_address,
        subject=e.subject,
        event_type=e.event_type,
        status=STATUS[e.status],
    )
    msg.created_at.FromDatetime(e.created_at)
    if e.sent_at:
        msg.sent_at.FromDatetime(e.sent_at)
    return msg
