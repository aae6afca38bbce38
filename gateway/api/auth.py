"""Signing in and out, and the one-time links (magic link, invite, reset).

These answer before anyone is signed in, so identity is asked as the gateway
itself. Answers never reveal whether an address has an account."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Path, Request, Response, status
from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Line, Secret
from gateway.api.people import Me, me_from_session
from gateway.api.translate import timestamp
from gateway.backends import Backends, RemoteError, gateway_principal
from gateway.csrf import session_token
from gateway.deps import BackendsDep, OptionalSessionDep, SessionDep, SettingsDep, TenantDep
from gateway.problems import problem_responses
from gateway.sessions import (
    SignedIn,
    clear_session_cookie,
    client_info,
    end_session_quietly,
    set_session_cookie,
)
from services.chassis import enums

router = APIRouter(prefix="/auth", tags=["auth"], responses=problem_responses(401, 429))
P = identity_pb2

PurposeName = Literal["magic_link", "invite", "password_reset"]
TokenPath = Path(min_length=1, max_length=512, description="The token from the emailed link.")


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Line = Field(max_length=320)
    password: Secret = Field(max_length=1024)
    totp_code: Secret = Field(
        "", max_length=64, description="Staff with TOTP: a code or a recovery code."
    )


class SignInResult(BaseModel):
    totp_required: bool = Field(
        description="True: nothing was opened yet; send the same request again with totp_code."
    )
    me: Me | None


class EmailOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Line = Field(max_length=320)


class Accepted(BaseModel):
    detail: str


class TokenInfo(BaseModel):
    purpose: PurposeName
    email: str
    full_name: str
    expires_at: datetime | None
    needs_password: bool = Field(description="Redeeming needs new_password (invite, reset).")


class Redeem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_password: Secret = Field("", max_length=1024, description="Required for invite and reset.")


def purpose_name(value: identity_pb2.LoginTokenPurpose.ValueType) -> str:
    return enums.short_name(P.LoginTokenPurpose, value)


def _opened(new_session: identity_pb2.NewSession, response: Response, settings: SettingsDep) -> Me:
    set_session_cookie(response, new_session, settings)
    return me_from_session(
        new_session.session, csrf_token=session_token(settings.csrf_secret, new_session.token)
    )


@router.post("/sign-in", summary="Sign in with email and password; sets the session cookie")
async def sign_in(
    body: SignIn,
    request: Request,
    response: Response,
    tenant: TenantDep,
    backends: BackendsDep,
    settings: SettingsDep,
    signed_in: OptionalSessionDep,
) -> SignInResult:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.SignIn,
        P.SignInRequest(
            email=body.email,
            password=body.password,
            totp_code=body.totp_code,
            client=client_info(request),
        ),
        principal=gateway_principal(tenant_id=tenant.id),
    )
    if answer.totp_required:
        return SignInResult(totp_required=True, me=None)
    await end_session_quietly(backends, signed_in)
    return SignInResult(totp_required=False, me=_opened(answer.session, response, settings))


# -- calls the front door's pages share ---------------------------------------------


async def sign_out_session(backends: Backends, signed_in: SignedIn) -> None:
    """SignOut. A session identity no longer knows is signed out already: that
    refusal is the one not passed on."""
    identity = backends.identity
    try:
        await identity.call(
            identity.stub.SignOut,
            P.SignOutRequest(token=signed_in.token),
            principal=signed_in.person,
        )
    except RemoteError as exc:
        if exc.code.name != "UNAUTHENTICATED":
            raise


LinkPurpose = Literal["magic_link", "password_reset"]


async def email_link(
    backends: Backends, request: Request, tenant_id: str, email: str, *, purpose: LinkPurpose
) -> None:
    """Ask identity to email a sign-in or a password-reset link. It answers the
    same whether or not the address exists, so the caller says the same too;
    past the hourly cap (5 per address, 20 per client address) it refuses with
    RESOURCE_EXHAUSTED saying when links will be sent again (429 here)."""
    identity = backends.identity
    ip = client_info(request).ip
    if purpose == "magic_link":
        rpc, ask = (
            identity.stub.RequestMagicLink,
            P.RequestMagicLinkRequest(email=email, client_ip=ip),
        )
    else:
        rpc = identity.stub.RequestPasswordReset
        ask = P.RequestPasswordResetRequest(email=email, client_ip=ip)
    await identity.call(rpc, ask, principal=gateway_principal(tenant_id=tenant_id))


# -- routes -------------------------------------------------------------------------


@router.post("/sign-out", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
async def sign_out(
    signed_in: SessionDep, backends: BackendsDep, settings: SettingsDep, response: Response
) -> None:
    await sign_out_session(backends, signed_in)
    clear_session_cookie(response, settings)


@router.post(
    "/magic-link",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email a one-time sign-in link (same answer whether or not the address exists)",
    description=(
        "202 whether or not the address has access. After 5 requests for one address "
        "(or 20 from one client address) within an hour: 429 problem+json saying when "
        "links will be sent again, with Retry-After; the same for any address."
    ),
)
async def magic_link(
    body: EmailOnly, request: Request, tenant: TenantDep, backends: BackendsDep
) -> Accepted:
    await email_link(backends, request, tenant.id, body.email, purpose="magic_link")
    return Accepted(detail="If that address has access, a link is on its way.")


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email a one-time link to choose a new password (same answer either way)",
    description=(
        "202 whether or not the address has an account. Shares the magic link's hourly "
        "cap: past it, 429 problem+json saying when links will be sent again, with "
        "Retry-After; the same for any address."
    ),
)
async def password_reset(
    body: EmailOnly, request: Request, tenant: TenantDep, backends: BackendsDep
) -> Accepted:
    await email_link(backends, request, tenant.id, body.email, purpose="password_reset")
    return Accepted(
        detail="If that address has an account, a link to choose a new password is on its way."
    )


@router.get(
    "/tokens/{token}",
    summary="What a one-time link is for, without spending it",
    responses=problem_responses(404, 409),
)
async def inspect_token(
    tenant: TenantDep, backends: BackendsDep, token: str = TokenPath
) -> TokenInfo:
    identity = backends.identity
    info = await identity.call(
        identity.stub.InspectLoginToken,
        P.InspectLoginTokenRequest(token=token),
        principal=gateway_principal(tenant_id=tenant.id),
    )
    purpose = purpose_name(info.purpose)
    return TokenInfo(
        purpose=purpose,  # type: ignore[arg-type]  # validated by the model
        email=info.email,
        full_name=info.full_name,
        expires_at=timestamp(info, "expires_at"),
        needs_password=purpose in ("invite", "password_reset"),
    )


@router.post(
    "/tokens/{token}/redeem",
    summary="Spend a one-time link (magic link, invite accept, reset confirm); sets the cookie",
    responses=problem_responses(404, 409),
)
async def redeem_token(
    body: Redeem,
    request: Request,
    response: Response,
    tenant: TenantDep,
    backends: BackendsDep,
    settings: SettingsDep,
    signed_in: OptionalSessionDep,
    token: str = TokenPath,
) -> Me:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.RedeemLoginToken,
        P.RedeemLoginTokenRequest(
            token=token, new_password=body.new_password, client=client_info(request)
        ),
        principal=gateway_principal(tenant_id=tenant.id),
    )
    await end_session_quietly(backends, signed_in)
    return _opened(answer.session, response, settings)
