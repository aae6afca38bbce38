"""Uploading the portal's logo and sign-in image (multipart/form-data), sent on
to identity in 64 KiB pieces as they are read. Identity decides everything
about the image (type by its bytes, SVG refused, size and pixel limits) and
points the branding at it; its `file_too_large` is answered 413."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Request
from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from gateway import body_limits
from gateway.api.documents.upload import multipart_body
from gateway.api.tenant import PublicTenant, public_tenant
from gateway.backends import Backends
from gateway.brand import KINDS
from gateway.deps import BackendsDep, StaffDep, TenantCacheDep
from gateway.multipart import MultipartReader, malformed
from gateway.problems import problem_responses
from gateway.tenancy import TenantCache
from services.chassis import enums
from services.chassis.auth import Principal

CHUNK_SIZE = 64 * 1024
Kind = Literal["logo", "splash"]
# The body cap, before identity's own per-kind limits (logo 2 MB, splash 5 MB):
# the largest image identity takes, so nothing bigger is ever read.
MAX_IMAGE_BYTES = 5 * 1024 * 1024

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


async def read_image_form(request: Request) -> tuple[FormData, MultipartReader | None]:
    """The form's text fields and a reader positioned at its file (None: no
    file chosen), the body capped at the largest image identity accepts. The
    caller has authenticated already: nothing was read before that."""
    body_limits.allow(
        request.scope,
        MAX_IMAGE_BYTES + body_limits.FORM_ROOM,
        body_limits.file_too_large(MAX_IMAGE_BYTES, here=" for a brand image"),
    )
    reader = MultipartReader(request.headers, request.stream())
    fields, file = await reader.fields()
    return fields, (reader if file is not None else None)


async def _pieces(
    kind: Kind, reader: MultipartReader
) -> AsyncIterator[identity_pb2.UploadBrandAssetRequest]:
    yield identity_pb2.UploadBrandAssetRequest(
        header=identity_pb2.UploadBrandAssetHeader(kind=KINDS[kind])
    )
    async for data in reader.file_chunks(CHUNK_SIZE):
        yield identity_pb2.UploadBrandAssetRequest(data=data)


async def upload_brand_image(
    backends: Backends,
    principal: Principal,
    tenants: TenantCache,
    kind: Kind,
    reader: MultipartReader,
) -> identity_pb2.UploadBrandAssetResponse:
    """One UploadBrandAsset; this gateway's cache gets the tenant it answers,
    so the next page shows the image. The API and the console's branding page
    both call this."""
    identity = backends.identity
    answer = await identity.upload(
        identity.stub.UploadBrandAsset, _pieces(kind, reader), principal=principal
    )
    tenants.put(answer.tenant.slug, answer.tenant)
    return answer


@upload_router.put(
    "/tenant/branding/{kind}",
    summary="Upload the portal's logo or sign-in image (multipart/form-data, owner/admin)",
    description="PNG, JPEG or WebP; the type is read from the bytes, SVG is refused. "
    "`logo`: up to 2 MB, 32 to 4096 pixels a side, also drawn on PDFs. `splash`: up to "
    "5 MB, at least 640 x 320 pixels. The branding's `logo_url` (or `splash_image_url`) "
    "then points at the image.",
    openapi_extra=multipart_body(None, "PNG, JPEG or WebP (not SVG)."),
)
async def upload_image(
    request: Request,
    kind: Kind,
    staff: StaffDep,
    backends: BackendsDep,
    tenants: TenantCacheDep,
) -> UploadedBrandImage:
    _, reader = await read_image_form(request)
    if reader is None:
        raise malformed("Choose an image: a part named 'file'.", field="file")
    answer = await upload_brand_image(backends, staff, tenants, kind, reader)
    return UploadedBrandImage(
        image=brand_image_out(answer.asset), tenant=public_tenant(answer.tenant)
    )
