"""Onboarding an integrator without code: the tenant, its owner and the owner's
invitation, in one transaction (`portal tenants create` and the gateway's
platform API both call OnboardTenant).

A retry (the same slug with the same owner email) answers the tenant made the
first time and sends nothing; the slug with anyone else is ALREADY_EXISTS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import events_pb2
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import AlreadyExists
from services.identity import domain_onboarding
from services.identity.models import StaffUser, Tenant
from services.identity.service.common import Sessions, actor_label, audit, now_utc

# The link itself is issued exactly as a contact's invite is (same table,
# lifetime, redemption); only the event and its email differ.
from services.identity.service.link_requests import issue_login_token
from services.identity.service.tenants import (
    BrandingInput,
    new_tenant,
    publish_staff_user,
    publish_tenant_onboarded,
)


@dataclass(frozen=True)
class OnboardingRequest:
    """As asked; `plan_onboarding` checks it and fills in the defaults."""

    slug: str
    display_name: str
    owner_email: str
    owner_name: str = ""
    time_zone: str = ""
    currency: str = ""
    region: str = ""
    branding: BrandingInput = field(default_factory=BrandingInput)


@dataclass(frozen=True)
class Onboarded:
    tenant: Tenant
    owner: StaffUser
    invite_expires_at: datetime | None  # None: a retry, nothing was sent
    created: bool


async def onboard_tenant(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    request: OnboardingRequest,
) -> Onboarded:
    principal.require_platform()
    plan = domain_onboarding.plan_onboarding(
        slug=request.slug,
        display_name=request.display_name,
        owner_email=request.owner_email,
        owner_name=request.owner_name,
        time_zone=request.time_zone,
        currency=request.currency,
        region=request.region,
    )
    earlier = await _earlier_onboarding(sessions, plan)
    if earlier is not None:
        return earlier
    try:
        return await _create(sessions, principal, request_id, plan, request.branding)
    except IntegrityError:
        # Someone took the slug between our look and our insert: the same
        # onboarding sent twice at once is answered like any retry.
        earlier = await _earlier_onboarding(sessions, plan)
        if earlier is None:
            raise AlreadyExists(f"the subdomain '{plan.slug}' is taken", field="slug") from None
        return earlier


async def _earlier_onboarding(
    sessions: Sessions, plan: domain_onboarding.Onboarding
) -> Onboarded | None:
    async with UnitOfWork(sessions, None) as uow:
        tenant = await uow.session.scalar(select(Tenant).where(Tenant.slug == plan.slug))
    if tenant is None:
        return None
    async with UnitOfWork(sessions, str(tenant.id)) as uow:
        owners = list(
            await uow.session.scalars(select(StaffUser).where(StaffUser.roles.any("owner")))
        )
    domain_onboarding.check_retry(
        slug=plan.slug,
        owner_email=plan.owner_email,
        owner_emails=[owner.email for owner in owners],
        purged=tenant.purged_at is not None,
    )
    owner = next(o for o in owners if o.email.lower() == plan.owner_email.lower())
    return Onboarded(tenant=tenant, owner=owner, invite_expires_at=None, created=False)


async def _create(
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    plan: domain_onboarding.Onboarding,
    branding: BrandingInput,
) -> Onboarded:
    tenant_id = uuid.uuid4()
    now = now_utc()
    # Scoped to the new tenant from the start: the registry row has no RLS,
    # the owner, the link and the audit entry are checked against it.
    async with UnitOfWork(sessions, str(tenant_id)) as uow:
        tenant = new_tenant(
            tenant_id=tenant_id,
            slug=plan.slug,
            display_name=plan.display_name,
            branding=branding,
            time_zone=plan.time_zone,
            currency=plan.currency,
            region=plan.region,
        )
        uow.session.add(tenant)
        await uow.flush()  # a taken slug fails here, before anything else is written
        publish_tenant_onboarded(uow, tenant)
        owner = StaffUser(
            tenant_id=tenant_id,
            request_id=request_id or str(uuid.uuid4()),
            email=plan.owner_email,
            full_name=plan.owner_name,
            roles=["owner"],
        )
        uow.session.add(owner)
        await uow.flush()
        publish_staff_user(uow, owner)
        expires_at = invite_staff_user(uow, owner, invited_by="", now=now)
        audit(
            uow,
            actor=await actor_label(uow, principal),
            action="tenant.onboarded",
            target=f"tenant:{tenant_id}",
            detail=f"onboarded {plan.display_name} at '{plan.slug}'; invited the owner "
            f"{owner.full_name} <{owner.email}>",
            at=now,
        )
        await uow.commit()
    return Onboarded(tenant=tenant, owner=owner, invite_expires_at=expires_at, created=True)


def invite_staff_user(
    uow: UnitOfWork, user: StaffUser, *, invited_by: str, now: datetime
) -> datetime:
    """Issues a staff user's invite link (set a password, then the console) and
    publishes it for notifications to email. Returns when it stops working."""
    token, row = issue_login_token(
        uow, purpose="invite", subject_kind="staff", subject_id=user.id, email=user.email, now=now
    )
    expires = Timestamp()
    expires.FromDatetime(row.expires_at)
    uow.publish(
        events_pb2.StaffUserInvited(
            staff_user_id=str(user.id),
            email=user.email,
            full_name=user.full_name,
            token=token,
            expires_at=expires,
            invited_by=invited_by,
        ),
        aggregate_type="staff_user",
        aggregate_id=str(user.id),
        occurred_at=now,
    )
    return row.expires_at
