"""Staff viewing a client's portal (read-only, audited) and two-step verification."""

from __future__ import annotations

import time

import grpc
import pyotp
from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb

from tests.identity.conftest import PASSWORD, World

UNAUTH = grpc.StatusCode.UNAUTHENTICATED


async def test_viewing_as_a_client_is_read_only_and_audited(world: World):
    token, session = await world.staff_session(world.pm)
    me = world.staff(world.pm, session)
    started = (
        await world.identity(
            "StartViewAsClient",
            pb.StartViewAsClientRequest(
                current_session_id=session.id, customer_id=world.customer.id
            ),
            me,
        )
    ).session
    resolved = await world.resolve(token)
    for s in (started, resolved):
        assert s.kind == pb.PRINCIPAL_KIND_STAFF and s.subject_id == world.pm.id
        assert s.view_as_client and s.read_only
        assert (s.customer_id, s.customer_name) == (world.customer.id, "The Harrison Residence")
        assert list(s.roles) == ["project_manager"]
    # The gateway now mints a read-only principal: changes are refused.
    viewing = world.person(resolved)
    await world.identity.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "ChangeCustomerAccess",
        pb.ChangeCustomerAccessRequest(customer_id=world.customer.id, to=pb.ACCESS_STATE_ARCHIVED),
        viewing,
    )
    (entry,) = [e for e in await world.audit() if e.action == "view_as.started"]
    assert entry.detail == "viewed portal as The Harrison Residence"
    assert "Pat" in entry.actor and world.pm.id in entry.actor
    assert entry.target == f"customer:{world.customer.id}"

    stopped = (
        await world.identity("StopViewAsClient", pb.StopViewAsClientRequest(), viewing)
    ).session
    assert not stopped.view_as_client and not stopped.read_only and stopped.customer_id == ""
    assert not (await world.resolve(token)).view_as_client
    assert "view_as.stopped" in [e.action for e in await world.audit()]


async def test_view_as_needs_the_right_role_and_an_open_portal(world: World):
    _, tech_session = await world.staff_session(world.technician)
    await world.identity.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "StartViewAsClient",
        pb.StartViewAsClientRequest(customer_id=world.customer.id),
        world.staff(world.technician, tech_session),
    )
    _, session = await world.staff_session(world.owner)
    owner = world.staff(world.owner, session)
    await world.change_access(pb.ACCESS_STATE_DELETED)
    err = await world.identity.fails(
        grpc.StatusCode.FAILED_PRECONDITION,
        "StartViewAsClient",
        pb.StartViewAsClientRequest(customer_id=world.customer.id),
        owner,
    )
    assert "restore" in err.details()
    # Someone else's session id cannot be switched.
    await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "StartViewAsClient",
        pb.StartViewAsClientRequest(
            current_session_id=tech_session.id, customer_id=world.customer.id
        ),
        owner,
    )


async def test_deleting_a_customer_sends_staff_viewing_it_back_to_their_own_view(world: World):
    token, session = await world.staff_session(world.owner)
    await world.identity(
        "StartViewAsClient",
        pb.StartViewAsClientRequest(customer_id=world.customer.id),
        world.staff(world.owner, session),
    )
    await world.change_access(pb.ACCESS_STATE_DELETED)
    resolved = await world.resolve(token)
    assert not resolved.view_as_client and not resolved.read_only


async def enroll(world: World, user: pb.StaffUser) -> tuple[pyotp.TOTP, list[str]]:
    _, session = await world.staff_session(user)
    me = world.staff(user, session)
    begun = await world.identity("BeginTotpEnrollment", pb.BeginTotpEnrollmentRequest(), me)
    assert begun.otpauth_uri.startswith("otpauth://totp/") and begun.secret in begun.otpauth_uri
    totp = pyotp.TOTP(begun.secret)
    # Not on until a code from the new secret is confirmed.
    assert not (await world.sign_in(user.email)).totp_required
    await world.identity.fails(
        grpc.StatusCode.INVALID_ARGUMENT,
        "ConfirmTotpEnrollment",
        pb.ConfirmTotpEnrollmentRequest(code="000000" if totp.now() != "000000" else "111111"),
        me,
    )
    codes = (
        await world.identity(
            "ConfirmTotpEnrollment", pb.ConfirmTotpEnrollmentRequest(code=totp.now()), me
        )
    ).recovery_codes
    assert len(codes) == 10 and len(set(codes)) == 10
    await world.identity.fails(
        grpc.StatusCode.FAILED_PRECONDITION,
        "BeginTotpEnrollment",
        pb.BeginTotpEnrollmentRequest(),
        me,
    )
    return totp, list(codes)


async def test_totp_enrolment_then_sign_in_with_a_code(world: World):
    totp, _ = await enroll(world, world.owner)
    pending = await world.sign_in(world.owner.email)
    assert pending.totp_required and not pending.HasField("session")
    # Confirming was not a sign-in: the code may sign in once, and is then spent.
    code = totp.now()
    signed_in = await world.sign_in(world.owner.email, totp_code=code)
    assert signed_in.session.session.subject_id == world.owner.id
    err = await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email=world.owner.email, password=PASSWORD, totp_code=code),
        world.gateway,
    )
    assert "code is not right" in err.details()
    # The next step's code works (a phone a little ahead of the server).
    assert await world.sign_in(world.owner.email, totp_code=totp.at(time.time() + 30))
    # A wrong password never reaches the code question.
    await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email=world.owner.email, password="wrong password!"),
        world.gateway,
    )
    rows = await world.identity.sql(
        world.tenant_id,
        "SELECT count(*) AS n FROM recovery_code WHERE staff_user_id = :u",
        u=world.owner.id,
    )
    assert rows[0].n == 10
    rows = await world.identity.sql(
        world.tenant_id,
        "SELECT code_hash FROM recovery_code WHERE staff_user_id = :u",
        u=world.owner.id,
    )
    assert all(len(r.code_hash) == 64 for r in rows)


async def test_a_recovery_code_signs_in_once(world: World):
    _, codes = await enroll(world, world.owner)
    first = await world.sign_in(world.owner.email, totp_code=codes[3].upper())
    assert first.session.session.subject_id == world.owner.id
    err = await world.identity.fails(
        UNAUTH,
        "SignIn",
        pb.SignInRequest(email=world.owner.email, password=PASSWORD, totp_code=codes[3]),
        world.gateway,
    )
    assert "code is not right" in err.details()
    assert await world.sign_in(world.owner.email, totp_code=codes[4])
    entries = [e.action for e in await world.audit()]
    assert "totp.enabled" in entries


async def test_wrong_codes_count_towards_the_throttle(world: World):
    await enroll(world, world.owner)
    for _ in range(5):
        await world.identity.fails(
            UNAUTH,
            "SignIn",
            pb.SignInRequest(email=world.owner.email, password=PASSWORD, totp_code="zzzz-zzzz"),
            world.gateway,
        )
    await world.identity.fails(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "SignIn",
        pb.SignInRequest(email=world.owner.email, password=PASSWORD),
        world.gateway,
    )


async def test_being_asked_for_the_code_gives_back_the_attempt_a_wrong_code_keeps_it(
    world: World,
):
    await enroll(world, world.owner)
    for _ in range(6):  # the right password alone: each asks for the code, none counts
        assert (await world.sign_in(world.owner.email)).totp_required
    for _ in range(5):
        await world.identity.fails(
            UNAUTH,
            "SignIn",
            pb.SignInRequest(email=world.owner.email, password=PASSWORD, totp_code="000000"),
            world.gateway,
        )
    rows = await world.identity.sql(world.tenant_id, "SELECT count(*) AS n FROM login_failure")
    assert rows[0].n == 5
    await world.identity.fails(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "SignIn",
        pb.SignInRequest(email=world.owner.email, password=PASSWORD),
        world.gateway,
    )


async def test_a_reset_link_does_not_get_past_totp(world: World):
    totp, _ = await enroll(world, world.pm)
    await world.identity(
        "RequestPasswordReset",
        pb.RequestPasswordResetRequest(email=world.pm.email, client_ip=world.client_ip),
        world.gateway,
    )
    reset = await world.latest_link(events_pb2.PasswordResetRequested)
    redeemed = await world.identity(
        "RedeemLoginToken",
        pb.RedeemLoginTokenRequest(token=reset.token, new_password="a new staff passphrase"),
        world.gateway,
    )
    assert not redeemed.HasField("session")  # password set; the code is still needed
    assert (await world.sign_in(world.pm.email, "a new staff passphrase")).totp_required
    signed_in = await world.sign_in(
        world.pm.email, "a new staff passphrase", totp_code=totp.at(time.time() + 30)
    )
    assert signed_in.session.token


async def test_totp_is_for_staff(world: World):
    opened = await world.invite_and_set_password(world.approver)
    await world.identity.fails(
        grpc.StatusCode.PERMISSION_DENIED,
        "BeginTotpEnrollment",
        pb.BeginTotpEnrollmentRequest(),
        world.person(opened.session),
    )
