"""Tenants and their branding, staff users, API tokens, the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from portal.identity.v1 import events_pb2
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import AlreadyExists, InvalidArgument, NotFound
from services.chassis.validation import parse_uuid, require_text
from services.identity import domain, domain_updates
from services.identity.models import ApiToken, AuditEntry, StaffUser, Tenant
from services.identity.passwords import Passwords
from services.identity.service.common import (
    Sessions,
    actor_label,
    audit,
    initial_password_hash,
    now_utc,
)

AUDIT_LIMIT_DEFAULT = 100
AUDIT_LIMIT_MAX = 500


@dataclass(frozen=True)
class BrandingInput:
    logo_url: str = ""
    splash_image_url: str = ""
    headline: str = ""
    accent_color: str = ""
    support_email: str = ""
    support_phone: str = ""
    postal_address: str = ""
    website: str = ""


async def get_tenant_by_slug(*, sessions: Sessions, slug: str) -> Tenant:
    async with UnitOfWork(sessions, None) as uow:
        tenant = await uow.session.scalar(select(Tenant).where(Tenant.slug == slug.lower()))
    if tenant is None or tenant.purged_at is not None:
        raise NotFound(f"no integrator at '{slug}'")
    return tenant


async def get_tenant(*, sessions: Sessions, tenant_id: str) -> Tenant:
    async with UnitOfWork(sessions, None) as uow:
        tenant = await uow.session.get(Tenant, parse_uuid(tenant_id, field="tenant_id"))
    if tenant is None:
        raise NotFound("no such tenant")
    return tenant


async def create_tenant(
    *,
    sessions: Sessions,
    principal: Principal,
    slug: str,
    display_name: str,
    branding: BrandingInput,
    time_zone: str,
    currency: str,
    region: str,
) -> Tenant:
    principal.require_platform()
    tenant = new_tenant(
        slug=domain.validate_slug(slug),
        display_name=require_text(display_name, field="display_name"),
        branding=branding,
        time_zone=domain.validate_time_zone(time_zone or "UTC"),
        currency=domain.validate_currency(currency or "USD"),
        region=domain.validate_region(region),
    )
    # Scoped to the new tenant, so its event carries it (the registry row has no RLS).
    async with UnitOfWork(sessions, str(tenant.id)) as uow:
        uow.session.add(tenant)
        try:
            await uow.flush()
        except IntegrityError:
            raise AlreadyExists(f"the subdomain '{tenant.slug}' is taken", field="slug") from None
        publish_tenant_onboarded(uow, tenant)
        await uow.commit()
    return tenant


def publish_tenant_onboarded(uow: UnitOfWork, tenant: Tenant) -> None:
    """Once per tenant, in the transaction that creates it."""
    uow.publish(
        events_pb2.TenantOnboarded(
            tenant_id=str(tenant.id), slug=tenant.slug, display_name=tenant.display_name
        ),
        aggregate_type="tenant",
        aggregate_id=str(tenant.id),
    )


def new_tenant(
    *,
    slug: str,
    display_name: str,
    branding: BrandingInput,
    time_zone: str,
    currency: str,
    region: str,
    tenant_id: uuid.UUID | None = None,
) -> Tenant:
    """A tenant row from checked settings; the branding is checked here (an
    empty accent colour becomes the default one)."""
    return Tenant(
        id=tenant_id or uuid.uuid4(),
        slug=slug,
        display_name=display_name,
        **domain_updates.check_branding(asdict(branding)),
        time_zone=time_zone,
        currency=currency,
        region=region,
    )


async def update_tenant(
    *, sessions: Sessions, principal: Principal, changes: Mapping[str, object]
) -> Tenant:
    """Changes only the fields in `changes` (from the request's field mask, keyed
    by column), under the tenant's row lock, so concurrent edits of different
    fields all land. Audited with the fields that changed."""
    tenant_id = principal.require_tenant()
    principal.require_staff("admin")
    principal.require_writable()
    values = domain_updates.check_tenant_changes(changes)
    async with UnitOfWork(sessions, tenant_id) as uow:
        tenant = await uow.session.get(Tenant, uuid.UUID(tenant_id), with_for_update=True)
        if tenant is None:
            raise NotFound("no such tenant")
        changed = domain_updates.changed_fields({k: getattr(tenant, k) for k in values}, values)
        for key in changed:
            setattr(tenant, key, values[key])
        if changed:
            audit(
                uow,
                actor=await actor_label(uow, principal),
                action="tenant.updated",
                target=f"tenant:{tenant.id}",
                detail="changed " + ", ".join(k.replace("_", " ") for k in changed),
                at=now_utc(),
            )
            # Notifications keeps the brand; this tells it to ask again.
            uow.publish(
                events_pb2.TenantUpdated(tenant_id=str(tenant.id)),
                aggregate_type="tenant",
                aggregate_id=str(tenant.id),
            )
        await uow.commit()
    return tenant


async def create_staff_user(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    email: str,
    full_name: str,
    roles: list[str],
    passwords: Passwords,
    initial_password: str = "",
) -> StaffUser:
    """`initial_password`: platform callers only (onboarding, the demo seed); people
    set their own through a reset link."""
    tenant_id = principal.require_tenant()
    if principal.kind != "platform":
        principal.require_staff("owner", "admin")
    request_id = request_id or str(uuid.uuid4())
    email = domain.normalize_email(email)
    user = StaffUser(
        tenant_id=uuid.UUID(tenant_id),
        request_id=request_id,
        email=email,
        full_name=require_text(full_name, field="full_name"),
        roles=domain.validate_roles(roles, domain.STAFF_ROLES),
    )
    if initial_password:
        user.password_hash = await initial_password_hash(
            principal, passwords, initial_password, email=email, field="initial_password"
        )
        user.password_changed_at = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        existing = await uow.session.scalar(
            select(StaffUser).where(StaffUser.request_id == request_id)
        )
        if existing is not None:
            return existing  # a retried create answers with what it made
        uow.session.add(user)
        try:
            await uow.flush()
        except IntegrityError:
            raise AlreadyExists(f"a staff user with {user.email} exists", field="email") from None
        publish_staff_user(uow, user)
        await uow.commit()
    return user


def publish_staff_user(uow: UnitOfWork, user: StaffUser) -> None:
    """The staff user as they now are, for the services that keep a copy
    (bookings' technicians); every change of a name or roles publishes it."""
    uow.publish(
        events_pb2.StaffUserChanged(
            staff_user_id=str(user.id),
            email=user.email,
            full_name=user.full_name,
            roles=list(user.roles),
        ),
        aggregate_type="staff_user",
        aggregate_id=str(user.id),
    )


async def list_staff_users(*, sessions: Sessions, principal: Principal) -> list[StaffUser]:
    principal.require_staff()
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        return list(
            await uow.session.scalars(select(StaffUser).order_by(StaffUser.full_name, StaffUser.id))
        )


async def issue_api_token(
    *, sessions: Sessions, principal: Principal, request_id: str, user_id: str, name: str
) -> tuple[ApiToken, str]:
    tenant_id = principal.require_tenant()
    if principal.kind != "platform" and principal.subject != user_id:
        principal.require_staff("owner", "admin")  # tokens for others need an admin
    secret, token_hash, prefix = domain.new_api_token()
    async with UnitOfWork(sessions, tenant_id) as uow:
        user = await uow.session.get(StaffUser, parse_uuid(user_id, field="user_id"))
        if user is None:
            raise NotFound("no such staff user", field="user_id")
        token = ApiToken(
            tenant_id=uuid.UUID(tenant_id),
            user_id=user.id,
            request_id=request_id or str(uuid.uuid4()),
            name=require_text(name, field="name", max_len=100),
            token_hash=token_hash,
            prefix=prefix,
            user=user,
        )
        uow.session.add(token)
        try:
            await uow.flush()
        except IntegrityError:
            # The secret exists only in the first response; a retry cannot see it again.
            raise AlreadyExists("a token was already issued for this request id") from None
        await uow.commit()
    return token, secret


async def list_api_tokens(*, sessions: Sessions, principal: Principal) -> list[ApiToken]:
    principal.require_staff("owner", "admin")
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        return list(await uow.session.scalars(select(ApiToken).order_by(ApiToken.created_at)))


async def revoke_api_token(*, sessions: Sessions, principal: Principal, token_id: str) -> ApiToken:
    principal.require_staff()
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        token = await uow.session.get(ApiToken, parse_uuid(token_id, field="token_id"))
        if token is None or (
            str(token.user_id) != principal.subject and not principal.roles & {"owner", "admin"}
        ):
            raise NotFound("no such token", field="token_id")
        if token.revoked_at is None:
            token.revoked_at = now_utc()
            audit(
                uow,
                actor=await actor_label(uow, principal),
                action="api_token.revoked",
                target=f"api_token:{token.id}",
                detail=f"revoked API token '{token.name}' ({token.prefix}...) "
                f"of {token.user.full_name}",
                at=token.revoked_at,
            )
            uow.publish(
                events_pb2.ApiTokenRevoked(token_id=str(token.id)),
                aggregate_type="api_token",
                aggregate_id=str(token.id),
                occurred_at=token.revoked_at,
            )
        await uow.commit()
    return token


async def list_audit_entries(
    *, sessions: Sessions, principal: Principal, limit: int
) -> list[AuditEntry]:
    principal.require_staff("admin")
    if limit < 0:
        raise InvalidArgument("limit cannot be negative", field="limit")
    limit = min(limit or AUDIT_LIMIT_DEFAULT, AUDIT_LIMIT_MAX)
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        return list(
            await uow.session.scalars(
                select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
            )
        )
