"""Notifications use cases: events become queued branded email (events.py,
through common.py), the mailer sends it (mailer.py), document digests
(digests.py), and staff read it back (emails.py). The jobs that run the mailer
and the digests are declared in ../jobs.py."""

from services.notifications.service.booking_mail import (
    BOOKING_EVENTS,
    BOOKING_MAILINGS,
    queue_booking_email,
)
from services.notifications.service.common import (
    MAIL_CHANNEL,
    Sessions,
    brand_of,
    email_row,
    queue_branded_email,
    queue_emails,
)
from services.notifications.service.digests import send_share_digests
from services.notifications.service.emails import list_emails
from services.notifications.service.events import (
    MAILINGS,
    on_document_shared,
    queue_event_email,
)
from services.notifications.service.mailer import (
    MailerPolicy,
    seconds_until_next_due,
    send_due_emails,
)

__all__ = [
    "BOOKING_EVENTS",
    "BOOKING_MAILINGS",
    "MAILINGS",
    "MAIL_CHANNEL",
    "MailerPolicy",
    "Sessions",
    "brand_of",
    "email_row",
    "list_emails",
    "on_document_shared",
    "queue_booking_email",
    "queue_branded_email",
    "queue_emails",
    "queue_event_email",
    "seconds_until_next_due",
    "send_due_emails",
    "send_share_digests",
]
