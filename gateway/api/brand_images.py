"""Uploading the portal's logo and sign-in image (multipart/form-data), sent on
to identity in 64 KiB pieces as they are read. Identity decides everything
about the image (type by its bytes, SVG refused, size and pixel limits) and
points the branding at it; its `file_too_large` is answered 413."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, File, UploadFile
from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile as StarletteUpload

from gateway.api.tenant import PublicTenant, public_tenant
from gateway.backends import Backends
from gateway.brand import KINDS
from gateway.deps import BackendsDep, StaffDep, TenantCacheDep
from gateway.problems import problem_responses
from gateway.tenancy import TenantCache
from services.chassis import enums
from services.chassis.auth import Principal

CHUNK_SIZE = 64 * 1024
Kind = Literal["logo", "splash"]

# Multipart: outside the API router's JSON-only check (`gateway.api.uploads`).
upload_router = APIRouter(
    prefix="/api/v1",
    tags=["tenant"],
    responses=problem_responses(401, 403, 413, 422, 500, 503, 504),
)


class BrandImage(BaseModel):
    kind: Kind
    url: str = Field(description="Where the portal serves it; cached for a year.")
    content_type: str = Field(description="As identity read it from the bytes.")
    width: int
    height: int
    size_bytes: int
    sha256: str


class UploadedBrandImage(BaseModel):
    image: BrandImage
    tenant: PublicTenant = Field(description="The branding, now pointing at the image.")


def brand_image_out(asset: identity_pb2.BrandAsset) -> BrandImage:
    return BrandImage(
        kind=enums.short_name(identity_pb2.BrandAssetKind, asset.kind),  # type: ignore[arg-type]
        url=asset.url,
        content_type=asset.content_type,
        width=asset.width,
        height=asset.height,
        size_bytes=asset.size_bytes,
        sha256=asset.sha256,
    )


async def _pieces(
    kind: Kind, upload: StarletteUpload
) -> AsyncIterator[identity_pb2.UploadBrandAssetRequest]:
    yield identity_pb2.UploadBrandAssetRequest(
        header=identity_pb2.UploadBrandAssetHeader(kind=KINDS[kind])
    )
    while data := await upload.read(CHUNK_SIZE):
        yield identity_pb2.UploadBrandAssetRequest(data=data)


async def upload_brand_image(
    backends: Backends,
    principal: Principal,
    tenants: TenantCache,
    kind: Kind,
    upload: StarletteUpload,
) -> identity_pb2.UploadBrandAssetResponse:
    """One UploadBrandAsset; this gateway's cache gets the tenant it answers,
    so the next page shows the image. The API and the console's branding page
    both call this."""
    identity = backends.identity
    try:
        answer = await identity.upload(
            identity.stub.UploadBrandAsset, _pieces(kind, upload), principal=principal
        )
    finally:
        await upload.close()
    tenants.put(answer.tenant.slug, answer.tenant)
    return answer


@upload_router.put(
    "/tenant/branding/{kind}",
    summary="Upload the portal's logo or sign-in image (multipart/form-data, owner/admin)",
    description="PNG, JPEG or WebP; the type is read from the bytes, SVG is refused. "
    "`logo`: up to 2 MB, 32 to 4096 pixels a side, also drawn on PDFs. `splash`: up to "
    "5 MB, at least 640 x 320 pixels. The branding's `logo_url` (or `splash_image_url`) "
    "then points at the image.",
)
async def upload_image(
    kind: Kind,
    file: Annotated[UploadFile, File(description="PNG, JPEG or WebP (not SVG).")],
    staff: StaffDep,
    backends: BackendsDep,
    tenants: TenantCacheDep,
) -> UploadedBrandImage:
    answer = await upload_brand_image(backends, staff, tenants, kind, file)
    return UploadedBrandImage(
        image=brand_image_out(answer.asset), tenant=public_tenant(answer.tenant)
    )
