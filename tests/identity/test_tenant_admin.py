"""Tenant settings and branding, staff and customer administration, the audit log."""

from __future__ import annotations

import grpc
from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.grpc_client import error_detail
from tests.identity.conftest import World, new_world

DENIED = grpc.StatusCode.PERMISSION_DENIED


async def test_owner_updates_branding_and_it_is_audited(world: World):
    branding = pb.Branding(
        logo_url="https://cdn.example.com/acme.svg",
        splash_image_url="/static/splash.jpg",
        headline="Your cinema, built right",
        accent_color="#B4442B",
        support_email="Help@Acme.Example",
        support_phone="+44 20 7946 0000",
    )
    tenant = (
        await world.identity(
            "UpdateTenant",
            pb.UpdateTenantRequest(
                display_name="Acme Cinema", branding=branding, currency="GBP", region="gb"
            ),
            world.staff(world.owner),
        )
    ).tenant
    assert tenant.display_name == "Acme Cinema" and tenant.currency == "GBP"
    assert tenant.region == "GB" and tenant.time_zone == "Europe/London"  # untouched
    assert tenant.branding.accent_color == "#b4442b"
    assert tenant.branding.support_email == "Help@acme.example"
    entry = (await world.audit())[0]
    assert entry.action == "tenant.updated" and "logo url" in entry.detail
    assert "display name" in entry.detail and "Olivia" in entry.actor
    # Leaving fields empty keeps them.
    tenant = (
        await world.identity(
            "UpdateTenant", pb.UpdateTenantRequest(time_zone="Asia/Tokyo"), world.staff(world.owner)
        )
    ).tenant
    assert tenant.display_name == "Acme Cinema" and tenant.branding.logo_url.startswith("https")
    assert tenant.time_zone == "Asia/Tokyo"


async def test_unsafe_branding_is_refused_with_the_field_named(world: World):
    for branding, field in (
        (pb.Branding(logo_url="javascript:alert(1)"), "logo_url"),
        (pb.Branding(splash_image_url="//evil.example/x.png"), "splash_image_url"),
        (pb.Branding(accent_color="red"), "accent_color"),
        (pb.Branding(support_email="not an email"), "support_email"),
    ):
        err = await world.identity.fails(
            grpc.StatusCode.INVALID_ARGUMENT,
            "UpdateTenant",
            pb.UpdateTenantRequest(branding=branding),
            world.staff(world.owner),
        )
        assert error_detail(err).field_violations[0].field == field


async def test_only_owners_and_admins_change_the_tenant_or_read_the_audit_log(world: World):
    for user in (world.pm, world.technician):
        await world.identity.fails(
            DENIED, "UpdateTenant", pb.UpdateTenantRequest(display_name="X"), world.staff(user)
        )
        await world.identity.fails(
            DENIED, "ListAuditEntries", pb.ListAuditEntriesRequest(), world.staff(user)
        )


async def test_staff_list_and_customer_administration(world: World):
    users = (
        await world.identity("ListStaffUsers", pb.ListStaffUsersRequest(), world.staff(world.pm))
    ).users
    assert [u.full_name for u in users] == ["Olivia", "Pat", "Terry"]

    renamed = (
        await world.identity(
            "UpdateCustomer",
            pb.UpdateCustomerRequest(customer_id=world.customer.id, name="  Harrison Home "),
            world.staff(world.pm),
        )
    ).customer
    assert renamed.name == "Harrison Home" and len(renamed.contacts) == 2

    request = pb.AddContactRequest(
        request_id="add-1",
        customer_id=world.customer.id,
        contact=pb.NewContact(
            email="lucy@harrison.example", full_name="Lucy", role=pb.CONTACT_ROLE_VIEWER
        ),
    )
    first = (await world.identity("AddContact", request, world.staff(world.pm))).contact
    again = (await world.identity("AddContact", request, world.staff(world.pm))).contact
    assert first.id == again.id and first.role == pb.CONTACT_ROLE_VIEWER
    duplicate = pb.AddContactRequest(
        request_id="add-2", customer_id=world.customer.id, contact=request.contact
    )
    duplicate.contact.email = "LUCY@harrison.example"
    await world.identity.fails(
        grpc.StatusCode.ALREADY_EXISTS, "AddContact", duplicate, world.staff(world.pm)
    )
    await world.identity.fails(DENIED, "AddContact", request, world.staff(world.technician))
    assert len((await world.get_customer()).contacts) == 3


async def test_a_client_sees_only_their_own_customer_and_no_lists(world: World, identity):
    opened = await world.invite_and_set_password(world.approver)
    me = world.person(opened.session)
    own = await world.identity(
        "GetCustomer", pb.GetCustomerRequest(customer_id=world.customer.id), me
    )
    assert own.customer.id == world.customer.id
    other = await new_world(identity)
    await world.identity.fails(
        grpc.StatusCode.NOT_FOUND,
        "GetCustomer",
        pb.GetCustomerRequest(customer_id=other.customer.id),
        me,
    )
    await world.identity.fails(DENIED, "ListCustomers", pb.ListCustomersRequest(), me)
    await world.identity.fails(DENIED, "ListStaffUsers", pb.ListStaffUsersRequest(), me)


async def test_revoking_an_api_token_is_audited(world: World):
    issued = await world.identity(
        "IssueApiToken",
        pb.IssueApiTokenRequest(user_id=world.pm.id, name="laptop"),
        world.staff(world.owner),
    )
    await world.identity(
        "RevokeApiToken",
        pb.RevokeApiTokenRequest(token_id=issued.token.id),
        world.staff(world.owner),
    )
    entry = (await world.audit())[0]
    assert entry.action == "api_token.revoked" and "laptop" in entry.detail
    assert issued.secret not in entry.detail


async def test_only_the_platform_sets_initial_passwords(world: World):
    staff = await world.identity(
        "CreateStaffUser",
        pb.CreateStaffUserRequest(
            email=f"fin@{world.tenant.slug}.example",
            full_name="Fin",
            roles=[pb.STAFF_ROLE_FINANCE],
            initial_password="seeded passphrase 1",
        ),
        world.platform,
    )
    assert (await world.sign_in(staff.user.email, "seeded passphrase 1")).session.token
    added = await world.identity(
        "AddContact",
        pb.AddContactRequest(
            customer_id=world.customer.id,
            contact=pb.NewContact(
                email="seeded@harrison.example",
                full_name="Seeded",
                role=pb.CONTACT_ROLE_VIEWER,
                initial_password="seeded passphrase 2",
            ),
        ),
        world.platform,
    )
    assert added.contact.has_password
    assert await world.sign_in("seeded@harrison.example", "seeded passphrase 2")

    await world.identity.fails(
        DENIED,
        "CreateStaffUser",
        pb.CreateStaffUserRequest(
            email=f"x@{world.tenant.slug}.example",
            full_name="X",
            roles=[pb.STAFF_ROLE_ADMIN],
            initial_password="an owner's choice",
        ),
        world.staff(world.owner),
    )
    err = await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "CreateCustomer",
        pb.CreateCustomerRequest(
            name="Weak",
            contacts=[
                pb.NewContact(
                    email="weak@weak.example",
                    full_name="W",
                    role=pb.CONTACT_ROLE_VIEWER,
                    initial_password="short",
                )
            ],
        ),
        world.platform,
    )
    assert error_detail(err).field_violations[0].field == "contacts[0].initial_password"


async def test_an_api_token_request_id_is_the_tenants_own(world: World, identity):
    """The idempotency key is scoped to the tenant: another integrator using the
    same request id gets its own token, while a repeat in one tenant is refused
    (the first answer held the only copy of the secret)."""
    other = await new_world(identity)
    request = pb.IssueApiTokenRequest(request_id="setup-script-1", user_id=world.pm.id, name="ci")
    mine = await world.identity("IssueApiToken", request, world.staff(world.owner))
    theirs = await other.identity(
        "IssueApiToken",
        pb.IssueApiTokenRequest(request_id="setup-script-1", user_id=other.pm.id, name="ci"),
        other.staff(other.owner),
    )
    assert mine.token.id != theirs.token.id and mine.secret != theirs.secret
    await world.identity.fails(
        grpc.StatusCode.ALREADY_EXISTS, "IssueApiToken", request, world.staff(world.owner)
    )


async def test_a_new_staff_user_is_announced_with_their_roles(world: World):
    made = await world.identity(
        "CreateStaffUser",
        pb.CreateStaffUserRequest(
            email=f"tech@{world.tenant.slug}.example",
            full_name="Tom Technician",
            roles=[pb.STAFF_ROLE_TECHNICIAN],
        ),
        world.staff(world.owner),
    )
    announced = [
        e
        for e in await world.identity.events(world.tenant.id, events_pb2.StaffUserChanged)
        if e.staff_user_id == made.user.id
    ]
    # Bookings learns its technicians from this: one event, with the roles.
    assert len(announced) == 1
    assert announced[0].full_name == "Tom Technician"
    assert list(announced[0].roles) == ["technician"]
    assert announced[0].email == made.user.email
