"""The tenant's public face (name and branding, for anyone on its host), and
its settings for staff."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Line, Text
from gateway.api.translate import masked
from gateway.deps import BackendsDep, StaffDep, TenantCacheDep, TenantDep
from gateway.problems import problem_responses
from gateway.tenancy import Tenant, TenantCache
from services.chassis.auth import Principal

router = APIRouter(tags=["tenant"])


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

    logo_url: Line | None = Field(None, max_length=2000, description="https:// or a path")
    splash_image_url: Line | None = Field(None, max_length=2000, description="https:// or a path")
    headline: Line | None = Field(None, max_length=300)
    accent_color: Line | None = Field(None, pattern=r"^(#[0-9a-fA-F]{6})?$")
    support_email: Line | None = Field(None, max_length=320)
    support_phone: Line | None = Field(None, max_length=50)
    postal_address: Text | None = Field(
        None, max_length=500, description="Printed on documents; one line per newline."
    )
    website: Line | None = Field(None, max_length=500, description="https://")


class TenantChange(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    display_name: Line | None = Field(None, max_length=200)
    time_zone: Line | None = Field(None, max_length=64)
    currency: Line | None = Field(None, max_length=3)
    region: Line | None = Field(None, max_length=16)
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


def tenant_update(changes: Mapping[str, Any]) -> identity_pb2.UpdateTenantRequest:
    """UpdateTenant naming exactly `changes` in its update_mask (AIP-134): keys are
    settings (`display_name`, ...) or `branding.<field>`; None clears a field.
    Identity applies them under the tenant's row lock, so nothing is read first
    and two admins changing different fields both land."""
    return masked(identity_pb2.UpdateTenantRequest(), changes)


def sent_changes(change: TenantChange) -> dict[str, Any]:
    """The fields a PATCH body sent, branding ones as `branding.<field>` paths."""
    sent = change.model_dump(exclude_unset=True)
    branding = sent.pop("branding", None) or {}
    return sent | {f"branding.{name}": value for name, value in branding.items()}


async def change_tenant(
    backends: BackendsDep, principal: Principal, tenants: TenantCache, changes: Mapping[str, Any]
) -> identity_pb2.Tenant:
    """One UpdateTenant with `changes` as its mask; this gateway's cache gets the
    answer, so its next page load shows it. The API's PATCH and the console's
    branding form both call this."""
    identity = backends.identity
    answer = await identity.call(
        identity.stub.UpdateTenant, tenant_update(changes), principal=principal
    )
    tenants.put(answer.tenant.slug, answer.tenant)
    return answer.tenant


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
    return public_tenant(await change_tenant(backends, staff, tenants, sent_changes(change)))
