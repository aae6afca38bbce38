"""What an email says: pure rendering, no I/O. One generic branded layout;
one function per kind of message."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from jinja2 import Environment, select_autoescape
from portal.identity.v1 import events_pb2 as identity_events
from portal.projects.v1 import projects_pb2

from services.chassis import enums, money, timefmt
from services.chassis.events import subject_for
from services.notifications.domain_delivery import SUBJECT_MAX, body_text, header_text, one_line

# identity.v1.AccessState values.
ACTIVE, ARCHIVED, DELETED = 1, 2, 3
# Emails holding one-time links: their bodies are scrubbed once sent.
SENSITIVE_EVENTS = frozenset(
    subject_for(t)
    for t in (
        identity_events.ContactInvited,
        identity_events.StaffUserInvited,
        identity_events.MagicLinkRequested,
        identity_events.PasswordResetRequested,
    )
)

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))

_HTML = _env.from_string(
    """<!doctype html><html>
<body style="margin:0;background:#f5f6f8;font-family:system-ui,sans-serif">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="100%" style="max-width:560px;background:#fff;margin:24px 0">
<tr><td style="background:{{ accent }};color:#fff;padding:16px 24px;font-size:18px;font-weight:600">
{{ brand }}</td></tr>
<tr><td style="padding:24px;color:#1d2430;font-size:16px;line-height:1.5">
<p>Hello {{ recipient }},</p>
{% for p in paragraphs %}<p>{{ p }}</p>{% endfor %}
{% if note %}
<p style="border-left:4px solid {{ accent }};padding-left:12px">{{ note }}</p>
{% endif %}
{% if link %}<p><a href="{{ link }}" style="display:inline-block;background:{{ accent }};color:#fff;
padding:12px 20px;border-radius:6px;text-decoration:none">{{ button }}</a></p>{% endif %}
{% for p in after %}<p style="color:#5b6472;font-size:14px">{{ p }}</p>{% endfor %}
</td></tr>
<tr><td style="padding:16px 24px;color:#5b6472;font-size:13px">{{ brand }}
{% if support_email %} &middot; {{ support_email }}{% endif %}
{% if support_phone %} &middot; {{ support_phone }}{% endif %}</td></tr>
</table></td></tr></table></body></html>"""
)


@dataclass(frozen=True)
class Brand:
    name: str
    accent_color: str
    support_email: str
    support_phone: str
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. 'text/calendar; method=REQUEST'
    content: bytes


@dataclass(frozen=True)
class Mailing:
    """Whom an event's email goes to, and what it says once the tenant's brand
    and portal address (e.g. http://acme.localhost:8000) are known."""

    compose: Callable[[Brand, str], Message]
    customer_id: str = ""  # every contact identity lists for this customer
    recipients: tuple[Recipient, ...] = ()  # or exactly these people
    # About this project: only the customer's contacts it is for (chassis.audience).
    project_id: str = ""
    # Of those contacts, only the ones who may approve and pay (an invoice to pay).
    approvers_only: bool = False
    # Or the integrator's staff holding one of these roles ("finance", "owner", ...).
    staff_roles: tuple[str, ...] = ()
    # Files for each recipient (a calendar invitation names its attendee).
    attach: Callable[[Brand, Recipient], tuple[Attachment, ...]] | None = None


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Message:
    """What to say, before layout: paragraphs, an optional note and button."""

    subject: str
    paragraphs: list[str]
    button: str = ""
    link: str = ""
    note: str = ""
    after: list[str] = field(default_factory=list)


def render(message: Message, *, brand: Brand, recipient: str) -> RenderedEmail:
    # Names and notes come from people. A paragraph is one line whatever a
    # name holds; no control character reaches a header, and none but newline
    # and tab a body (NUL would not even be stored).
    message = replace(
        message,
        paragraphs=[one_line(p) for p in message.paragraphs],
        after=[one_line(p) for p in message.after],
    )
    recipient = one_line(recipient)
    text = [f"Hello {recipient},", "", *_spaced(message.paragraphs)]
    if message.note:
        text += ["", message.note]
    if message.link:
        text += ["", f"{message.button}: {message.link}"]
    if message.after:
        text += ["", *_spaced(message.after)]
    text += ["", "--", brand.name]
    if brand.support_email:
        text.append(brand.support_email)
    if brand.support_phone:
        text.append(brand.support_phone)
    html = _HTML.render(
        accent=brand.accent_color or "#1f6feb",
        brand=brand.name,
        recipient=recipient,
        paragraphs=message.paragraphs,
        note=message.note,
        link=message.link,
        button=message.button,
        after=message.after,
        support_email=brand.support_email,
        support_phone=brand.support_phone,
    )
    return RenderedEmail(
        subject=header_text(message.subject, SUBJECT_MAX),
        text=body_text("\n".join(text) + "\n"),
        html=body_text(html),
    )


def _spaced(paragraphs: list[str]) -> list[str]:
    out: list[str] = []
    for p in paragraphs:
        if out:
            out.append("")
        out.append(p)
    return out


def stage_label(stage: int) -> str:
    return enums.label(projects_pb2.Stage, stage, missing="an unknown stage")


def local_time(moment: datetime, time_zone: str) -> str:
    """'2 Dec 2025, 14:05 GMT': the tenant's clock, as pages and PDFs show it."""
    return timefmt.format_datetime(moment, time_zone)


def stage_changed(
    *,
    project_name: str,
    reference: str,
    from_stage: int,
    to_stage: int,
    client_note: str,
    link: str,
) -> Message:
    verb = "has moved back to" if to_stage < from_stage else "is now in"
    return Message(
        subject=f"{project_name}: now in {stage_label(to_stage)}",
        paragraphs=[f"Your project {project_name} ({reference}) {verb} {stage_label(to_stage)}."],
        note=client_note,
        button="Open your project portal",
        link=link,
    )


def contact_invited(*, brand: Brand, invited_by: str, link: str, expires_at: datetime) -> Message:
    who = f"{invited_by} at {brand.name}" if invited_by else brand.name
    return Message(
        subject=f"{brand.name}: set up your project portal",
        paragraphs=[
            f"{who} has invited you to your project portal, where you can follow your "
            "project, see your proposal and documents, and approve changes.",
            "Choose a password to get started.",
        ],
        button="Set your password",
        link=link,
        after=[f"This link works once and expires {local_time(expires_at, brand.time_zone)}."],
    )


def staff_invited(*, brand: Brand, invited_by: str, link: str, expires_at: datetime) -> Message:
    """A staff member's invite, the new integrator's owner's first of all: the
    console, not a project."""
    who = f"{invited_by} has invited you" if invited_by else "You have been invited"
    return Message(
        subject=f"{brand.name}: your client portal is ready",
        paragraphs=[
            f"{who} to the staff console of {brand.name}'s client portal, where you "
            "set up your branding, add customers and run their projects.",
            "Choose a password to sign in.",
        ],
        button="Set your password",
        link=link,
        after=[f"This link works once and expires {local_time(expires_at, brand.time_zone)}."],
    )


def magic_link(*, brand: Brand, link: str, expires_at: datetime) -> Message:
    return Message(
        subject=f"Your sign-in link for {brand.name}",
        paragraphs=["Here is the sign-in link you asked for."],
        button="Sign in",
        link=link,
        after=[
            f"It works once and expires {local_time(expires_at, brand.time_zone)}.",
            "If you did not ask for it, you can ignore this email: nobody can sign in without it.",
        ],
    )


def password_reset(*, brand: Brand, link: str, expires_at: datetime) -> Message:
    return Message(
        subject=f"Reset your password for {brand.name}",
        paragraphs=["Someone (we hope you) asked to reset your portal password."],
        button="Choose a new password",
        link=link,
        after=[
            f"The link works once and expires {local_time(expires_at, brand.time_zone)}. "
            "Choosing a new password signs you out everywhere else.",
            "If you did not ask for this, ignore this email: your password stays as it is.",
        ],
    )


class LinkKind(enum.Enum):
    """What a one-time link in an email is for."""

    INVITE = "invite"
    STAFF_INVITE = "staff_invite"
    MAGIC_LINK = "magic_link"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of link, not a secret)


def login_link_message(
    kind: LinkKind, *, brand: Brand, invited_by: str, link: str, expires_at: datetime
) -> Message:
    if kind is LinkKind.INVITE:
        return contact_invited(brand=brand, invited_by=invited_by, link=link, expires_at=expires_at)
    if kind is LinkKind.STAFF_INVITE:
        return staff_invited(brand=brand, invited_by=invited_by, link=link, expires_at=expires_at)
    if kind is LinkKind.MAGIC_LINK:
        return magic_link(brand=brand, link=link, expires_at=expires_at)
    return password_reset(brand=brand, link=link, expires_at=expires_at)


def access_changed(
    *, brand: Brand, customer_name: str, to_state: int, purge_after: datetime | None, link: str
) -> Message:
    contact = brand.support_email or brand.support_phone or brand.name
    if to_state == ARCHIVED:
        return Message(
            subject=f"{brand.name}: your portal is now read-only",
            paragraphs=[
                f"The project portal for {customer_name} is now archived. You can still sign "
                "in to see your project history and download invoices; nothing new can be "
                "approved, paid or booked.",
                f"Questions? Contact {contact}.",
            ],
            button="Open your portal",
            link=link,
        )
    if to_state == DELETED:
        until = (
            f" It can be restored until {local_time(purge_after, brand.time_zone)}; after that "
            "it is removed for good."
            if purge_after
            else ""
        )
        return Message(
            subject=f"{brand.name}: your portal access has been closed",
            paragraphs=[
                f"Access to the project portal for {customer_name} has been closed.{until}",
                f"If this is unexpected, contact {contact}.",
            ],
        )
    return Message(
        subject=f"{brand.name}: your portal access is restored",
        paragraphs=[f"The project portal for {customer_name} is open again."],
        button="Open your portal",
        link=link,
    )


def format_money(amount_minor: int, currency: str) -> str:
    """The chassis format, as the portal and the PDF show it: '$12,345.67', '¥123,456'."""
    return money.format_amount(amount_minor, currency)


def proposal_sent(
    *, project_name: str, reference: str, version: int, total: str, link: str
) -> Message:
    return Message(
        subject=f"{project_name}: your proposal is ready to review",
        paragraphs=[
            f"Version {version} of the proposal for {project_name} ({reference}) is ready: "
            f"{total} in total, room by room.",
            "Review it in your portal; an approver can accept it there with an electronic "
            "signature.",
        ],
        button="Review the proposal",
        link=link,
    )


def proposal_accepted(
    *, project_name: str, reference: str, version: int, total: str, signer: str, link: str
) -> Message:
    return Message(
        subject=f"{project_name}: proposal accepted",
        paragraphs=[
            f"{signer} accepted version {version} of the proposal for {project_name} "
            f"({reference}), {total} in total. It is now your project's contract baseline.",
            "The signed copy, with its signature record, is in your portal.",
        ],
        button="See the signed proposal",
        link=link,
    )


def proposal_message(
    *,
    accepted: bool,
    project_name: str,
    reference: str,
    version: int,
    total: str,
    signer: str,
    link: str,
) -> Message:
    """A proposal sent for review, or (with its signer) accepted."""
    if accepted:
        return proposal_accepted(
            project_name=project_name,
            reference=reference,
            version=version,
            total=total,
            signer=signer,
            link=link,
        )
    return proposal_sent(
        project_name=project_name, reference=reference, version=version, total=total, link=link
    )


def digest_due(newest_notice_at: datetime, now: datetime, quiet_seconds: float) -> bool:
    """Send a project's digest once nothing new was shared for the quiet period."""
    return (now - newest_notice_at).total_seconds() >= quiet_seconds


def documents_shared(*, project_name: str, titles: list[str], link: str) -> Message:
    count = len(titles)
    listed = sorted(titles, key=str.lower)
    if count == 1:
        subject = f"{project_name}: a new document for you"
        lead = f"{listed[0]} is now in the documents of {project_name}."
    else:
        subject = f"{project_name}: {count} new documents for you"
        lead = f"{count} documents are now in the documents of {project_name}:"
    return Message(
        subject=subject,
        paragraphs=[lead, *([f"- {t}" for t in listed] if count > 1 else [])],
        button="Open your documents",
        link=link,
    )
