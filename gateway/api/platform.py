"""The platform's own API: onboarding an integrator without code. Served on the
platform host only (the bare base domain, never an integrator's subdomain) and
only to the platform operator's token (GATEWAY_PLATFORM_TOKEN; unset, 404)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Line
from gateway.api.translate import timestamp
from gateway.backends import Backends
from gateway.deps import BackendsDep, PlatformDep, RequestIdDep, SettingsDep, TenantCacheDep
from gateway.problems import problem_responses
from gateway.settings import GatewaySettings
from services.chassis.auth import Principal

PATH = "/api/v1/platform/tenants"  # TenantMiddleware lets it through on the platform host
router = APIRouter(prefix="/platform", tags=["platform"])


class NewTenant(BaseModel):
    """A new integrator and its owner, who is invited by email."""

    model_config = ConfigDict(extra="forbid")

    slug: Line = Field(
        max_length=40,
        description="The integrator's subdomain, `<slug>.<base domain>`: 3-40 lowercase "
        "letters, digits and single hyphens; reserved names such as www, api, admin and "
        "platform are refused.",
    )
    name: Line = Field(max_length=200, description="The integrator's name, as clients see it.")
    owner_email: Line = Field(max_length=254, description="The owner, invited by email.")
    owner_name: Line | None = Field(
        None, max_length=200, description="Default: from the address (olivia.grant@: Olivia Grant)."
    )
    time_zone: Line | None = Field(None, max_length=64, description="IANA; default UTC.")
    currency: Line | None = Field(None, max_length=3, description="ISO 4217; default USD.")
    region: Line | None = Field(None, max_length=16, description="ISO 3166, e.g. US or GB.")
    accent_color: Line | None = Field(
        None, pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb; default the portal's blue."
    )


class Owner(BaseModel):
    id: str
    email: str
    full_name: str


class OnboardedTenant(BaseModel):
    tenant_id: str
    slug: str
    name: str
    portal_url: str = Field(description="Where the integrator's portal answers.")
    time_zone: str
    currency: str
    owner: Owner
    invite_expires_at: datetime | None = Field(
        description="When the owner's emailed invitation stops working; null when this "
        "answers a retry (nothing was sent again)."
    )
    created: bool = Field(description="False: the same slug and owner again, answered as before.")


def portal_url(settings: GatewaySettings, slug: str, port: int | None) -> str:
    scheme = "http" if settings.is_dev else "https"
    suffix = f":{port}" if port and port not in (80, 443) else ""
    return f"{scheme}://{slug}.{settings.base_domain}{suffix}"


async def onboard(
    backends: Backends, operator: Principal, request_id: str, body: NewTenant
) -> identity_pb2.OnboardTenantResponse:
    """One OnboardTenant: identity makes the tenant, the owner and the invite."""
    identity = backends.identity
    return await identity.call(
        identity.stub.OnboardTenant,
        identity_pb2.OnboardTenantRequest(
            request_id=request_id,
            slug=body.slug,
            display_name=body.name,
            owner_email=body.owner_email,
            owner_name=body.owner_name or "",
            time_zone=body.time_zone or "",
            currency=body.currency or "",
            region=body.region or "",
            branding=identity_pb2.Branding(accent_color=body.accent_color or ""),
        ),
        principal=operator,
    )


@router.post(
    "/tenants",
    status_code=201,
    summary="Onboard an integrator (platform operator)",
    description="Creates the integrator's portal with default branding and emails its "
    "owner an invitation to set a password. Only on the platform host, with the platform "
    "token. The same slug and owner email again answers 200 with the same tenant and sends "
    "nothing; the slug with another owner is 409.",
    responses=problem_responses(401, 409),
)
async def onboard_tenant(
    body: NewTenant,
    operator: PlatformDep,
    backends: BackendsDep,
    tenants: TenantCacheDep,
    settings: SettingsDep,
    request_id: RequestIdDep,
    request: Request,
    response: Response,
) -> OnboardedTenant:
    answer = await onboard(backends, operator, request_id, body)
    tenant, owner = answer.tenant, answer.owner
    tenants.put(tenant.slug, tenant)  # a lookup that just missed must not 404 the new portal
    if not answer.created:
        response.status_code = 200
    return OnboardedTenant(
        tenant_id=tenant.id,
        slug=tenant.slug,
        name=tenant.display_name,
        # The port the operator called the platform host on: tenants share it.
        portal_url=portal_url(settings, tenant.slug, request.url.port),
        time_zone=tenant.time_zone,
        currency=tenant.currency,
        owner=Owner(id=owner.id, email=owner.email, full_name=owner.full_name),
        invite_expires_at=timestamp(answer, "invite_expires_at"),
        created=answer.created,
    )
