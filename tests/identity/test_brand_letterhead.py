"""The letterheads the gateway asks documents for, against identity's real
server: an uploaded logo's print copy is drawn, a logo known only by URL is
never fetched, and a logo identity no longer has is left out."""

from __future__ import annotations

from portal.identity.v1 import identity_pb2 as pb
from portal.identity.v1.identity_pb2_grpc import IdentityServiceStub

from gateway.backends import Backends, Remote
from gateway.brand import PRINT, letterhead_for
from services.chassis import brand
from services.chassis.auth import PrincipalSigner, generate_keypair
from services.chassis.grpc_client import Caller, open_channel
from tests.brand_images import image_bytes, size_of
from tests.gateway.conftest import acme
from tests.identity.conftest import Identity, World
from tests.identity.test_brand_assets import LOGO, upload


def backends_on(identity: Identity) -> Backends:
    """The gateway's backends with identity's real server behind them."""
    remote = Remote("identity", identity.stub, identity.caller)
    return Backends(identity=remote, projects=None, notifications=None)  # type: ignore[arg-type]


async def test_a_logo_known_only_by_url_is_never_fetched_for_a_letterhead():
    # A channel to nowhere: any call would fail the test with UNAVAILABLE.
    async with open_channel("127.0.0.1:9") as nowhere:
        remote = Remote(
            "identity", IdentityServiceStub(nowhere), Caller(PrincipalSigner(generate_keypair()[0]))
        )
        backends = Backends(identity=remote, projects=None, notifications=None)  # type: ignore[arg-type]
        letterhead = await letterhead_for(backends, acme(logo_url="https://cdn.example/acme.png"))
    assert letterhead.logo == b"" and letterhead.integrator_name == "Acme Home Cinema"


async def test_an_uploaded_logo_is_drawn_from_its_print_copy_once_fetched(
    identity: Identity, world: World
):
    uploaded = await upload(world, LOGO, image_bytes(1200, 300))
    backends = backends_on(identity)
    letterhead = await letterhead_for(backends, uploaded.tenant)
    assert letterhead.logo.startswith(b"\x89PNG") and size_of(letterhead.logo) == (600, 150)
    ref = brand.parse_asset_path(uploaded.tenant.branding.logo_url)
    assert ref is not None
    cached = backends.brand_images.get((world.tenant_id, "logo", ref.sha256_prefix, PRINT))
    assert cached is not None and cached.data == letterhead.logo


async def test_an_uploaded_logo_identity_no_longer_has_is_left_out_not_fatal(
    identity: Identity, world: World
):
    gone = pb.Tenant()
    gone.CopyFrom(world.tenant)
    gone.branding.logo_url = "/brand/logo-0123456789abcdef.png"
    letterhead = await letterhead_for(backends_on(identity), gone)
    assert letterhead.logo == b"" and letterhead.integrator_name == world.tenant.display_name
