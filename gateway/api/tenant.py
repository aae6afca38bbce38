"""The tenant's public face: name and branding, for anyone on its host."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.tenancy import Tenant, TenantDep

router = APIRouter(tags=["tenant"])


class Branding(BaseModel):
    logo_url: str | None
    splash_image_url: str | None
    headline: str | None
    accent_color: str | None = Field(description="#rrggbb")
    support_email: str | None
    support_phone: str | None


class PublicTenant(BaseModel):
    slug: str
    display_name: str
    time_zone: str = Field(description="IANA time zone, e.g. America/New_York.")
    currency: str = Field(description="ISO 4217 code.")
    branding: Branding


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
        ),
    )


@router.get("/tenant", summary="The portal's name and branding")
async def get_tenant(tenant: TenantDep) -> PublicTenant:
    return public_tenant(tenant)
