"""The demo integrator's logo: drawn here with Pillow (no binary in the
repository), uploaded once through identity's public contract, and drawn on
the signed copy the seed files."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont
from portal.identity.v1 import identity_pb2 as ipb

from services.chassis import brand
from services.chassis.auth import Principal
from services.chassis.grpc_client import Caller

ACCENT = (180, 68, 43)  # the demo's accent colour, #b4442b
INK = (17, 24, 39)
SIZE = (400, 120)  # drawn at three times the header's 40 px, for sharp screens


def demo_logo() -> bytes:
    """A mark (a screen with a play triangle) and the word ACME, on transparency."""
    image = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 116, 116), radius=26, fill=ACCENT)
    draw.polygon([(46, 32), (46, 88), (92, 60)], fill="white")
    word = ImageFont.load_default(size=84)
    draw.text((136, 60), "ACME", font=word, fill=INK, anchor="lm", stroke_width=2, stroke_fill=INK)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def seed_logo(
    *, call: Caller, identity, principal: Principal, tenant: ipb.Tenant
) -> tuple[ipb.Tenant, bytes]:
    """The tenant with the demo logo (uploaded if it has none), and the logo's
    print copy for letterheads."""
    if brand.parse_asset_path(tenant.branding.logo_url) is None:

        def pieces():
            yield ipb.UploadBrandAssetRequest(
                header=ipb.UploadBrandAssetHeader(kind=ipb.BRAND_ASSET_KIND_LOGO)
            )
            yield ipb.UploadBrandAssetRequest(data=demo_logo())

        tenant = (await call.upload(identity.UploadBrandAsset, pieces(), principal)).tenant
    ref = brand.parse_asset_path(tenant.branding.logo_url)
    assert ref is not None
    request = ipb.ReadBrandAssetRequest(
        kind=ipb.BRAND_ASSET_KIND_LOGO,
        sha256_prefix=ref.sha256_prefix,
        rendition=ipb.BRAND_RENDITION_PRINT,
    )
    print_copy = b"".join(
        [m.data async for m in call.stream(identity.ReadBrandAsset, request, principal)]
    )
    return tenant, print_copy
