"""Uploaded brand images: the logo and the sign-in splash, checked
(`domain_brand`), sealed under identity's master keys (`chassis.sealing`) and
kept in identity's database beside the branding that points at them."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from portal.identity.v1 import events_pb2
from sqlalchemy import delete, select

from services.chassis import brand
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, NotFound
from services.chassis.sealing import MasterKeys, open_sealed, seal
from services.identity import domain_brand
from services.identity.models import BrandAsset, Tenant
from services.identity.service.common import Sessions, actor_label, audit, now_utc

# Replaced images stay readable a while: a page rendered (or a tenant cached by
# another gateway) just before the change still shows its image.
KEEP_RECENT = 3
RENDITIONS = ("original", "print")
_COLUMN = {"logo": "logo_url", "splash": "splash_image_url"}
_PREFIX = re.compile(rf"^[0-9a-f]{{{brand.PREFIX_LENGTH}}}$")


@dataclass(frozen=True)
class AssetBytes:
    asset: BrandAsset
    content_type: str
    sha256: str  # of `data`
    data: bytes


def _aad(tenant_id: str, kind: str, sha256: str, rendition: str) -> bytes:
    # Binds each sealed image to its tenant, kind, content and rendition: a
    # sealed value copied into another row does not open there.
    return f"identity-brand|v1|{tenant_id}|{kind}|{sha256}|{rendition}".encode()


async def _collect(kind: str, chunks: AsyncIterator[bytes]) -> bytes:
    """The upload's bytes, refused as soon as they pass the kind's limit."""
    data = bytearray()
    async for piece in chunks:
        data += piece
        domain_brand.check_size(kind, len(data))
    return bytes(data)


async def upload_brand_asset(
    *,
    sessions: Sessions,
    keys: MasterKeys,
    principal: Principal,
    kind: str,
    chunks: AsyncIterator[bytes],
) -> tuple[Tenant, BrandAsset]:
    """Checks and seals the image, and points the tenant's logo (or splash)
    URL at it, under the tenant's row lock; audited. The same bytes again
    reuse the stored image."""
    tenant_id = principal.require_tenant()
    if principal.kind != "platform":  # the platform: onboarding and the demo seed
        principal.require_staff("admin")
        principal.require_writable()
    kind = domain_brand.check_kind(kind)
    data = await _collect(kind, chunks)
    image = domain_brand.inspect(kind, data)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        tenant = await uow.session.get(Tenant, uuid.UUID(tenant_id), with_for_update=True)
        if tenant is None:
            raise NotFound("no such tenant")
        asset = await _stored(uow, keys, tenant_id, kind, data, image)
        asset.created_at = now  # the newest upload, also when the bytes are known
        await uow.flush()
        await _prune(uow, kind)
        url = brand.asset_path(kind, image.sha256, image.content_type)
        column = _COLUMN[kind]
        if getattr(tenant, column) != url:
            setattr(tenant, column, url)
            audit(
                uow,
                actor=await actor_label(uow, principal),
                action="tenant.brand_image_uploaded",
                target=f"tenant:{tenant.id}",
                detail=domain_brand.upload_detail(kind, image),
                at=now,
            )
            # Notifications keeps the brand (the logo in every email): ask again.
            uow.publish(
                events_pb2.TenantUpdated(tenant_id=str(tenant.id)),
                aggregate_type="tenant",
                aggregate_id=str(tenant.id),
            )
        await uow.commit()
    return tenant, asset


async def _stored(
    uow: UnitOfWork,
    keys: MasterKeys,
    tenant_id: str,
    kind: str,
    data: bytes,
    image: domain_brand.BrandImage,
) -> BrandAsset:
    """The tenant's image of these bytes: the one kept already, or a new row
    sealing the original and its print copy."""
    asset = await uow.session.scalar(
        select(BrandAsset).where(BrandAsset.kind == kind, BrandAsset.sha256 == image.sha256)
    )
    if asset is not None:
        return asset
    asset = BrandAsset(
        tenant_id=uuid.UUID(tenant_id),
        kind=kind,
        content_type=image.content_type,
        sha256=image.sha256,
        size_bytes=image.size_bytes,
        width=image.width,
        height=image.height,
        sealed=seal(keys, data, aad=_aad(tenant_id, kind, image.sha256, "original")),
        print_sealed=(
            seal(keys, image.print_png, aad=_aad(tenant_id, kind, image.sha256, "print"))
            if image.print_png is not None
            else None
        ),
    )
    uow.session.add(asset)
    return asset


async def _prune(uow: UnitOfWork, kind: str) -> None:
    """Keep the KEEP_RECENT newest images of the kind; older ones go."""
    keep = (
        select(BrandAsset.id)
        .where(BrandAsset.kind == kind)
        .order_by(BrandAsset.created_at.desc(), BrandAsset.id)
        .limit(KEEP_RECENT)
    )
    await uow.session.execute(
        delete(BrandAsset).where(BrandAsset.kind == kind, BrandAsset.id.not_in(keep))
    )


async def read_brand_asset(
    *,
    sessions: Sessions,
    keys: MasterKeys,
    principal: Principal,
    kind: str,
    sha256_prefix: str,
    rendition: str = "original",
) -> AssetBytes:
    """The image a content-addressed path names, opened. Anyone of the tenant
    may read it: brand images are shown to every visitor of the portal."""
    tenant_id = principal.require_tenant()
    kind = domain_brand.check_kind(kind)
    if not _PREFIX.match(sha256_prefix):
        raise InvalidArgument(
            f"the image is named by {brand.PREFIX_LENGTH} hex digits", field="sha256_prefix"
        )
    async with UnitOfWork(sessions, tenant_id) as uow:
        asset = await uow.session.scalar(
            select(BrandAsset).where(
                BrandAsset.kind == kind, BrandAsset.sha256.startswith(sha256_prefix)
            )
        )
    if asset is None:
        raise NotFound("no such image", field="sha256_prefix")
    if rendition == "print":
        if asset.print_sealed is None:
            raise NotFound("this image has no print copy", field="rendition")
        png = open_sealed(
            keys, asset.print_sealed, aad=_aad(tenant_id, kind, asset.sha256, "print")
        )
        return AssetBytes(asset, "image/png", hashlib.sha256(png).hexdigest(), png)
    data = open_sealed(keys, asset.sealed, aad=_aad(tenant_id, kind, asset.sha256, "original"))
    return AssetBytes(asset, asset.content_type, asset.sha256, data)
