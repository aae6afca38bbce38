"""Identity use cases: one transaction each, through the unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import AlreadyExists, NotFound, Unauthenticated
from services.chassis.validation import parse_uuid, require_text
from services.identity import domain
from services.identity.models import ApiToken, Contact, Customer, StaffUser, Tenant

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class BrandingInput:
    logo_url: str = ""
    splash_image_url: str = ""
    headline: str = ""
    accent_color: str = ""
    support_email: str = ""
    support_phone: str = ""


async def get_tenant_by_slug(*, sessions: Sessions, slug: str) -> Tenant:
    async with UnitOfWork(sessions, None) as uow:
        tenant = await uow.session.scalar(select(Tenant).where(Tenant.slug == slug.lower()))
    if tenant is None:
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
    tenant = Tenant(
        slug=domain.validate_slug(slug),
        display_name=require_text(display_name, field="display_name"),
        logo_url=branding.logo_url,
        splash_image_url=branding.splash_image_url,
        headline=branding.headline,
        accent_color=domain.validate_accent_color(branding.accent_color or "#1f6feb"),
        support_email=domain.normalize_email(branding.support_email, field="support_email")
        if branding.support_email
        else "",
        support_phone=branding.support_phone,
        time_zone=domain.validate_time_zone(time_zone or "UTC"),
        currency=domain.validate_currency(currency or "USD"),
        region=region,
    )
    async with UnitOfWork(sessions, None) as uow:
        uow.session.add(tenant)
        try:
            await uow.flush()
        except IntegrityError:
            raise AlreadyExists(f"the subdomain '{tenant.slug}' is taken", field="slug") from None
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
) -> StaffUser:
    tenant_id = principal.require_tenant()
    if principal.kind != "platform":
        principal.require_staff("owner", "admin")
    request_id = request_id or str(uuid.uuid4())
    user = StaffUser(
        tenant_id=uuid.UUID(tenant_id),
        request_id=request_id,
        email=domain.normalize_email(email),
        full_name=require_text(full_name, field="full_name"),
        roles=domain.validate_roles(roles, domain.STAFF_ROLES),
    )
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
        await uow.commit()
    return user


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


async def authenticate_api_token(
    *, sessions: Sessions, principal: Principal, secret: str
) -> ApiToken:
    tenant_id = principal.require_tenant()
    async with UnitOfWork(sessions, tenant_id) as uow:
        token = await uow.session.scalar(
            select(ApiToken).where(
                ApiToken.token_hash == domain.hash_api_token(secret),
                ApiToken.revoked_at.is_(None),
            )
        )
        if token is None:
            raise Unauthenticated("the API token is not valid for this integrator")
        await uow.session.execute(
            update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=_now())
        )
        await uow.commit()
    return token


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
            token.revoked_at = _now()
        await uow.commit()
    return token


async def create_customer(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    name: str,
    contacts: list[tuple[str, str, str]],
) -> Customer:
    """contacts: (email, full name, role) triples."""
    tenant_id = principal.require_tenant()
    if principal.kind != "platform":
        principal.require_staff("project_manager")
    tid = uuid.UUID(tenant_id)
    request_id = request_id or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        existing = await uow.session.scalar(
            select(Customer).where(Customer.request_id == request_id)
        )
        if existing is not None:
            return existing  # a retried create answers with what it made
        customer = Customer(
            tenant_id=tid, request_id=request_id, name=require_text(name, field="name")
        )
        for i, (email, full_name, role) in enumerate(contacts):
            customer.contacts.append(
                Contact(
                    tenant_id=tid,
                    email=domain.normalize_email(email, field=f"contacts[{i}].email"),
                    full_name=require_text(full_name, field=f"contacts[{i}].full_name"),
                    role=domain.validate_roles(
                        [role], domain.CONTACT_ROLES, field=f"contacts[{i}].role"
                    )[0],
                )
            )
        uow.session.add(customer)
        try:
            await uow.flush()
        except IntegrityError:
            raise AlreadyExists("a contact with one of these emails exists") from None
        await uow.commit()
    return customer


async def get_customer(*, sessions: Sessions, principal: Principal, customer_id: str) -> Customer:
    tenant_id = principal.require_tenant()
    cid = parse_uuid(customer_id, field="customer_id")
    # A client sees only their own customer record.
    if principal.is_client and principal.customer_id != str(cid):
        raise NotFound("no such customer")
    async with UnitOfWork(sessions, tenant_id) as uow:
        customer = await uow.session.get(Customer, cid)
    if customer is None:
        raise NotFound("no such customer")
    return customer


def _now() -> datetime:
    return datetime.now(UTC)
