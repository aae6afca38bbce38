"""The tenant's public face (name and branding, for anyone on its host), and
its settings for staff."""

from __future__ import annotations

from fastapi import APIRouter
from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.auth import StaffDep
from gateway.backends import BackendsDep
from gateway.problems import problem_responses
from gateway.tenancy import Tenant, TenantCacheDep, TenantDep

router = APIRouter(tags=["tenant"])
BRANDING_FIELDS = (
    "logo_url",
    "splash_image_url",
    "headline",
    "accent_color",
    "support_email",
    "support_phone",
    "postal_address",
    "website",
)


class Branding(BaseModel):
    logo_url: str | None
    splash_image_url: str | None
    headline: str | None
    accent_color: str | None = Field(description="#rrggbb")
    support_email: str | None
    support_phone: str | None
    postal_address: str | None = Field(description="Lines separated by newlines.")
    website: str | None


class PublicTenant(BaseModel):
    slug: str
    display_name: str
    time_zone: str = Field(description="IANA time zone, e.g. America/New_York.")
    currency: str = Field(description="ISO 4217 code.")
    branding: Branding


class BrandingChange(BaseModel):
    """Only the fields sent change; send "" to clear one."""

    model_config = ConfigDict(extra="forbid")

    logo_url: str | None = Field(None, max_length=2000, description="https:// or a path")
    splash_image_url: str | None = Field(None, max_length=2000, description="https:// or a path")
    headline: str | None = Field(None, max_length=300)
    accent_color: str | None = Field(None, pattern=r"^(#[0-9a-fA-F]{6})?$")
    support_email: str | None = Field(None, max_length=320)
    support_phone: str | None = Field(None, max_length=50)
    postal_address: str | None = Field(
        None, max_length=500, description="Printed on documents; one line per newline."
    )
    website: str | None = Field(None, max_length=500, description="https://")


class TenantChange(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(None, max_length=200)
    time_zone: str | None = Field(None, max_length=64)
    currency: str | None = Field(None, max_length=3)
    region: str | None = Field(None, max_length=16)
    branding: BrandingChange | None = None


def public_tenant(tenant: Tenant) -> PublicTenant:
    b = tenant.branding
    return PublicTenant(
        slug=tenant.slug,
        display_name=tenant.display_name,
        time_zone=tenant.time_zone,
        currency=tenant.currency,
        # proto3 has no "unset" string; JSON clients get null instead of "".
        branding=Branding(
            logo_url=b.logo_url or None,
            splash_image_url=b.splash_image_url or None,
            headline=b.headline or None,
            accent_color=b.accent_color or None,
            support_email=b.support_email or None,
            support_phone=b.support_phone or None,
            postal_address=b.postal_address or None,
            website=b.website or None,
        ),
    )


def merged(current: Tenant, change: TenantChange) -> identity_pb2.UpdateTenantRequest:
    """The whole settings with the change applied: UpdateTenant takes them all."""
    sent = change.model_dump(exclude_unset=True)
    branding_sent = sent.pop("branding", None) or {}
    branding = identity_pb2.Branding(
        **{
            name: branding_sent[name] if name in branding_sent else getattr(current.branding, name)
            for name in BRANDING_FIELDS
        }
    )
    return identity_pb2.UpdateTenantRequest(
        display_name=sent.get("display_name", current.display_name),
        time_zone=sent.get("time_zone", current.time_zone),
        currency=sent.get("currency", current.currency),
        region=sent.get("region", current.region),
        branding=branding,
    )


@router.get("/tenant", summary="The portal's name and branding")
async def get_tenant(tenant: TenantDep) -> PublicTenant:
    return public_tenant(tenant)


@router.patch(
    "/tenant",
    summary="Change the portal's name, branding and settings (owner/admin)",
    description="The portal shows the change on its next page load.",
    responses=problem_responses(401, 403, 422),
)
async def update_tenant(
    change: TenantChange,
    tenant: TenantDep,
    staff: StaffDep,
    backends: BackendsDep,
    tenants: TenantCacheDep,
) -> PublicTenant:
    identity = backends.identity
    # Merge onto the stored settings, not this gateway's cached copy.
    current = await identity.call(
        identity.stub.GetTenant, identity_pb2.GetTenantRequest(tenant_id=tenant.id), principal=staff
    )
    answer = await identity.call(
        identity.stub.UpdateTenant, merged(current.tenant, change), principal=staff
    )
    tenants.put(answer.tenant.slug, answer.tenant)
    return public_tenant(answer.tenant)
