"""OnboardTenant on the real server and database: one call makes the tenant,
its owner and the owner's invitation; a retry answers what the first made; the
owner's link sets a password and opens a staff session."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.auth import Principal
from services.chassis.grpc_client import error_detail
from tests.identity.conftest import PASSWORD, Identity, new_world

PLATFORM = Principal(kind="platform", subject="operator")


def onboarding(slug: str, **kw) -> pb.OnboardTenantRequest:
    fields = {
        "slug": slug,
        "display_name": "Brightwave Audio Visual",
        "owner_email": f"sam.okafor@{slug}.example",
    }
    return pb.OnboardTenantRequest(**(fields | kw))


def new_slug() -> str:
    return f"o{uuid.uuid4().hex[:10]}"


async def test_onboarding_makes_the_tenant_its_owner_and_the_invitation(identity: Identity):
    slug = new_slug()
    answer = await identity("OnboardTenant", onboarding(slug, time_zone="Europe/London"), PLATFORM)
    assert answer.created and answer.invite_expires_at.seconds > 0
    tenant = answer.tenant
    assert (tenant.slug, tenant.display_name) == (slug, "Brightwave Audio Visual")
    assert (tenant.time_zone, tenant.currency) == ("Europe/London", "USD")
    assert tenant.branding.accent_color == "#1f6feb"  # the default colour, not blank
    assert list(answer.owner.roles) == [pb.STAFF_ROLE_OWNER]
    assert answer.owner.full_name == "Sam Okafor"
    # The host resolves at once.
    found = await identity("GetTenantBySlug", pb.GetTenantBySlugRequest(slug=slug), PLATFORM)
    assert found.tenant.id == tenant.id

    (invited,) = await identity.events(tenant.id, events_pb2.StaffUserInvited)
    assert invited.staff_user_id == answer.owner.id and invited.email == answer.owner.email
    assert invited.full_name == "Sam Okafor" and invited.token
    assert invited.expires_at == answer.invite_expires_at
    rows = await identity.sql(
        tenant.id, "SELECT action, actor, detail FROM audit_entry WHERE action = 'tenant.onboarded'"
    )
    assert len(rows) == 1 and rows[0].actor == "platform" and slug in rows[0].detail


async def test_the_owner_follows_the_invite_into_a_staff_session(identity: Identity):
    answer = await identity("OnboardTenant", onboarding(new_slug()), PLATFORM)
    tenant = answer.tenant
    gateway = Principal(kind="service", subject="gateway", tenant_id=tenant.id)
    (invited,) = await identity.events(tenant.id, events_pb2.StaffUserInvited)
    info = await identity(
        "InspectLoginToken", pb.InspectLoginTokenRequest(token=invited.token), gateway
    )
    assert info.purpose == pb.LOGIN_TOKEN_PURPOSE_INVITE
    assert info.kind == pb.PRINCIPAL_KIND_STAFF and info.email == answer.owner.email
    # No password until the owner chooses one.
    await identity.fails(
        grpc.StatusCode.UNAUTHENTICATED,
        "SignIn",
        pb.SignInRequest(email=answer.owner.email, password=PASSWORD),
        gateway,
    )
    opened = await identity(
        "RedeemLoginToken",
        pb.RedeemLoginTokenRequest(token=invited.token, new_password=PASSWORD),
        gateway,
    )
    session = opened.session.session
    assert session.kind == pb.PRINCIPAL_KIND_STAFF and session.subject_id == answer.owner.id
    assert list(session.roles) == ["owner"]
    signed_in = await identity(
        "SignIn", pb.SignInRequest(email=answer.owner.email, password=PASSWORD), gateway
    )
    assert signed_in.session.session.subject_id == answer.owner.id


async def test_a_retry_answers_the_tenant_made_and_sends_nothing_more(identity: Identity):
    slug = new_slug()
    first = await identity("OnboardTenant", onboarding(slug), PLATFORM)
    again = await identity(
        "OnboardTenant",
        onboarding(slug, owner_email=f"SAM.OKAFOR@{slug.upper()}.EXAMPLE", display_name="Other"),
        PLATFORM,
    )
    assert not again.created and not again.HasField("invite_expires_at")
    assert again.tenant.id == first.tenant.id and again.owner.id == first.owner.id
    assert again.tenant.display_name == "Brightwave Audio Visual"  # the first one's, unchanged
    assert len(await identity.events(first.tenant.id, events_pb2.StaffUserInvited)) == 1
    (onboarded,) = await identity.events(first.tenant.id, events_pb2.TenantOnboarded)
    assert (onboarded.tenant_id, onboarded.slug) == (first.tenant.id, slug)  # once, for payments


async def test_a_created_tenant_is_announced_once_too(identity: Identity):
    slug = new_slug()
    made = await identity(
        "CreateTenant", pb.CreateTenantRequest(slug=slug, display_name="Acme AV"), PLATFORM
    )
    (onboarded,) = await identity.events(made.tenant.id, events_pb2.TenantOnboarded)
    assert (onboarded.slug, onboarded.display_name) == (slug, "Acme AV")


async def test_two_identical_onboardings_at_once_make_one_tenant(identity: Identity):
    slug = new_slug()
    answers = await asyncio.gather(
        *(identity("OnboardTenant", onboarding(slug), PLATFORM) for _ in range(4))
    )
    assert sorted(a.created for a in answers) == [False, False, False, True]
    assert len({a.tenant.id for a in answers}) == 1
    assert len(await identity.events(answers[0].tenant.id, events_pb2.StaffUserInvited)) == 1


async def test_a_taken_slug_with_another_owner_is_already_exists(identity: Identity):
    slug = new_slug()
    await identity("OnboardTenant", onboarding(slug), PLATFORM)
    err = await identity.fails(
        grpc.StatusCode.ALREADY_EXISTS,
        "OnboardTenant",
        onboarding(slug, owner_email="mallory@evil.example"),
        PLATFORM,
    )
    assert error_detail(err).field_violations[0].field == "slug"
    assert "sam" not in err.details().lower()  # nothing about who owns it
    # The seed's kind of tenant (CreateTenant, staff added later) counts too.
    world = await new_world(identity)
    await identity.fails(
        grpc.StatusCode.ALREADY_EXISTS,
        "OnboardTenant",
        onboarding(world.tenant.slug),
        PLATFORM,
    )
    # ...and is a retry for its own owner.
    again = await identity(
        "OnboardTenant", onboarding(world.tenant.slug, owner_email=world.owner.email), PLATFORM
    )
    assert not again.created and again.owner.id == world.owner.id


async def test_bad_requests_name_the_field_and_nothing_is_made(identity: Identity):
    for request, field in (
        (onboarding("platform"), "slug"),
        (onboarding("Bad_Slug"), "slug"),
        (onboarding(new_slug(), owner_email="nobody"), "owner_email"),
        (onboarding(new_slug(), display_name=""), "display_name"),
        (onboarding(new_slug(), currency="euros"), "currency"),
        (onboarding(new_slug(), branding=pb.Branding(accent_color="red")), "accent_color"),
    ):
        err = await identity.fails(
            grpc.StatusCode.INVALID_ARGUMENT, "OnboardTenant", request, PLATFORM
        )
        assert error_detail(err).field_violations[0].field == field
        await identity.fails(
            grpc.StatusCode.NOT_FOUND,
            "GetTenantBySlug",
            pb.GetTenantBySlugRequest(slug=request.slug),
            PLATFORM,
        )


async def test_only_the_platform_onboards(identity: Identity):
    world = await new_world(identity)
    for principal in (world.staff(world.owner), world.gateway):
        await identity.fails(
            grpc.StatusCode.PERMISSION_DENIED, "OnboardTenant", onboarding(new_slug()), principal
        )
