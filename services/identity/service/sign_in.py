"""Email + password (+ TOTP) sign-in, changing a password, enrolling in TOTP.

A sign-in takes two short transactions around the argon2 check (tens of
milliseconds of CPU in a thread): no connection is held while hashing. The
first reserves the attempt (service/throttle.py) and commits before the
password is checked; the second settles it.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import (
    InvalidArgument,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from services.identity import domain_credentials, domain_sessions, domain_sign_in
from services.identity.domain_sign_in import SignInStep
from services.identity.models import Contact, RecoveryCode, StaffUser
from services.identity.passwords import Passwords
from services.identity.service.common import (
    ClientInfo,
    Sessions,
    access_closed_message,
    actor_label,
    audit,
    contact_by_email,
    end_sessions,
    now_utc,
    person_sessions,
    require_front_door,
    require_person,
    staff_by_email,
    subject_uuid,
    tenant_name,
    void_login_tokens,
)
from services.identity.service.sessions import OpenedSession, live_view, open_session
from services.identity.service.throttle import (
    email_key,
    reserve_sign_in_attempt,
    settle_attempt,
)

WRONG_CREDENTIALS = "The email or password is not right."
WRONG_CODE = "The verification code is not right. Try the newest code, or a recovery code."


@dataclass(frozen=True)
class SignInResult:
    session: OpenedSession | None = None
    totp_required: bool = False


@dataclass(frozen=True)
class _Account:
    kind: str  # staff | client
    id: uuid.UUID
    email: str
    password_hash: str | None
    customer_id: uuid.UUID | None = None
    customer_state: str | None = None
    totp_enabled: bool = False


async def _find_account(uow: UnitOfWork, email: str) -> _Account | None:
    """Staff first, then a live contact, by case-insensitive address."""
    user = await uow.session.scalar(staff_by_email(email))
    if user is not None:
        return _Account(
            "staff", user.id, user.email, user.password_hash, None, None, user.totp_enabled
        )
    row = (await uow.session.execute(contact_by_email(email))).one_or_none()
    if row is None:
        return None
    contact, customer = row
    return _Account(
        "client",
        contact.id,
        contact.email,
        contact.password_hash,
        contact.customer_id,
        customer.access_state,
    )


async def sign_in(
    *,
    sessions: Sessions,
    passwords: Passwords,
    principal: Principal,
    email: str,
    password: str,
    totp_code: str,
    client: ClientInfo,
) -> SignInResult:
    tenant_id = require_front_door(principal)
    key = email_key(email)
    if not key or not password:
        raise InvalidArgument("Enter your email address and password.", field="email")
    ip = domain_sessions.clean_ip(client.ip)
    now = now_utc()
    attempt, account = await _reserve(sessions, tenant_id, email=key, ip=ip, now=now)

    # Unknown address or no password yet: a dummy verify keeps the timing the same.
    verified = await passwords.verify(account.password_hash if account else None, password)

    async with UnitOfWork(sessions, tenant_id) as uow:
        if account is None or not verified.ok:
            raise Unauthenticated(WRONG_CREDENTIALS)  # the reservation stays: a failure
        step = domain_sign_in.next_step(
            kind=account.kind,
            customer_state=account.customer_state,
            totp_enabled=account.totp_enabled,
            totp_code=totp_code,
        )
        if step is SignInStep.CHECK_CODE and not await _spend_second_factor(
            uow, account.id, totp_code, now
        ):
            raise Unauthenticated(WRONG_CODE)  # a wrong code keeps the reservation too
        await settle_attempt(uow, attempt, secret_right=True)
        if step is SignInStep.PORTAL_CLOSED:
            message = access_closed_message(await tenant_name(uow))
            await uow.commit()
            raise Unauthenticated(message)
        if step is SignInStep.ASK_FOR_CODE:
            await uow.commit()
            return SignInResult(totp_required=True)
        opened = await start_session(
            uow,
            kind=account.kind,
            person_id=account.id,
            customer_id=account.customer_id,
            client=client,
            now=now,
            auth_method=domain_sign_in.auth_method(totp_enabled=account.totp_enabled),
            # Set when the hashing parameters were raised since this hash was made.
            new_password_hash=verified.new_hash,
        )
        await uow.commit()
    return SignInResult(session=opened)


async def _reserve(
    sessions: Sessions, tenant_id: str, *, email: str, ip: str, now: datetime
) -> tuple[uuid.UUID, _Account | None]:
    """The first transaction: the attempt counts from its commit, before the
    password is checked; then the account, if there is one."""
    async with UnitOfWork(sessions, tenant_id) as uow:
        # Before anything about the account is looked at: the same answer for everyone.
        attempt = await reserve_sign_in_attempt(uow, email=email, ip=ip, now=now)
        account = await _find_account(uow, email)
        await uow.commit()
    return attempt, account


async def start_session(
    uow: UnitOfWork,
    *,
    kind: str,
    person_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    client: ClientInfo,
    now: datetime,
    auth_method: str,
    new_password_hash: str | None = None,
) -> OpenedSession:
    """The person is in (by password or by a one-time link): the sign-in is
    recorded on them, with a rehashed password if given, and a session opens."""
    model = StaffUser if kind == "staff" else Contact
    values: dict[str, object] = {"last_sign_in_at": now}
    if new_password_hash:
        values["password_hash"] = new_password_hash
    await uow.session.execute(
        update(model)
        .where(model.id == person_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    token, row = open_session(
        uow,
        kind=kind,
        subject_id=person_id,
        customer_id=customer_id,
        client=client,
        now=now,
        auth_method=auth_method,
    )
    await uow.flush()
    return OpenedSession(token=token, session=await live_view(uow, row))


async def _spend_second_factor(
    uow: UnitOfWork, user_id: uuid.UUID, code: str, now: datetime
) -> bool:
    """A TOTP code not used before, or an unused recovery code (spent atomically)."""
    if domain_credentials.looks_like_totp_code(code):
        user = await uow.session.get(StaffUser, user_id, with_for_update=True)
        if user is None or user.totp_secret is None:
            return False
        step = domain_credentials.verify_totp(
            user.totp_secret, code, now=now, last_used_step=user.totp_last_step
        )
        if step is None:
            return False
        user.totp_last_step = step
        return True
    spent = await uow.session.scalar(
        update(RecoveryCode)
        .where(
            RecoveryCode.staff_user_id == user_id,
            RecoveryCode.code_hash == domain_credentials.hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .returning(RecoveryCode.id)
        .execution_options(synchronize_session=False)
    )
    return spent is not None


async def change_password(
    *,
    sessions: Sessions,
    passwords: Passwords,
    principal: Principal,
    current_password: str,
    new_password: str,
    current_session_id: str,
) -> None:
    """Checks the current password; every other session of the person ends."""
    tenant_id = require_person(principal)
    domain_sessions.check_current_session(current_session_id, principal.session_id)
    me = subject_uuid(principal)
    model: type[StaffUser] | type[Contact] = StaffUser if principal.kind == "staff" else Contact
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        person: StaffUser | Contact | None = await uow.session.get(model, me)
        if person is None or (isinstance(person, Contact) and person.removed_at is not None):
            raise Unauthenticated(domain_sessions.SESSION_EXPIRED_MESSAGE)
        stored, email = person.password_hash, person.email
        if stored is None:
            raise InvalidArgument(
                "You have not set a password yet. Use 'Forgot your password?' on the sign-in "
                "page to set one.",
                field="current_password",
            )
        domain_credentials.check_password_policy(new_password, email=email)
        # Counted like a sign-in: the current password is checked only within the limit.
        attempt = await reserve_sign_in_attempt(uow, email=email_key(email), ip="", now=now)
        await uow.commit()
    verified = await passwords.verify(stored, current_password)
    new_hash = await passwords.hash(new_password) if verified.ok else None
    async with UnitOfWork(sessions, tenant_id) as uow:
        if new_hash is None:
            raise InvalidArgument("Your current password is not right.", field="current_password")
        await settle_attempt(uow, attempt, secret_right=True)
        await uow.session.execute(
            update(model)
            .where(model.id == me)
            .values(password_hash=new_hash, password_changed_at=now)
            .execution_options(synchronize_session=False)
        )
        keep = uuid.UUID(principal.session_id) if principal.session_id else None
        await end_sessions(
            uow, person_sessions(principal.kind, me), reason="password_changed", now=now, keep=keep
        )
        await void_login_tokens(uow, [me], now=now, purposes=["password_reset", "magic_link"])
        await uow.commit()


async def _staff_for_totp(uow: UnitOfWork, principal: Principal) -> StaffUser:
    if principal.kind != "staff":
        raise PermissionDenied("two-step verification is for the integrator's staff")
    user = await uow.session.get(StaffUser, subject_uuid(principal), with_for_update=True)
    if user is None:
        raise NotFound("no such staff user")
    return user


async def begin_totp_enrollment(*, sessions: Sessions, principal: Principal) -> tuple[str, str]:
    """A new secret (pending until confirmed) and its otpauth:// URI."""
    tenant_id = principal.require_tenant()
    async with UnitOfWork(sessions, tenant_id) as uow:
        user = await _staff_for_totp(uow, principal)
        if user.totp_enabled:
            raise InvalidTransition("two-step verification is already on for this account")
        secret = domain_credentials.totp_secret_from_bytes(secrets.token_bytes(20))
        user.totp_pending_secret = secret
        uri = domain_credentials.totp_uri(secret, account=user.email, issuer=await tenant_name(uow))
        await uow.commit()
    return secret, uri


async def confirm_totp_enrollment(
    *, sessions: Sessions, principal: Principal, code: str
) -> list[str]:
    """Turns TOTP on after a correct code; returns the recovery codes, shown once."""
    tenant_id = principal.require_tenant()
    now = now_utc()
    codes = [
        domain_credentials.recovery_code_from_bytes(
            secrets.token_bytes(domain_credentials.RECOVERY_CODE_BYTES)
        )
        for _ in range(domain_credentials.RECOVERY_CODE_COUNT)
    ]
    async with UnitOfWork(sessions, tenant_id) as uow:
        user = await _staff_for_totp(uow, principal)
        if user.totp_enabled:
            raise InvalidTransition("two-step verification is already on for this account")
        if user.totp_pending_secret is None:
            raise InvalidTransition("start setting up two-step verification first")
        if domain_credentials.verify_totp(user.totp_pending_secret, code, now=now) is None:
            raise InvalidArgument(
                "That code is not right. Check that your phone's clock is set automatically "
                "and enter the newest code.",
                field="code",
            )
        user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
        # Confirming proves the app works; it is not a sign-in, so the code just shown
        # may still sign in once. Every code used to sign in is spent (RFC 6238 5.2).
        user.totp_enabled_at, user.totp_last_step = now, None
        await uow.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_user_id == user.id))
        uow.session.add_all(
            RecoveryCode(
                tenant_id=user.tenant_id,
                staff_user_id=user.id,
                code_hash=domain_credentials.hash_recovery_code(c),
                created_at=now,
            )
            for c in codes
        )
        audit(
            uow,
            actor=await actor_label(uow, principal),
            action="totp.enabled",
            target=f"staff:{user.id}",
            detail="turned on two-step verification",
            at=now,
        )
        await uow.commit()
    return codes
