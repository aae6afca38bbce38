"""Bookings' events -> email with the visit's calendar invitation attached.

Each event says whom it tells (`BOOKING_MAILINGS`): the contacts the project
is for get the client's copy of the visit (the booking's UID), the assigned
technician theirs (the work order's UID, as their feed has it: one event in
their calendar, not two), and a technician a reschedule took the visit from
a CANCEL of their copy. A conflict goes to dispatch, without a file. Rows are
queued in the consumer's transaction by `queue_branded_email`, like every
other email, so a redelivered event adds nothing (the inbox, then the unique
event and address)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from portal.bookings.v1 import bookings_pb2
from portal.bookings.v1 import events_pb2 as bookings_events
from portal.identity.v1 import identity_pb2

from services.chassis.db import UnitOfWork
from services.chassis.events import Event
from services.notifications import domain
from services.notifications import domain_booking_mail as mail
from services.notifications.domain_booking_mail import Change, Method
from services.notifications.identity_client import IdentityClient
from services.notifications.service.common import queue_branded_email

BookingEvent = (
    bookings_events.BookingRequested
    | bookings_events.BookingConfirmed
    | bookings_events.BookingRescheduled
    | bookings_events.BookingCancelled
)
CHANGES: dict[type, Change] = {
    bookings_events.BookingRequested: Change.REQUESTED,
    bookings_events.BookingConfirmed: Change.CONFIRMED,
    bookings_events.BookingRescheduled: Change.RESCHEDULED,
    bookings_events.BookingCancelled: Change.CANCELLED,
}
# Who dispatches: the role bookings lets move and assign visits.
DISPATCH_ROLES = (identity_pb2.STAFF_ROLE_PROJECT_MANAGER,)
DISPATCH_FALLBACK_ROLES = (identity_pb2.STAFF_ROLE_OWNER, identity_pb2.STAFF_ROLE_ADMIN)


def facts_of(b: bookings_pb2.Booking) -> mail.VisitFacts:
    return mail.VisitFacts(
        service=b.service_type_name,
        project_name=b.project_name,
        starts_at=b.starts_at.ToDatetime(tzinfo=UTC),
        ends_at=b.ends_at.ToDatetime(tzinfo=UTC),
        time_zone=b.time_zone,
        room=b.room_name,
        equipment=", ".join(f"{p.manufacturer} {p.model}".strip() for p in b.products),
        description=b.description,
        technician=b.technician_name,
        pending=b.status == bookings_pb2.BOOKING_STATUS_PENDING,
    )


def _invite(ics: bytes, method: Method) -> Callable[[domain.Brand, domain.Recipient], tuple]:
    def attach(brand: domain.Brand, to: domain.Recipient) -> tuple[domain.Attachment, ...]:
        if not ics:
            return ()
        try:
            return (mail.invitation(ics, method=method, brand=brand, attendee=to),)
        except mail.NotACalendar:
            return ()  # the email still says when; the calendar entry is a convenience

    return attach


def booking_mailings(p: BookingEvent) -> list[domain.Mailing]:
    """The client's contacts, the technician, and the technician it left."""
    change = CHANGES[type(p)]
    b, facts = p.booking, facts_of(p.booking)
    method = Method.CANCEL if change is Change.CANCELLED else Method.REQUEST
    out = [
        domain.Mailing(
            customer_id=b.customer_id,
            project_id=b.project_id,
            compose=lambda brand, portal: mail.client_message(
                change, facts, link=f"{portal}/visits"
            ),
            attach=_invite(p.ics, method),
        )
    ]
    if p.technician_email:
        out.append(
            domain.Mailing(
                recipients=(domain.Recipient(p.technician_email, p.technician_name),),
                compose=lambda brand, portal: mail.technician_message(change, facts),
                attach=_invite(p.technician_ics, method),
            )
        )
    if isinstance(p, bookings_events.BookingRescheduled) and p.previous_technician_email:
        out.append(
            domain.Mailing(
                recipients=(
                    domain.Recipient(p.previous_technician_email, p.previous_technician_name),
                ),
                compose=lambda brand, portal: mail.technician_message(change, facts, left=True),
                attach=_invite(p.previous_technician_ics, Method.CANCEL),
            )
        )
    return out


BOOKING_MAILINGS: dict[type, Callable[[Any], list[domain.Mailing]]] = {
    event_type: booking_mailings for event_type in CHANGES
}


def dispatchers(staff: list[identity_pb2.StaffUser]) -> list[domain.Recipient]:
    """Project managers (they dispatch); with none, the owners and admins."""
    for roles in (DISPATCH_ROLES, DISPATCH_FALLBACK_ROLES):
        found = [u for u in staff if set(u.roles) & set(roles)]
        if found:
            return [domain.Recipient(u.email, u.full_name) for u in found]
    return []


async def conflict_mailing(
    event: Event[bookings_events.WorkOrderConflictFlagged], identity: IdentityClient
) -> domain.Mailing:
    p = event.payload
    staff = await identity.staff_users(event.tenant_id)
    technician = next((u.full_name for u in staff if u.id == p.technician_id), "")
    w = p.work_order
    return domain.Mailing(
        recipients=tuple(dispatchers(staff)),
        compose=lambda brand, portal: mail.conflict_message(
            title=w.title,
            project_name=w.project_name,
            technician=technician,
            reason=p.reason,
            # The tenant's clock: dispatch reads the calendar on it.
            when_text=domain.local_time(w.starts_at.ToDatetime(tzinfo=UTC), brand.time_zone),
            link=f"{portal}/console/dispatch",
        ),
    )


async def queue_booking_email(
    uow: UnitOfWork,
    event: Event[Any],
    *,
    identity: IdentityClient,
    portal_url_template: str,
) -> None:
    """Every email this bookings event sends, queued in the consumer's transaction."""
    if isinstance(event.payload, bookings_events.WorkOrderConflictFlagged):
        mailings = [await conflict_mailing(event, identity)]
    else:
        mailings = BOOKING_MAILINGS[type(event.payload)](event.payload)
    for mailing in mailings:
        await queue_branded_email(
            uow, event, mailing, identity=identity, portal_url_template=portal_url_template
        )


BOOKING_EVENTS: tuple[type, ...] = (*CHANGES, bookings_events.WorkOrderConflictFlagged)
