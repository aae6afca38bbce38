"""Sending one email through SMTP (aiosmtplib), and saying how it failed.

Headers are built by the email package (`Address` for names, the SMTP policy
folding and RFC 2047-encoding the subject) from text with no control
character in it, so no field can add a header line. The envelope names the
one recipient explicitly: nothing in the headers decides who receives."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

import aiosmtplib

from services.notifications import domain_delivery as delivery
from services.notifications.domain_delivery import Failure, SendFailed
from services.notifications.models import Email, EmailAttachment
from services.notifications.settings import NotificationsSettings


def build_message(email: Email, *, mail_from: str) -> EmailMessage:
    """The message, or SendFailed (permanent) when it cannot be composed."""
    if problem := delivery.address_problem(email.to_address):
        raise SendFailed(Failure.permanent(f"invalid recipient address: {problem}"))
    try:
        msg = EmailMessage(policy=SMTP)
        # Cleaned again here: rows queued before composition cleaned them.
        msg["From"] = Address(
            display_name=delivery.header_text(email.from_name, delivery.NAME_MAX),
            addr_spec=mail_from,
        )
        msg["To"] = Address(
            display_name=delivery.header_text(email.to_name, delivery.NAME_MAX),
            addr_spec=email.to_address,
        )
        msg["Subject"] = delivery.header_text(email.subject, delivery.SUBJECT_MAX)
        msg["Date"] = formatdate(localtime=False)
        # Stable id: a resend after a crash is recognisably the same message.
        msg["Message-ID"] = f"<{email.id}@portal>"
        msg["X-Portal-Event"] = delivery.header_text(email.event_type, delivery.NAME_MAX)
        msg.set_content(delivery.body_text(email.text_body))
        msg.add_alternative(delivery.body_text(email.html_body), subtype="html")
        for attachment in email.attachments:
            _attach(msg, attachment)
    except (ValueError, TypeError, LookupError) as exc:
        raise SendFailed(Failure.permanent(f"cannot compose the message: {exc}")) from exc
    return msg


def _attach(msg: EmailMessage, attachment: EmailAttachment) -> None:
    """A file as its own part (the message becomes multipart/mixed). A calendar
    invitation keeps its `method` parameter: mail clients read it to offer
    "update" or "remove" for the event they already hold."""
    kind, _, rest = attachment.content_type.partition(";")
    maintype, _, subtype = kind.strip().partition("/")
    params = dict(
        (k.strip(), v.strip()) for k, _, v in (p.partition("=") for p in rest.split(";") if p)
    )
    msg.add_attachment(
        attachment.content,
        maintype=maintype or "application",
        subtype=subtype or "octet-stream",
        filename=attachment.filename,
        params=params,
    )


def failure_of(exc: Exception) -> Failure:
    """What a failed SMTP exchange means for this message."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        # One recipient per message: its refusal is about this message.
        refusals = exc.recipients or []
        if refusals and all(500 <= r.code < 600 for r in refusals):
            first = refusals[0]
            return delivery.smtp_reply_failure(first.code, first.message, about_this_message=True)
        return Failure.transient(f"recipient refused for now: {exc}")
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return delivery.smtp_reply_failure(exc.code, exc.message, about_this_message=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # Greeting, login, sender: our side's configuration, true of every message.
        return delivery.smtp_reply_failure(exc.code, exc.message, about_this_message=False)
    # Connection refused or dropped, timeouts, TLS: the road, not the message.
    return Failure.transient(f"{type(exc).__name__}: {exc}")


async def send(email: Email, settings: NotificationsSettings) -> None:
    """Send it, or raise SendFailed saying whether another try may help."""
    message = build_message(email, mail_from=settings.mail_from)
    try:
        await aiosmtplib.send(
            message,
            sender=settings.mail_from,
            recipients=[email.to_address],
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=15,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise SendFailed(failure_of(exc)) from exc
