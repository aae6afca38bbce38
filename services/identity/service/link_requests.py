"""One-time links, issued: invites, magic links, password resets.

The link's token travels to notifications inside the event (the email holds
it); identity keeps only its SHA-256. Requests for a link answer the same
whether or not the address belongs to anyone, and are throttled silently.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import events_pb2
from sqlalchemy import func, select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.validation import parse_uuid
from services.identity import (
    domain,
    domain_access,
    domain_credentials,
    domain_sessions,
    domain_throttle,
)
from services.identity.models import Contact, Customer, LinkRequest, LoginToken, StaffUser
from services.identity.service.common import (
    Sessions,
    actor_label,
    actor_name,
    audit,
    now_utc,
    require_front_door,
    tenant_name,
    void_login_tokens,
)
from services.identity.service.sign_in import email_key


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def _issue(
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
        token, row = _issue(
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


async def _link_request_allowed(
    uow: UnitOfWork, *, purpose: str, email: str, ip: str, now: datetime
) -> bool:
    """Counts this request against the hourly limits; False means: silently do nothing."""
    since = now - domain_throttle.LINK_WINDOW
    by_email = await uow.session.scalar(
        select(func.count())
        .select_from(LinkRequest)
        .where(LinkRequest.email == email, LinkRequest.at > since)
    )
    by_ip = (
        await uow.session.scalar(
            select(func.count())
            .select_from(LinkRequest)
            .where(LinkRequest.ip == ip, LinkRequest.at > since)
        )
        if ip
        else 0
    )
    if not domain_throttle.link_request_allowed(
        email_requests=by_email or 0, ip_requests=by_ip or 0
    ):
        return False
    uow.session.add(
        LinkRequest(
            tenant_id=uuid.UUID(str(uow.tenant_id)), purpose=purpose, email=email, ip=ip, at=now
        )
    )
    return True


async def _live_contact(uow: UnitOfWork, email: str) -> tuple[Contact, Customer] | None:
    """The contact with this address whose portal is open (active or archived)."""
    row = (
        await uow.session.execute(
            select(Contact, Customer)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(func.lower(Contact.email) == email, Contact.removed_at.is_(None))
            .limit(1)
        )
    ).one_or_none()
    if row is None or not domain_access.portal_open(row[1].access_state):
        return None
    return row[0], row[1]


def _checked_email(email: str) -> str:
    domain.normalize_email(email)  # a malformed address is a typo, not a lookup
    return email_key(email)


async def request_magic_link(
    *, sessions: Sessions, principal: Principal, email: str, client_ip: str
) -> None:
    """For client contacts. Same answer whether or not the address is known."""
    tenant_id = require_front_door(principal)
    key = _checked_email(email)
    ip = domain_sessions.clean_ip(client_ip)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        if not await _link_request_allowed(uow, purpose="magic_link", email=key, ip=ip, now=now):
            return
        found = await _live_contact(uow, key)
        if found is not None:
            contact, _ = found
            await void_login_tokens(uow, [contact.id], now=now, purposes=["magic_link"])
            token, row = _issue(
                uow,
                purpose="magic_link",
                subject_kind="client",
                subject_id=contact.id,
                email=contact.email,
                now=now,
            )
            uow.publish(
                events_pb2.MagicLinkRequested(
                    email=contact.email,
                    full_name=contact.full_name,
                    token=token,
                    expires_at=_ts(row.expires_at),
                ),
                aggregate_type="contact",
                aggregate_id=str(contact.id),
            )
        await uow.commit()


async def request_password_reset(
    *, sessions: Sessions, principal: Principal, email: str, client_ip: str
) -> None:
    """For staff and client contacts. Same answer whether or not the address is known."""
    tenant_id = require_front_door(principal)
    key = _checked_email(email)
    ip = domain_sessions.clean_ip(client_ip)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        if not await _link_request_allowed(
            uow, purpose="password_reset", email=key, ip=ip, now=now
        ):
            return
        holder: tuple[str, uuid.UUID, str, str] | None = None
        user = await uow.session.scalar(
            select(StaffUser).where(func.lower(StaffUser.email) == key).limit(1)
        )
        if user is not None:
            holder = ("staff", user.id, user.email, user.full_name)
        elif (found := await _live_contact(uow, key)) is not None:
            holder = ("client", found[0].id, found[0].email, found[0].full_name)
        if holder is not None:
            kind, subject_id, address, full_name = holder
            await void_login_tokens(uow, [subject_id], now=now, purposes=["password_reset"])
            token, row = _issue(
                uow,
                purpose="password_reset",
                subject_kind=kind,
                subject_id=subject_id,
                email=address,
                now=now,
            )
            uow.publish(
                events_pb2.PasswordResetRequested(
                    email=address,
                    full_name=full_name,
                    token=token,
                    expires_at=_ts(row.expires_at),
                ),
                aggregate_type=kind,
                aggregate_id=str(subject_id),
            )
        await uow.commit()
