"""The tenant's uploaded brand images, as the gateway needs them: served on
the tenant's host (the route is in `theme`), and a logo's print copy on the
letterhead of every PDF the gateway asks for.

Identity keeps the images (sealed); the path in the branding names the content
(`services.chassis.brand`), so what identity answered for a path never
changes. The gateway keeps recent answers in a small LRU bounded by bytes,
keyed by tenant and path: the sign-in page's logo costs identity one read per
gateway, not one per visitor, and a cached image can never be stale.
"""

from __future__ import annotations

import grpc
from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2

from gateway.backends import Backends, RemoteError, gateway_principal
from gateway.brand_cache import BrandImage
from services.chassis import brand
from services.chassis.letterhead import letterhead_of
from services.chassis.telemetry import get_logger

log = get_logger(__name__)
KINDS = {"logo": identity_pb2.BRAND_ASSET_KIND_LOGO, "splash": identity_pb2.BRAND_ASSET_KIND_SPLASH}
ORIGINAL = identity_pb2.BRAND_RENDITION_ORIGINAL
PRINT = identity_pb2.BRAND_RENDITION_PRINT


async def fetch_image(
    backends: Backends, tenant: identity_pb2.Tenant, ref: brand.AssetRef, rendition: int
) -> BrandImage:
    """The image a path names, from the cache or from identity (as the
    gateway: the sign-in page shows the logo to visitors not signed in).
    Raises RemoteError (NOT_FOUND for a path that names no image)."""
    key = (tenant.id, ref.kind, ref.sha256_prefix, rendition)
    cached = backends.brand_images.get(key)
    if cached is not None:
        return cached
    identity = backends.identity
    first, rest = await identity.open_stream(
        identity.stub.ReadBrandAsset,
        identity_pb2.ReadBrandAssetRequest(
            kind=KINDS[ref.kind], sha256_prefix=ref.sha256_prefix, rendition=rendition
        ),
        principal=gateway_principal(tenant_id=tenant.id),
    )
    data = b"".join([piece.data async for piece in rest])
    image = BrandImage(first.asset.content_type, first.asset.sha256, data)
    backends.brand_images.put(key, image)
    return image


async def letterhead_for(backends: Backends, tenant: identity_pb2.Tenant) -> common_pb2.Letterhead:
    """The tenant's letterhead with its uploaded logo's print copy drawn in.
    A logo given as an https:// URL is never fetched (the letterhead has none);
    an uploaded one identity no longer has is left out rather than failing
    the document."""
    ref = brand.parse_asset_path(tenant.branding.logo_url)
    if ref is None or ref.kind != "logo":
        return letterhead_of(tenant)
    try:
        image = await fetch_image(backends, tenant, ref, PRINT)
    except RemoteError as exc:
        if exc.code != grpc.StatusCode.NOT_FOUND:
            raise
        log.warning("the tenant's logo is not in identity", logo_url=tenant.branding.logo_url)
        return letterhead_of(tenant)
    return letterhead_of(tenant, logo=image.data)
