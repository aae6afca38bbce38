"""One-time links, issued: invites, magic links, password resets.

The link's token travels to notifications inside the event (the email holds
it); identity keeps only its SHA-256.

Asking for a magic link or a reset link answers before anything about the
address is looked at: the request is counted and recorded, and
`identity.link.requested` is written to the outbox, the same statements
whoever the address belongs to, so the answer takes the same time. Identity
consumes that event (`on_link_requested`) and only then looks the address up
and, if someone has it, issues the link. Past the hourly cap the request is
refused plainly, again the same for everyone (service/throttle.py).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Literal

from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import events_pb2
from sqlalchemy import update

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.events import Event
from services.chassis.validation import parse_uuid
from services.identity import domain, domain_access, domain_credentials, domain_sessions
from services.identity.models import Contact, Customer, LinkRequest, LoginToken
from services.identity.service.common import (
    Sessions,
    actor_label,
    actor_name,
    audit,
    contact_by_email,
    now_utc,
    require_front_door,
    staff_by_email,
    tenant_name,
    void_login_tokens,
)
from services.identity.service.throttle import email_key, record_link_request

LinkPurpose = Literal["magic_link", "password_reset"]


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def issue_login_token(
    uow: UnitOfWork,
    *,
    purpose: str,
    subject_kind: str,
    subject_id: uuid.UUID,
    email: str,
    now: datetime,
    created_by: uuid.UUID | None = None,
) -> tuple[str, LoginToken]:
    token = domain_credentials.token_from_bytes(
        secrets.token_bytes(domain_credentials.SESSION_TOKEN_BYTES)
    )
    row = LoginToken(
        tenant_id=uuid.UUID(str(uow.tenant_id)),
        purpose=purpose,
        token_hash=domain_credentials.hash_secret(token),
        subject_kind=subject_kind,
        subject_id=subject_id,
        email=email,
        created_by=created_by,
        created_at=now,
        expires_at=domain_sessions.login_token_expires_at(purpose, now),
    )
    uow.session.add(row)
    return token, row


async def invite_contact(*, sessions: Sessions, principal: Principal, contact_id: str) -> datetime:
    """Emails the contact a link to set a password; earlier invites stop working."""
    tenant_id = principal.require_editor("project_manager")
    cid = parse_uuid(contact_id, field="contact_id")
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        contact = await uow.session.get(Contact, cid, with_for_update=True)
        if contact is None or contact.removed_at is not None:
            raise NotFound("no such contact", field="contact_id")
        customer = await uow.session.get(Customer, contact.customer_id)
        if customer is None:
            raise NotFound("no such contact", field="contact_id")
        domain_access.require_accepts_changes(customer.access_state, what="inviting a contact")
        await void_login_tokens(uow, [cid], now=now, purposes=["invite"])
        token, row = issue_login_token(
            uow,
            purpose="invite",
            subject_kind="client",
            subject_id=cid,
            email=contact.email,
            now=now,
            created_by=uuid.UUID(principal.subject) if principal.is_staff else None,
        )
        contact.invited_at = now
        invited_by = (
            await actor_name(uow, principal) if principal.is_staff else await tenant_name(uow)
        )
        uow.publish(
            events_pb2.ContactInvited(
                contact_id=str(cid),
                customer_id=str(customer.id),
                email=contact.email,
                full_name=contact.full_name,
                token=token,
                expires_at=_ts(row.expires_at),
                invited_by=invited_by,
            ),
            aggregate_type="contact",
            aggregate_id=str(cid),
        )
        audit(
            uow,
            actor=await actor_label(uow, principal),
            action="contact.invited",
            target=f"contact:{cid}",
            detail=f"invited {contact.full_name} <{contact.email}> of {customer.name}",
            at=now,
        )
        await uow.commit()
    return row.expires_at


async def _live_contact(uow: UnitOfWork, email: str) -> tuple[Contact, Customer] | None:
    """The contact with this address whose portal is open (active or archived)."""
    row = (await uow.session.execute(contact_by_email(email))).one_or_none()
    if row is None or not domain_access.portal_open(row[1].access_state):
        return None
    return row[0], row[1]


async def request_link(
    *,
    sessions: Sessions,
    principal: Principal,
    purpose: LinkPurpose,
    email: str,
    client_ip: str,
) -> None:
    """RequestMagicLink (client contacts) and RequestPasswordReset (staff and
    contacts). One path for every address, known or not: count, record, queue."""
    tenant_id = require_front_door(principal)
    domain.normalize_email(email)  # a malformed address is a typo, not a lookup
    key = email_key(email)
    ip = domain_sessions.clean_ip(client_ip)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await record_link_request(uow, purpose=purpose, email=key, ip=ip, now=now)
        uow.publish(
            events_pb2.LinkRequested(link_request_id=str(row.id)),
            aggregate_type="link_request",
            aggregate_id=str(row.id),
            occurred_at=now,
            # Handled at the relay's next poll, not the instant this commits: what
            # the handler does for a registered address (a link issued, relayed,
            # mailed) must not compete with this answer on its way out.
            wake_relay=False,
        )
        await uow.commit()


async def _holder(
    uow: UnitOfWork, purpose: str, email: str
) -> tuple[str, uuid.UUID, str, str] | None:
    """Who a link for this address goes to: (kind, id, address, name), or nobody.
    Magic links are for client contacts; resets for staff first, then contacts."""
    if purpose == "password_reset":
        user = await uow.session.scalar(staff_by_email(email))
        if user is not None:
            return "staff", user.id, user.email, user.full_name
    found = await _live_contact(uow, email)
    if found is None:
        return None
    contact = found[0]
    return "client", contact.id, contact.email, contact.full_name


LINK_EVENTS = {
    "magic_link": events_pb2.MagicLinkRequested,
    "password_reset": events_pb2.PasswordResetRequested,
}


async def on_link_requested(uow: UnitOfWork, event: Event[events_pb2.LinkRequested]) -> None:
    """After the answer: issue the link if someone has the address. A request is
    handled once (`handled_at`), so even a redelivery that slipped past the
    inbox sends no second link."""
    now = now_utc()
    request_id = parse_uuid(event.payload.link_request_id, field="link_request_id")
    claimed = (
        await uow.session.execute(
            update(LinkRequest)
            .where(LinkRequest.id == request_id, LinkRequest.handled_at.is_(None))
            .values(handled_at=now)
            .returning(LinkRequest.purpose, LinkRequest.email)
            .execution_options(synchronize_session=False)
        )
    ).one_or_none()
    if claimed is None:
        return  # handled already, or pruned after a day without being handled
    purpose, email = claimed
    holder = await _holder(uow, purpose, email)
    if holder is None:
        return
    kind, subject_id, address, full_name = holder
    await void_login_tokens(uow, [subject_id], now=now, purposes=[purpose])
    token, row = issue_login_token(
        uow, purpose=purpose, subject_kind=kind, subject_id=subject_id, email=address, now=now
    )
    uow.publish(
        LINK_EVENTS[purpose](
            email=address, full_name=full_name, token=token, expires_at=_ts(row.expires_at)
        ),
        aggregate_type="contact" if kind == "client" else "staff_user",
        aggregate_id=str(subject_id),
    )
