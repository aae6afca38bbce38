"""Tenant and customer updates as AIP-134 field masks: only the named fields
change, under the row lock, so concurrent edits of different fields all land."""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.grpc_client import error_detail
from tests.identity.conftest import World

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def branding_change(**fields: str) -> pb.UpdateTenantRequest:
    return pb.UpdateTenantRequest(
        branding=pb.Branding(**fields),
        update_mask=FieldMask(paths=[f"branding.{name}" for name in fields]),
    )


async def test_concurrent_changes_of_different_branding_fields_all_land(world: World):
    owner = world.staff(world.owner)
    changes = {
        "headline": "Cinemas, built right",
        "logo_url": "https://cdn.example.com/logo.svg",
        "splash_image_url": "/static/splash.jpg",
        "accent_color": "#123abc",
        "support_email": "help@acme.example",
        "support_phone": "+1 555 0100",
    }
    # Each request carries only its own field, the others left at "" in the
    # message: without the mask they would be cleared by whichever ran last.
    await asyncio.gather(
        *(
            world.identity("UpdateTenant", branding_change(**{name: value}), owner)
            for name, value in changes.items()
        ),
        world.identity(
            "UpdateTenant",
            pb.UpdateTenantRequest(
                time_zone="Asia/Tokyo", update_mask=FieldMask(paths=["time_zone"])
            ),
            owner,
        ),
    )
    tenant = (
        await world.identity("GetTenant", pb.GetTenantRequest(tenant_id=world.tenant_id), owner)
    ).tenant
    assert {name: getattr(tenant.branding, name) for name in changes} == changes
    assert tenant.time_zone == "Asia/Tokyo" and tenant.display_name == world.tenant.display_name


async def test_a_masked_field_left_empty_is_cleared_and_the_rest_is_kept(world: World):
    owner = world.staff(world.owner)
    await world.identity(
        "UpdateTenant", branding_change(headline="Hello", logo_url="/logo.png"), owner
    )
    tenant = (await world.identity("UpdateTenant", branding_change(logo_url=""), owner)).tenant
    assert tenant.branding.logo_url == "" and tenant.branding.headline == "Hello"
    entry = (await world.audit())[0]
    assert entry.detail == "changed logo url"


async def test_an_unknown_path_is_invalid_argument_naming_it(world: World):
    for request, path in (
        (pb.UpdateTenantRequest(update_mask=FieldMask(paths=["slug"])), "slug"),
        (pb.UpdateTenantRequest(update_mask=FieldMask(paths=["branding.font"])), "branding.font"),
    ):
        err = await world.identity.fails(INVALID, "UpdateTenant", request, world.staff(world.owner))
        assert path in err.details()
        assert error_detail(err).field_violations[0].field == "update_mask"
    err = await world.identity.fails(
        INVALID,
        "UpdateCustomer",
        pb.UpdateCustomerRequest(
            customer_id=world.customer.id, update_mask=FieldMask(paths=["contacts"])
        ),
        world.staff(world.pm),
    )
    assert "contacts" in err.details()


async def test_a_masked_value_is_still_checked_with_its_field_named(world: World):
    err = await world.identity.fails(
        INVALID,
        "UpdateTenant",
        branding_change(logo_url="javascript:alert(1)"),
        world.staff(world.owner),
    )
    assert error_detail(err).field_violations[0].field == "logo_url"
    err = await world.identity.fails(
        INVALID,
        "UpdateCustomer",
        pb.UpdateCustomerRequest(
            customer_id=world.customer.id, update_mask=FieldMask(paths=["name"])
        ),
        world.staff(world.pm),
    )
    assert error_detail(err).field_violations[0].field == "name"


async def test_a_customer_rename_names_its_field(world: World):
    renamed = (
        await world.identity(
            "UpdateCustomer",
            pb.UpdateCustomerRequest(
                customer_id=world.customer.id,
                name="Harrison",
                update_mask=FieldMask(paths=["name"]),
            ),
            world.staff(world.pm),
        )
    ).customer
    assert renamed.name == "Harrison" and len(renamed.contacts) == 2
