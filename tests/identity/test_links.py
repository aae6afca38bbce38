"""One-time links: magic links, invites, password resets."""

from __future__ import annotations

import asyncio
import time

import grpc
from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb

from tests.identity.conftest import PASSWORD, World, new_world, retry_after

UNAUTH = grpc.StatusCode.UNAUTHENTICATED
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
SPENT = "This link has expired or was already used. Ask for a new one."


async def request_magic_link(world: World, email: str, ip: str | None = None):
    return await world.identity(
        "RequestMagicLink",
        pb.RequestMagicLinkRequest(email=email, client_ip=ip or world.client_ip),
        world.gateway,
    )


async def magic_links(world: World) -> list[events_pb2.MagicLinkRequested]:
    return await world.identity.events(world.tenant_id, events_pb2.MagicLinkRequested)


async def redeem(world: World, token: str, new_password: str = "") -> pb.NewSession:
    return (
        await world.identity(
            "RedeemLoginToken",
            pb.RedeemLoginTokenRequest(
                token=token, new_password=new_password, client=world.client()
            ),
            world.gateway,
        )
    ).session


async def test_magic_link_answers_the_same_for_anyone_and_mails_only_a_real_contact(world: World):
    real = await request_magic_link(world, world.approver.email)
    unknown = await request_magic_link(world, f"nobody@{world.tenant.slug}.example")
    staff = await request_magic_link(world, world.owner.email)  # links are for clients
    assert real == unknown == staff == pb.RequestMagicLinkResponse()
    links = await magic_links(world)
    assert [(m.email, m.full_name) for m in links] == [(world.approver.email, "Jane Harrison")]
    link = links[0]
    assert len(link.token) >= 43  # the token travels to the mailer inside the event
    rows = await world.identity.sql(
        world.tenant_id, "SELECT token_hash, expires_at, created_at FROM login_token"
    )
    assert len(rows) == 1 and rows[0].token_hash != link.token  # only the hash is kept
    assert (rows[0].expires_at - rows[0].created_at).total_seconds() == 15 * 60


CAPPED = "no more will be sent to it for about"


async def test_past_five_links_an_hour_an_address_hears_plainly_that_no_more_are_coming(
    world: World,
):
    unknown = f"nobody@{world.tenant.slug}.example"
    answers = {}
    for email in (world.approver.email, unknown):
        for i in range(5):  # from different places: the cap is the address's
            assert await request_magic_link(world, email, ip=f"192.0.2.{i + 1}") == (
                pb.RequestMagicLinkResponse()
            )
        err = await world.identity.fails(
            EXHAUSTED,
            "RequestMagicLink",
            pb.RequestMagicLinkRequest(email=email.upper(), client_ip="192.0.2.99"),
            world.gateway,
        )
        answers[email] = (err.details(), retry_after(err))
    (known_says, known_wait), (unknown_says, unknown_wait) = answers.values()
    # Registered or not, the same words and (to the second or so) the same wait.
    assert known_says == unknown_says and CAPPED in known_says
    assert "about 60 minutes" in known_says
    assert 59 * 60 < known_wait <= 3600 and abs(known_wait - unknown_wait) <= 2
    assert len(await magic_links(world)) == 5  # and it is true: no sixth link went out
    # A reset for the same address shares the cap: it is one inbox.
    err = await world.identity.fails(
        EXHAUSTED,
        "RequestPasswordReset",
        pb.RequestPasswordResetRequest(email=world.approver.email, client_ip="192.0.2.98"),
        world.gateway,
    )
    assert err.details() == known_says


async def test_one_client_address_asking_for_many_addresses_is_capped_at_twenty(world: World):
    for i in range(20):
        await request_magic_link(world, f"someone{i}@probe.example", ip="192.0.2.50")
    err = await world.identity.fails(
        EXHAUSTED,
        "RequestMagicLink",
        pb.RequestMagicLinkRequest(email=world.approver.email, client_ip="192.0.2.50"),
        world.gateway,
    )
    assert err.details().startswith("Many links have been asked for from your network")
    assert retry_after(err) > 59 * 60
    assert await magic_links(world) == []
    await request_magic_link(world, world.approver.email, ip="192.0.2.51")
    assert len(await magic_links(world)) == 1


async def test_concurrent_link_requests_for_one_address_cannot_pass_the_cap(world: World):
    results = await asyncio.gather(
        *(request_magic_link(world, world.approver.email, ip=f"192.0.2.{i}") for i in range(20)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(refused) == 15 and {r.code() for r in refused} == {EXHAUSTED}
    rows = await world.identity.sql(world.tenant_id, "SELECT count(*) AS n FROM link_request")
    assert rows[0].n == 5
    assert len(await magic_links(world)) == 5


async def test_a_newer_magic_link_replaces_the_older_one(world: World):
    await request_magic_link(world, world.approver.email)
    await request_magic_link(world, world.approver.email)
    first, second = await magic_links(world)
    await world.identity.fails(
        UNAUTH, "RedeemLoginToken", pb.RedeemLoginTokenRequest(token=first.token), world.gateway
    )
    assert (await redeem(world, second.token)).session.subject_id == world.approver.id


async def test_inspecting_a_link_does_not_spend_it(world: World):
    await request_magic_link(world, world.approver.email)
    (link,) = await magic_links(world)
    for _ in range(2):  # a mail scanner's GET, then the person's
        info = await world.identity(
            "InspectLoginToken", pb.InspectLoginTokenRequest(token=link.token), world.gateway
        )
        assert info.purpose == pb.LOGIN_TOKEN_PURPOSE_MAGIC_LINK
        assert (info.email, info.full_name) == (world.approver.email, "Jane Harrison")
        assert info.expires_at == link.expires_at
    session = await redeem(world, link.token)
    assert session.session.kind == pb.PRINCIPAL_KIND_CLIENT


async def test_a_link_is_spent_once_even_by_two_concurrent_redeems(world: World):
    await request_magic_link(world, world.approver.email)
    (link,) = await magic_links(world)
    results = await asyncio.gather(
        redeem(world, link.token), redeem(world, link.token), return_exceptions=True
    )
    opened = [r for r in results if isinstance(r, pb.NewSession)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(opened) == 1 and len(refused) == 1
    assert refused[0].code() == UNAUTH and refused[0].details() == SPENT
    rows = await world.identity.sql(
        world.tenant_id,
        "SELECT count(*) AS n FROM session WHERE subject_id = :s",
        s=world.approver.id,
    )
    assert rows[0].n == 1
    # ... and a third try, later, is refused too.
    err = await world.identity.fails(
        UNAUTH, "RedeemLoginToken", pb.RedeemLoginTokenRequest(token=link.token), world.gateway
    )
    assert err.details() == SPENT


async def test_an_expired_link_is_refused_with_a_message_a_person_can_act_on(world: World):
    await request_magic_link(world, world.approver.email)
    (link,) = await magic_links(world)
    await world.identity.sql(
        world.tenant_id, "UPDATE login_token SET expires_at = now() - interval '1 second'"
    )
    for method, request in (
        ("InspectLoginToken", pb.InspectLoginTokenRequest(token=link.token)),
        ("RedeemLoginToken", pb.RedeemLoginTokenRequest(token=link.token)),
    ):
        err = await world.identity.fails(UNAUTH, method, request, world.gateway)
        assert err.details() == SPENT
    err = await world.identity.fails(
        UNAUTH, "RedeemLoginToken", pb.RedeemLoginTokenRequest(token="made-up"), world.gateway
    )
    assert err.details() == SPENT


async def test_another_tenants_link_is_not_found(world: World, identity):
    other = await new_world(identity)
    await request_magic_link(world, world.approver.email)
    (link,) = await magic_links(world)
    await other.identity.fails(
        UNAUTH, "InspectLoginToken", pb.InspectLoginTokenRequest(token=link.token), other.gateway
    )
    await other.identity.fails(
        UNAUTH, "RedeemLoginToken", pb.RedeemLoginTokenRequest(token=link.token), other.gateway
    )
    assert await redeem(world, link.token)  # still unspent in its own tenant


async def test_invite_then_set_a_password_then_sign_in_with_it(world: World):
    response = await world.identity(
        "InviteContact", pb.InviteContactRequest(contact_id=world.viewer.id), world.staff(world.pm)
    )
    invite = await world.latest_link(events_pb2.ContactInvited)
    assert (invite.contact_id, invite.customer_id) == (world.viewer.id, world.customer.id)
    assert invite.invited_by == "Pat" and invite.expires_at == response.expires_at
    assert invite.expires_at.ToSeconds() - int(time.time()) > 7 * 24 * 3600 - 60
    contact = await world.find_contact(world.viewer.id)
    assert contact.HasField("invited_at") and not contact.has_password

    info = await world.identity(
        "InspectLoginToken", pb.InspectLoginTokenRequest(token=invite.token), world.gateway
    )
    assert info.purpose == pb.LOGIN_TOKEN_PURPOSE_INVITE and info.full_name == "Tom Harrison"
    # A password the policy refuses leaves the invite usable.
    err = await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "RedeemLoginToken",
        pb.RedeemLoginTokenRequest(token=invite.token, new_password="short"),
        world.gateway,
    )
    assert "at least 10 characters" in err.details()
    await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "RedeemLoginToken",
        pb.RedeemLoginTokenRequest(token=invite.token, new_password=world.viewer.email),
        world.gateway,
    )
    session = await redeem(world, invite.token, new_password=PASSWORD)
    assert session.session.subject_id == world.viewer.id
    assert (await world.find_contact(world.viewer.id)).has_password
    signed_in = await world.sign_in(world.viewer.email)
    assert signed_in.session.session.subject_id == world.viewer.id


async def test_invites_need_a_project_manager_and_a_writable_principal(world: World):
    request = pb.InviteContactRequest(contact_id=world.viewer.id)
    await world.identity.fails(
        grpc.StatusCode.PERMISSION_DENIED, "InviteContact", request, world.staff(world.technician)
    )
    _, session = await world.staff_session(world.pm)
    viewing = await world.identity(
        "StartViewAsClient",
        pb.StartViewAsClientRequest(customer_id=world.customer.id),
        world.staff(world.pm, session),
    )
    await world.identity.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "InviteContact",
        request,
        world.person(viewing.session),
    )


async def test_an_archived_or_deleted_customers_contact_cannot_be_invited(world: World):
    request = pb.InviteContactRequest(contact_id=world.viewer.id)
    await world.change_access(pb.ACCESS_STATE_ARCHIVED)
    err = await world.identity.fails(
        grpc.StatusCode.FAILED_PRECONDITION, "InviteContact", request, world.staff(world.pm)
    )
    assert "archived" in err.details() and "restore" in err.details()
    await world.change_access(pb.ACCESS_STATE_DELETED)
    err = await world.identity.fails(
        grpc.StatusCode.FAILED_PRECONDITION, "InviteContact", request, world.staff(world.pm)
    )
    assert "deleted" in err.details()


async def test_a_password_reset_ends_every_other_session_at_once(world: World):
    await world.invite_and_set_password(world.approver)
    phone = (await world.sign_in(world.approver.email)).session.token
    laptop = (await world.sign_in(world.approver.email)).session.token
    assert (await world.resolve(phone)).subject_id == world.approver.id

    for email in (world.approver.email, f"nobody@{world.tenant.slug}.example"):
        assert (
            await world.identity(
                "RequestPasswordReset",
                pb.RequestPasswordResetRequest(email=email, client_ip=world.client_ip),
                world.gateway,
            )
            == pb.RequestPasswordResetResponse()
        )
    resets = await world.identity.events(world.tenant_id, events_pb2.PasswordResetRequested)
    assert [r.email for r in resets] == [world.approver.email]
    await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "RedeemLoginToken",
        pb.RedeemLoginTokenRequest(token=resets[0].token),  # a reset needs the new password
        world.gateway,
    )
    fresh = await redeem(world, resets[0].token, new_password="a brand new passphrase")
    for token in (phone, laptop):
        await world.identity.fails(
            UNAUTH, "ResolveSession", pb.ResolveSessionRequest(token=token), world.gateway
        )
    assert (await world.resolve(fresh.token)).subject_id == world.approver.id
    await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email=world.approver.email, password=PASSWORD),
        world.gateway,
    )
    assert await world.sign_in(world.approver.email, "a brand new passphrase")


async def test_a_removed_contact_gets_no_links_and_old_links_stop_working(world: World):
    await request_magic_link(world, world.approver.email)
    (link,) = await magic_links(world)
    await world.identity(
        "RemoveContact",
        pb.RemoveContactRequest(contact_id=world.approver.id),
        world.staff(world.pm),
    )
    await world.identity.fails(
        UNAUTH, "RedeemLoginToken", pb.RedeemLoginTokenRequest(token=link.token), world.gateway
    )
    await request_magic_link(world, world.approver.email)
    assert len(await magic_links(world)) == 1
