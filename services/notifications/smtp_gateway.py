"""Sending one email through SMTP (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, formatdate

import aiosmtplib

from services.notifications.models import Email
from services.notifications.settings import NotificationsSettings


def build_message(email: Email, *, mail_from: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((email.from_name, mail_from))
    msg["To"] = formataddr((email.to_name, email.to_address))
    msg["Subject"] = email.subject
    msg["Date"] = formatdate(localtime=False)
    # Stable id: a resend after a crash is recognisably the same message.
    msg["Message-ID"] = f"<{email.id}@portal>"
    msg["X-Portal-Event"] = email.event_type
    msg.set_content(email.text_body)
    msg.add_alternative(email.html_body, subtype="html")
    return msg


async def send(email: Email, settings: NotificationsSettings) -> None:
    await aiosmtplib.send(
        build_message(email, mail_from=settings.mail_from),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=15,
    )
