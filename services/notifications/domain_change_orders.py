"""What change-order email says, and when the client is reminded. Pure: the
service passes the event's facts, the brand's clock and the links."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notifications.domain import Message, format_money, local_time

# The client is reminded this long before the approval deadline...
REMIND_BEFORE = timedelta(hours=24)
# ... unless that is too close to the order being sent to be worth a second email.
REMIND_AT_LEAST_AFTER = timedelta(hours=2)


def reminder_at(sent_at: datetime, deadline: datetime) -> datetime | None:
    """When to remind the client of a sent order, or None (the deadline is too near)."""
    at = deadline - REMIND_BEFORE
    if at < sent_at + REMIND_AT_LEAST_AFTER:
        return None
    return at


def _impact(amount_minor: int, currency: str) -> str:
    if amount_minor == 0:
        return "no change to the price"
    shown = format_money(abs(amount_minor), currency)
    return f"{shown} more" if amount_minor > 0 else f"{shown} less"


def _days(days: int) -> str:
    if days == 0:
        return ""
    n = abs(days)
    word = "day" if n == 1 else "days"
    return f" It moves the schedule {n} {word} {'later' if days > 0 else 'sooner'}."


def awaiting_approval(
    *,
    number: str,
    title: str,
    project_name: str,
    reference: str,
    impact_minor: int,
    currency: str,
    days: int,
    deadline: datetime,
    time_zone: str,
    link: str,
) -> Message:
    return Message(
        subject=f"{project_name}: change order {number} awaits your approval",
        paragraphs=[
            f"Change order {number}, {title}, on {project_name} ({reference}) is ready for "
            f"you: {_impact(impact_minor, currency)}.{_days(days)}",
            f"Read what changes, line by line, and approve it or push back by "
            f"{local_time(deadline, time_zone)}.",
        ],
        button="Review the change order",
        link=link,
    )


def reminder(
    *,
    number: str,
    title: str,
    project_name: str,
    deadline: datetime,
    time_zone: str,
    link: str,
) -> Message:
    return Message(
        subject=f"Reminder: change order {number} on {project_name} needs your answer",
        paragraphs=[
            f"Change order {number}, {title}, waits for your approval until "
            f"{local_time(deadline, time_zone)}. After that it expires and your project "
            "goes on as agreed.",
        ],
        button="Review the change order",
        link=link,
    )


def signed_copy(
    *,
    number: str,
    title: str,
    project_name: str,
    signer: str,
    signed_at: datetime,
    impact_minor: int,
    contract_minor: int,
    currency: str,
    time_zone: str,
    link: str,
    certificate_link: str,
) -> Message:
    return Message(
        subject=f"{project_name}: change order {number} approved",
        paragraphs=[
            f"{signer} approved change order {number}, {title}, on "
            f"{local_time(signed_at, time_zone)}: {_impact(impact_minor, currency)}. "
            f"The contract is now {format_money(contract_minor, currency)}.",
            "The signed copy, with its signature record and audit log, is in your portal.",
        ],
        button="Download the signed copy (PDF)",
        link=certificate_link,
        after=[f"The change order itself: {link}"],
    )


def staff_viewed(*, number: str, reference: str, link: str) -> Message:
    return Message(
        subject=f"{number} on {reference} was opened by the client",
        paragraphs=[f"The client opened change order {number} on {reference}."],
        button="Open the change order",
        link=link,
    )


def staff_approved(
    *, number: str, project_name: str, signer: str, impact_minor: int, currency: str, link: str
) -> Message:
    return Message(
        subject=f"{number} on {project_name} was approved",
        paragraphs=[
            f"{signer} approved change order {number} on {project_name}: "
            f"{_impact(impact_minor, currency)}. The budget, the invoice schedule and the "
            "install work orders follow it."
        ],
        button="Open the change order",
        link=link,
    )


def staff_pushed_back(
    *, number: str, reference: str, author: str, comment: str, lines: int, link: str
) -> Message:
    on_lines = f" and on {lines} line{'s' if lines != 1 else ''}" if lines else ""
    return Message(
        subject=f"{number} on {reference}: the client pushed back",
        paragraphs=[
            f"{author or 'The client'} pushed back on change order {number}{on_lines}. "
            "Answer with a revision."
        ],
        note=comment,
        button="Read the comments",
        link=link,
    )
