"""The brand image RPCs: an upload as a client stream, a read as a server stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from portal.identity.v1 import identity_pb2 as pb

from services.chassis import brand, enums, errors
from services.chassis.auth import current_principal
from services.chassis.sealing import MasterKeys, Unreadable
from services.chassis.telemetry import get_logger
from services.identity import service
from services.identity.grpc_api.convert import tenant_pb, ts
from services.identity.models import BrandAsset
from services.identity.service.common import Sessions

log = get_logger(__name__)
READ_PIECE = 64 * 1024
_SERVICE = "/" + pb.DESCRIPTOR.services_by_name["IdentityService"].full_name
# Callers give every stream one deadline (the gateway's is 10 minutes); the
# bytes are small, but the chassis' 60 s ceiling would refuse that deadline.
DEADLINE_CEILINGS = {
    f"{_SERVICE}/{method}": 900.0 for method in ("UploadBrandAsset", "ReadBrandAsset")
}


def _kind(value: int) -> str:
    return enums.known_name(pb.BrandAssetKind, value) or ""


def asset_pb(asset: BrandAsset, *, content_type: str = "", sha256: str = "", size: int = 0):
    return pb.BrandAsset(
        kind=enums.value(pb.BrandAssetKind, asset.kind),
        url=brand.asset_path(asset.kind, asset.sha256, asset.content_type),
        content_type=content_type or asset.content_type,
        sha256=sha256 or asset.sha256,
        size_bytes=size or asset.size_bytes,
        width=asset.width,
        height=asset.height,
        created_at=ts(asset.created_at),
    )


class BrandRpcs:
    """Mixed into IdentityServicer."""

    _sessions: Sessions
    _brand_keys: MasterKeys

    async def UploadBrandAsset(self, request_iterator, context):
        stream = request_iterator.__aiter__()
        first = await anext(stream, None)
        if first is None or first.WhichOneof("part") != "header":
            raise errors.InvalidArgument("the first message must be the header", field="header")

        async def data() -> AsyncIterator[bytes]:
            async for message in stream:
                if message.WhichOneof("part") != "data":
                    raise errors.InvalidArgument("only the first message may be a header")
                yield message.data

        tenant, asset = await service.upload_brand_asset(
            sessions=self._sessions,
            keys=self._brand_keys,
            principal=current_principal(),
            kind=_kind(first.header.kind),
            chunks=data(),
        )
        return pb.UploadBrandAssetResponse(tenant=tenant_pb(tenant), asset=asset_pb(asset))

    async def ReadBrandAsset(self, request, context):
        rendition = enums.known_name(pb.BrandRendition, request.rendition) or "original"
        try:
            found = await service.read_brand_asset(
                sessions=self._sessions,
                keys=self._brand_keys,
                principal=current_principal(),
                kind=_kind(request.kind),
                sha256_prefix=request.sha256_prefix,
                rendition=rendition,
            )
        except Unreadable:
            # Stored bytes that no longer open (a missing key, tampering) are lost data.
            log.exception("a brand image cannot be opened", prefix=request.sha256_prefix)
            await context.abort(grpc.StatusCode.DATA_LOSS, "the stored image cannot be read")
            raise
        yield pb.ReadBrandAssetResponse(
            asset=asset_pb(
                found.asset,
                content_type=found.content_type,
                sha256=found.sha256,
                size=len(found.data),
            )
        )
        for start in range(0, len(found.data), READ_PIECE):
            yield pb.ReadBrandAssetResponse(data=found.data[start : start + READ_PIECE])
