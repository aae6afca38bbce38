"""The integrator's postal address and website: branding printed on every PDF's
letterhead, set by an owner and answered with the tenant."""

from __future__ import annotations

import grpc
import pytest
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.errors import InvalidArgument
from services.chassis.grpc_client import error_detail
from services.identity import domain
from tests.identity.conftest import World


def test_a_postal_address_keeps_its_lines_without_blanks_or_edge_spaces():
    typed = "  418 Hudson Street, Suite 2 \r\n\r\n New York, NY 10014\n"
    assert domain.validate_postal_address(typed) == "418 Hudson Street, Suite 2\nNew York, NY 10014"
    assert domain.validate_postal_address("   ") == ""


@pytest.mark.parametrize(
    "address", ["\n".join(f"line {n}" for n in range(7)), "x" * 81, "12 Wharf Road\x00"]
)
def test_a_postal_address_too_long_or_with_control_characters_is_refused(address):
    with pytest.raises(InvalidArgument) as err:
        domain.validate_postal_address(address)
    assert err.value.field == "postal_address"


def test_a_website_is_an_https_address():
    assert domain.validate_website(" https://acme-av.example ") == "https://acme-av.example"
    assert domain.validate_website("") == ""
    for bad in ("http://acme-av.example", "javascript:alert(1)", "/about", "https://localhost"):
        with pytest.raises(InvalidArgument, match="https://"):
            domain.validate_website(bad)


async def test_an_owner_sets_the_address_and_website_and_the_tenant_answers_them(world: World):
    branding = pb.Branding(
        support_email="studio@acme-av.example",
        postal_address="418 Hudson Street, Suite 2\n\nNew York, NY 10014",
        website="https://acme-av.example",
    )
    await world.identity(
        "UpdateTenant", pb.UpdateTenantRequest(branding=branding), world.staff(world.owner)
    )
    tenant = (
        await world.identity(
            "GetTenant", pb.GetTenantRequest(tenant_id=world.tenant_id), world.gateway
        )
    ).tenant
    assert tenant.branding.postal_address == "418 Hudson Street, Suite 2\nNew York, NY 10014"
    assert tenant.branding.website == "https://acme-av.example"
    entry = (await world.audit())[0]
    assert "postal address" in entry.detail and "website" in entry.detail


async def test_a_bad_address_or_website_is_refused_with_the_field_named(world: World):
    for branding, field in (
        (pb.Branding(postal_address="\n".join("x" * 7)), "postal_address"),
        (pb.Branding(website="http://acme-av.example"), "website"),
    ):
        err = await world.identity.fails(
            grpc.StatusCode.INVALID_ARGUMENT,
            "UpdateTenant",
            pb.UpdateTenantRequest(branding=branding),
            world.staff(world.owner),
        )
        assert error_detail(err).field_violations[0].field == field
