"""Signing in with email and password, through identity's real gRPC server."""

from __future__ import annotations

import asyncio

import grpc
from portal.identity.v1 import identity_pb2 as pb

from services.identity.passwords import Passwords
from tests.identity.conftest import PASSWORD, World, retry_after

UNAUTH = grpc.StatusCode.UNAUTHENTICATED
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_a_contact_signs_in_with_the_password_they_set(world: World):
    await world.invite_and_set_password(world.approver)
    response = await world.sign_in(world.approver.email.upper())  # addresses are case-blind
    assert not response.totp_required and len(response.session.token) >= 43
    session = response.session.session
    assert session.kind == pb.PRINCIPAL_KIND_CLIENT
    assert (session.subject_id, session.customer_id) == (world.approver.id, world.customer.id)
    assert list(session.roles) == ["approver"] and not session.read_only
    assert session.customer_name == "The Harrison Residence"
    assert session.access_state == pb.ACCESS_STATE_ACTIVE
    assert session.ip == world.client_ip and session.user_agent == "pytest"
    # The token is never stored in clear; it resolves to the same session.
    assert (await world.resolve(response.session.token)).id == session.id
    rows = await world.identity.sql(
        world.tenant_id, "SELECT token_hash FROM session WHERE id = :id", id=session.id
    )
    assert rows[0].token_hash != response.session.token
    contact = await world.find_contact(world.approver.id)
    assert contact.has_password and contact.HasField("last_sign_in_at")


async def test_staff_sign_in_carries_their_roles(world: World):
    _token, session = await world.staff_session(world.pm)
    assert session.kind == pb.PRINCIPAL_KIND_STAFF and list(session.roles) == ["project_manager"]
    assert session.customer_id == "" and not session.read_only and not session.view_as_client
    assert session.expires_at.ToSeconds() - session.created_at.ToSeconds() == 7 * 24 * 3600


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(world: World):
    await world.invite_and_set_password(world.approver)
    wrong = await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email=world.approver.email, password="not the password"),
        world.gateway,
    )
    unknown = await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email="nobody@nowhere.example", password="not the password"),
        world.gateway,
    )
    never_set = await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email=world.viewer.email, password="not the password"),
        world.gateway,
    )
    assert wrong.details() == unknown.details() == never_set.details()
    assert wrong.details() == "The email or password is not right."


async def test_five_failures_lock_an_account_for_everyone_even_with_the_right_password(
    world: World,
):
    await world.invite_and_set_password(world.approver)
    for i in range(5):
        await world.identity.fails(
            UNAUTH,
            "SignIn",
            pb.SignInRequest(
                email=world.approver.email,
                password=f"guess number {i}",
                client=pb.ClientInfo(ip=f"203.0.113.{i}"),  # spread over addresses
            ),
            world.gateway,
        )
    err = await world.identity.fails(
        EXHAUSTED,
        "SignIn",
        pb.SignInRequest(
            email=world.approver.email, password=PASSWORD, client=pb.ClientInfo(ip="192.0.2.9")
        ),
        world.gateway,
    )
    assert "Too many sign-in attempts. Try again in 15 minutes" in err.details()
    assert "sign-in link" in err.details()
    assert 14 * 60 < retry_after(err) <= 15 * 60
    # The viewer of the same customer is not affected.
    await world.invite_and_set_password(world.viewer)
    assert (await world.sign_in(world.viewer.email)).session.token


async def test_an_unknown_email_is_throttled_exactly_like_a_real_one(world: World):
    await world.invite_and_set_password(world.approver)
    answers = {}
    for email in (world.approver.email, f"ghost@{world.tenant.slug}-home.example"):
        for i in range(5):
            await world.identity.fails(
                UNAUTH,
                "SignIn",
                pb.SignInRequest(email=email, password=f"wrong {i}"),
                world.gateway,
            )
        err = await world.identity.fails(
            EXHAUSTED, "SignIn", pb.SignInRequest(email=email, password=PASSWORD), world.gateway
        )
        answers[email] = (err.code(), err.details())
    first, second = answers.values()
    assert first == second


async def test_one_address_trying_many_accounts_is_throttled(world: World):
    ip = pb.ClientInfo(ip="203.0.113.77")
    for i in range(30):
        await world.identity.fails(
            UNAUTH,
            "SignIn",
            pb.SignInRequest(email=f"user{i}@spray.example", password="Winter2025!", client=ip),
            world.gateway,
        )
    await world.identity.fails(
        EXHAUSTED,
        "SignIn",
        pb.SignInRequest(email="user99@spray.example", password="Winter2025!", client=ip),
        world.gateway,
    )


async def test_a_deleted_customers_contact_learns_the_portal_is_closed_only_with_the_password(
    world: World,
):
    await world.invite_and_set_password(world.approver)
    await world.change_access(pb.ACCESS_STATE_DELETED)
    wrong = await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email=world.approver.email, password="a wrong password"),
        world.gateway,
    )
    assert wrong.details() == "The email or password is not right."
    right = await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email=world.approver.email, password=PASSWORD),
        world.gateway,
    )
    assert right.details() == (
        f"Your access to this portal has been closed. Contact {world.tenant.display_name}."
    )


async def test_an_archived_customers_contact_signs_in_read_only(world: World):
    await world.invite_and_set_password(world.approver)
    await world.change_access(pb.ACCESS_STATE_ARCHIVED)
    session = (await world.sign_in(world.approver.email)).session.session
    assert session.read_only and session.access_state == pb.ACCESS_STATE_ARCHIVED


async def test_a_hash_made_with_older_parameters_is_upgraded_at_sign_in(world: World):
    weak = await Passwords(time_cost=1, memory_cost=8192).hash(PASSWORD)
    await world.identity.sql(
        world.tenant_id,
        "UPDATE contact SET password_hash = :h WHERE id = :id",
        h=weak,
        id=world.approver.id,
    )
    await world.sign_in(world.approver.email)
    rows = await world.identity.sql(
        world.tenant_id, "SELECT password_hash FROM contact WHERE id = :id", id=world.approver.id
    )
    assert rows[0].password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert (await world.sign_in(world.approver.email)).session.token


async def test_sign_in_is_only_for_the_gateway(world: World):
    await world.identity.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "SignIn",
        pb.SignInRequest(email=world.approver.email, password=PASSWORD),
        world.staff(world.owner),
    )


async def test_concurrent_sign_ins_each_get_their_own_session(world: World):
    await world.invite_and_set_password(world.approver)
    results = await asyncio.gather(*(world.sign_in(world.approver.email) for _ in range(4)))
    assert len({r.session.session.id for r in results}) == 4


async def test_forty_concurrent_guesses_at_one_account_get_exactly_five_password_checks(
    world: World,
):
    await world.invite_and_set_password(world.approver)
    checked = world.identity.passwords.verified
    results = await asyncio.gather(
        *(
            world.identity(
                "SignIn",
                pb.SignInRequest(
                    email=world.approver.email,
                    password=f"guess {i}",
                    client=pb.ClientInfo(ip=f"203.0.113.{i + 1}"),  # a botnet: one guess each
                ),
                world.gateway,
            )
            for i in range(40)
        ),
        return_exceptions=True,
    )
    codes = [r.code() for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(codes) == 40
    assert (codes.count(UNAUTH), codes.count(EXHAUSTED)) == (5, 35)
    assert world.identity.passwords.verified - checked == 5  # argon2 ran five times, not 40
    refused = [r for r in results if r.code() == EXHAUSTED]  # type: ignore[union-attr]
    assert all(0 < retry_after(r) <= 15 * 60 for r in refused)
    rows = await world.identity.sql(world.tenant_id, "SELECT count(*) AS n FROM login_failure")
    assert rows[0].n == 5
    # The right password, after the limit, is refused too, and is not checked either.
    await world.identity.fails(
        EXHAUSTED,
        "SignIn",
        pb.SignInRequest(email=world.approver.email, password=PASSWORD),
        world.gateway,
    )
    assert world.identity.passwords.verified - checked == 5


async def test_a_right_password_gives_back_the_attempt_it_reserved(world: World):
    await world.invite_and_set_password(world.approver)

    async def wrong() -> grpc.aio.AioRpcError:
        return await world.identity.fails(
            UNAUTH,
            "SignIn",
            pb.SignInRequest(email=world.approver.email, password="not it", client=world.client()),
            world.gateway,
        )

    for _ in range(4):
        await wrong()
    assert (await world.sign_in(world.approver.email)).session.token
    await wrong()  # the fifth failure: the sign-in in between did not use up a place
    err = await world.identity.fails(
        EXHAUSTED,
        "SignIn",
        pb.SignInRequest(email=world.approver.email, password=PASSWORD),
        world.gateway,
    )
    assert "Too many sign-in attempts" in err.details()
    rows = await world.identity.sql(world.tenant_id, "SELECT count(*) AS n FROM login_failure")
    assert rows[0].n == 5
