"""Server-side sessions: resolving, listing, revoking, and ending them at once."""

from __future__ import annotations

import grpc
from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb

from tests.identity.conftest import PASSWORD, World, new_world

UNAUTH = grpc.StatusCode.UNAUTHENTICATED


async def client_session(world: World, contact: pb.Contact | None = None) -> pb.NewSession:
    contact = contact or world.approver
    rows = await world.identity.sql(
        world.tenant_id, "SELECT password_hash FROM contact WHERE id = :id", id=contact.id
    )
    if rows[0].password_hash is None:
        return await world.invite_and_set_password(contact)  # redeeming signs in
    return (await world.sign_in(contact.email)).session


async def refused(world: World, token: str) -> grpc.aio.AioRpcError:
    return await world.identity.fails(
        UNAUTH, "ResolveSession", pb.ResolveSessionRequest(token=token), world.gateway
    )


async def test_another_tenants_session_token_is_refused(world: World, identity):
    other = await new_world(identity)
    opened = await client_session(world)
    err = await refused(other, opened.token)
    assert err.details() == "Your session has ended. Sign in again."
    assert (await world.resolve(opened.token)).id == opened.session.id


async def test_a_garbage_or_empty_token_is_refused(world: World):
    for token in ("", "x" * 43, "not-a-token"):
        await refused(world, token)


async def test_sign_out_ends_the_session(world: World):
    opened = await client_session(world)
    principal = world.person(opened.session)
    await world.identity("SignOut", pb.SignOutRequest(token=opened.token), principal)
    await refused(world, opened.token)
    # Signing out again, or with a made-up token, is harmless.
    await world.identity("SignOut", pb.SignOutRequest(token=opened.token), principal)
    await world.identity("SignOut", pb.SignOutRequest(token="nothing"), world.gateway)


async def test_nobody_can_sign_out_someone_elses_session(world: World):
    jane = await client_session(world, world.approver)
    tom = await client_session(world, world.viewer)
    await world.identity("SignOut", pb.SignOutRequest(token=jane.token), world.person(tom.session))
    assert (await world.resolve(jane.token)).subject_id == world.approver.id


async def test_expired_and_idle_sessions_are_refused(world: World):
    expired = await client_session(world)
    idle = (await world.sign_in(world.approver.email)).session
    await world.identity.sql(
        world.tenant_id,
        "UPDATE session SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=expired.session.id,
    )
    # Fourteen days without use ends a client's session, even before its 30 days are up.
    await world.identity.sql(
        world.tenant_id,
        "UPDATE session SET last_seen_at = now() - interval '14 days 1 second' WHERE id = :id",
        id=idle.session.id,
    )
    await refused(world, expired.token)
    await refused(world, idle.token)


async def test_last_seen_is_written_at_most_once_a_minute(world: World):
    opened = await client_session(world)
    await world.identity.sql(
        world.tenant_id,
        "UPDATE session SET last_seen_at = now() - interval '30 seconds' WHERE id = :id",
        id=opened.session.id,
    )
    recent = (await world.resolve(opened.token)).last_seen_at
    assert recent.ToSeconds() < opened.session.last_seen_at.ToSeconds()  # not rewritten
    await world.identity.sql(
        world.tenant_id,
        "UPDATE session SET last_seen_at = now() - interval '2 minutes' WHERE id = :id",
        id=opened.session.id,
    )
    await world.resolve(opened.token)
    again = (await world.resolve(opened.token)).last_seen_at
    assert again.ToSeconds() >= opened.session.last_seen_at.ToSeconds()


async def test_list_sessions_shows_only_my_own_live_sessions_newest_first(world: World):
    first = await client_session(world)
    second = (await world.sign_in(world.approver.email)).session
    await client_session(world, world.viewer)  # someone else's
    me = world.person(second.session)
    listed = (
        await world.identity(
            "ListSessions", pb.ListSessionsRequest(current_session_id=second.session.id), me
        )
    ).sessions
    assert [s.id for s in listed] == [second.session.id, first.session.id]
    assert all(s.subject_id == world.approver.id for s in listed)
    await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "ListSessions",
        pb.ListSessionsRequest(current_session_id=first.session.id),  # not the caller's
        me,
    )


async def test_revoking_someone_elses_session_is_not_found(world: World):
    jane = await client_session(world, world.approver)
    tom = await client_session(world, world.viewer)
    err = await world.identity.fails(
        grpc.StatusCode.NOT_FOUND,
        "RevokeSessions",
        pb.RevokeSessionsRequest(session_id=jane.session.id),
        world.person(tom.session),
    )
    assert err.details() == "no such session"
    assert await world.resolve(jane.token)


async def test_revoke_one_of_my_sessions_or_all_but_the_current(world: World):
    a = await client_session(world)
    b = (await world.sign_in(world.approver.email)).session
    c = (await world.sign_in(world.approver.email)).session
    me = world.person(c.session)
    one = await world.identity(
        "RevokeSessions", pb.RevokeSessionsRequest(session_id=a.session.id), me
    )
    assert one.revoked == 1
    await refused(world, a.token)
    d = (await world.sign_in(world.approver.email)).session
    rest = await world.identity(
        "RevokeSessions",
        pb.RevokeSessionsRequest(current_session_id=c.session.id, all_but_current=True),
        me,
    )
    assert rest.revoked == 2
    for token in (b.token, d.token):
        await refused(world, token)
    assert (await world.resolve(c.token)).id == c.session.id
    await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "RevokeSessions",
        pb.RevokeSessionsRequest(session_id=c.session.id, all_but_current=True),
        me,
    )


async def test_removing_a_contact_ends_their_sessions_at_once(world: World):
    opened = await client_session(world)
    await world.identity(
        "RemoveContact",
        pb.RemoveContactRequest(contact_id=world.approver.id),
        world.staff(world.pm),
    )
    await refused(world, opened.token)
    await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email=world.approver.email, password=PASSWORD),
        world.gateway,
    )
    customer = await world.get_customer()
    assert [c.id for c in customer.contacts] == [world.viewer.id]
    entries = await world.audit()
    assert any(e.action == "contact.removed" and world.approver.id in e.target for e in entries)
    # The address is free again for a new contact.
    added = await world.identity(
        "AddContact",
        pb.AddContactRequest(
            request_id="re-add",
            customer_id=world.customer.id,
            contact=pb.NewContact(
                email=world.approver.email, full_name="Jane H.", role=pb.CONTACT_ROLE_VIEWER
            ),
        ),
        world.staff(world.pm),
    )
    assert added.contact.id != world.approver.id and not added.contact.has_password


async def test_changing_my_password_ends_my_other_sessions_but_keeps_this_one(world: World):
    here = await client_session(world)
    elsewhere = (await world.sign_in(world.approver.email)).session
    me = world.person(here.session)
    err = await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "ChangePassword",
        pb.ChangePasswordRequest(current_password="wrong one!", new_password="another passphrase"),
        me,
    )
    assert err.details() == "Your current password is not right."
    await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "ChangePassword",
        pb.ChangePasswordRequest(current_password=PASSWORD, new_password="aaaaaaaaaaaa"),
        me,
    )
    await world.identity(
        "ChangePassword",
        pb.ChangePasswordRequest(
            current_password=PASSWORD,
            new_password="another passphrase",
            current_session_id=here.session.id,
        ),
        me,
    )
    await refused(world, elsewhere.token)
    assert (await world.resolve(here.token)).id == here.session.id
    assert await world.sign_in(world.approver.email, "another passphrase")


async def test_a_contact_without_a_password_is_told_how_to_set_one(world: World):
    await world.identity(
        "RequestMagicLink",
        pb.RequestMagicLinkRequest(email=world.viewer.email, client_ip=world.client_ip),
        world.gateway,
    )
    link = await world.latest_link(events_pb2.MagicLinkRequested)
    opened = (
        await world.identity(
            "RedeemLoginToken", pb.RedeemLoginTokenRequest(token=link.token), world.gateway
        )
    ).session
    err = await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "ChangePassword",
        pb.ChangePasswordRequest(current_password="", new_password="a fine passphrase"),
        world.person(opened.session),
    )
    assert "Forgot your password" in err.details()
