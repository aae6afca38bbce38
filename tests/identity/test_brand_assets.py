"""Uploaded logos and splash images on identity's real gRPC server: sniffed,
checked, sealed in identity's database, and answered by their path's hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import grpc
import pytest
from portal.identity.v1 import events_pb2 as identity_events
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.auth import Principal
from services.chassis.grpc_client import error_detail
from tests.brand_images import SVG, image_bytes, size_of
from tests.identity.conftest import Identity, World, new_world

LOGO = pb.BRAND_ASSET_KIND_LOGO
SPLASH = pb.BRAND_ASSET_KIND_SPLASH


@pytest.fixture
async def other_world(identity: Identity) -> World:
    return await new_world(identity)


def pieces(kind: int, data: bytes, size: int = 64 * 1024) -> Iterator[pb.UploadBrandAssetRequest]:
    yield pb.UploadBrandAssetRequest(header=pb.UploadBrandAssetHeader(kind=kind))
    for start in range(0, len(data), size):
        yield pb.UploadBrandAssetRequest(data=data[start : start + size])


async def upload(world: World, kind: int, data: bytes, principal: Principal | None = None):
    identity = world.identity
    return await identity.caller.upload(
        identity.stub.UploadBrandAsset, pieces(kind, data), principal or world.staff(world.owner)
    )


async def read(world: World, kind: int, prefix: str, *, rendition: int = 0, principal=None):
    identity = world.identity
    messages = [
        m
        async for m in identity.caller.stream(
            identity.stub.ReadBrandAsset,
            pb.ReadBrandAssetRequest(kind=kind, sha256_prefix=prefix, rendition=rendition),
            principal or world.gateway,
        )
    ]
    head, rest = messages[0], messages[1:]
    assert head.WhichOneof("part") == "asset"
    return head.asset, b"".join(m.data for m in rest)


async def refusal(world: World, kind: int, data: bytes, principal=None) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await upload(world, kind, data, principal)
    return err.value


async def test_an_uploaded_logo_becomes_the_tenants_logo_url_and_reads_back_whole(world: World):
    logo = image_bytes(480, 120, alpha=True)
    answer = await upload(world, LOGO, logo)
    digest = hashlib.sha256(logo).hexdigest()
    assert answer.asset.url == f"/brand/logo-{digest[:16]}.png"
    assert answer.tenant.branding.logo_url == answer.asset.url
    assert (answer.asset.content_type, answer.asset.width, answer.asset.height) == (
        "image/png",
        480,
        120,
    )
    tenant = (
        await world.identity(
            "GetTenant", pb.GetTenantRequest(tenant_id=world.tenant_id), world.gateway
        )
    ).tenant
    assert tenant.branding.logo_url == answer.asset.url

    asset, data = await read(world, LOGO, digest[:16])  # as the gateway, before sign-in
    assert data == logo and asset.sha256 == digest and asset.size_bytes == len(logo)
    entry = (await world.audit())[0]
    assert entry.action == "tenant.brand_image_uploaded" and "480 x 120" in entry.detail
    # Notifications keeps the brand for its emails: the new logo tells it to ask again.
    updated = await world.identity.events(world.tenant_id, identity_events.TenantUpdated)
    assert [e.tenant_id for e in updated] == [world.tenant_id]


async def test_the_stored_image_is_sealed_not_the_uploaded_bytes(world: World):
    logo = image_bytes(300, 90, fmt="JPEG")
    await upload(world, LOGO, logo)
    (row,) = await world.identity.sql(
        world.tenant_id, "SELECT sealed, print_sealed, content_type FROM brand_asset"
    )
    assert row.content_type == "image/jpeg"
    assert logo not in bytes(row.sealed) and logo[:64] not in bytes(row.sealed)
    assert bytes(row.sealed).startswith(b"PSL\x01") and row.print_sealed is not None


async def test_a_logo_has_a_print_copy_within_the_letterhead_box(world: World):
    logo = image_bytes(2400, 1200, fmt="WEBP")  # WebP: the PDF library gets PNG instead
    answer = await upload(world, LOGO, logo)
    asset, png = await read(
        world, LOGO, answer.asset.sha256[:16], rendition=pb.BRAND_RENDITION_PRINT
    )
    assert png.startswith(b"\x89PNG") and asset.content_type == "image/png"
    assert size_of(png) == (336, 168)  # fitted into 600 x 168, the aspect kept
    assert asset.sha256 == hashlib.sha256(png).hexdigest()
    assert (asset.width, asset.height) == (2400, 1200)  # the original's


async def test_a_splash_image_sets_the_sign_in_image_and_has_no_print_copy(world: World):
    photo = image_bytes(1600, 900, fmt="JPEG")
    answer = await upload(world, SPLASH, photo)
    assert answer.tenant.branding.splash_image_url.startswith("/brand/splash-")
    assert answer.tenant.branding.splash_image_url.endswith(".jpg")
    err = None
    try:
        await read(world, SPLASH, answer.asset.sha256[:16], rendition=pb.BRAND_RENDITION_PRINT)
    except grpc.aio.AioRpcError as exc:
        err = exc
    assert err is not None and err.code() == grpc.StatusCode.NOT_FOUND


async def test_uploading_the_same_bytes_again_keeps_one_image(world: World):
    logo = image_bytes(200, 60)
    first = await upload(world, LOGO, logo)
    again = await upload(world, LOGO, logo)
    assert again.asset.url == first.asset.url
    rows = await world.identity.sql(world.tenant_id, "SELECT id FROM brand_asset")
    assert len(rows) == 1


async def test_only_the_three_newest_images_of_a_kind_are_kept(world: World):
    urls = [
        (await upload(world, LOGO, image_bytes(200, 60, color=(10 * n, 40, 90)))).asset.url
        for n in range(5)
    ]
    rows = await world.identity.sql(world.tenant_id, "SELECT sha256 FROM brand_asset")
    kept = {f"/brand/logo-{r.sha256[:16]}.png" for r in rows}
    assert kept == set(urls[2:])


async def test_svg_is_refused_because_it_can_carry_script(world: World):
    err = await refusal(world, LOGO, SVG)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "SVG" in err.details()
    assert error_detail(err).field_violations[0].field == "file"


async def test_the_type_is_sniffed_from_the_bytes_not_trusted(world: World):
    err = await refusal(world, LOGO, b"GIF89a" + b"\x00" * 200)
    assert "not a PNG, JPEG or WebP" in err.details()
    # PNG's signature in front of something else: Pillow cannot read it.
    err = await refusal(world, LOGO, b"\x89PNG\r\n\x1a\n" + b"<html>" * 50)
    assert "cannot be read" in err.details()


async def test_an_image_over_the_size_limit_is_refused_as_too_large(world: World):
    err = await refusal(world, LOGO, b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024))
    assert error_detail(err).code == "file_too_large"
    assert "2 MB" in err.details()


async def test_dimensions_out_of_bounds_are_refused_with_the_size_found(world: World):
    err = await refusal(world, LOGO, image_bytes(20, 20))
    assert "20 x 20 pixels" in err.details() and "at least 32 x 32" in err.details()
    err = await refusal(world, SPLASH, image_bytes(400, 300, fmt="JPEG"))
    assert "at least 640 x 320" in err.details()


async def test_only_owners_and_admins_upload(world: World):
    err = await refusal(world, LOGO, image_bytes(), world.staff(world.pm))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_another_tenant_finds_no_such_image(world: World, other_world: World):
    answer = await upload(world, LOGO, image_bytes())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await read(other_world, LOGO, answer.asset.sha256[:16])
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_sealed_image_moved_to_another_tenants_row_does_not_open(
    world: World, other_world: World
):
    mine = await upload(world, LOGO, image_bytes(200, 60, color=(1, 2, 3)))
    theirs = await upload(other_world, LOGO, image_bytes(200, 60, color=(4, 5, 6)))
    (row,) = await world.identity.sql(world.tenant_id, "SELECT sealed FROM brand_asset")
    await other_world.identity.sql(
        other_world.tenant_id, "UPDATE brand_asset SET sealed = :sealed", sealed=bytes(row.sealed)
    )
    assert mine.asset.sha256 != theirs.asset.sha256
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await read(other_world, LOGO, theirs.asset.sha256[:16])
    assert err.value.code() == grpc.StatusCode.DATA_LOSS
