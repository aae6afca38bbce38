"""The caller: who they are, their sessions, their password."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from fastapi.security import HTTPAuthorizationCredentials
from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Secret
from gateway.api.people import Me, SessionOut, me_out, session_out
from gateway.api.translate import timestamp
from gateway.auth import authenticate_token, bearer, not_signed_in, staff_roles
from gateway.deps import BackendsDep, OptionalSessionDep, SessionDep, TenantDep
from gateway.problems import problem_responses

router = APIRouter(prefix="/me", tags=["me"], responses=problem_responses(401, 403))
P = identity_pb2


class Sessions(BaseModel):
    sessions: list[SessionOut]


class Revoked(BaseModel):
    revoked: int


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Secret = Field(max_length=1024)
    new_password: Secret = Field(max_length=1024)


@router.get("", summary="Who is calling (session cookie or API token)")
async def me(
    tenant: TenantDep,
    backends: BackendsDep,
    signed_in: OptionalSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Me:
    if credentials is not None:
        user = (await authenticate_token(tenant.id, backends, credentials.credentials)).user
        return Me(
            kind="staff",
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            roles=sorted(staff_roles(user.roles)),
            customer_id=None,
            customer_name=None,
            access_state=None,
            read_only=False,
            view_as_client=False,
            session_id=None,
            csrf_token=None,
        )
    if signed_in is None:
        raise not_signed_in()
    return me_out(signed_in)


@router.get("/sessions", summary="The caller's active sessions")
async def list_sessions(signed_in: SessionDep, backends: BackendsDep) -> Sessions:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.ListSessions,
        P.ListSessionsRequest(current_session_id=signed_in.session.id),
        principal=signed_in.person,
    )
    return Sessions(
        sessions=[session_out(s, current_id=signed_in.session.id) for s in answer.sessions]
    )


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out one of the caller's sessions",
    responses=problem_responses(404),
)
async def revoke_session(
    signed_in: SessionDep,
    backends: BackendsDep,
    session_id: str = Path(max_length=100),
) -> None:
    identity = backends.identity
    await identity.call(
        identity.stub.RevokeSessions,
        P.RevokeSessionsRequest(current_session_id=signed_in.session.id, session_id=session_id),
        principal=signed_in.person,
    )


@router.post("/sessions/revoke-others", summary="Sign out every other session of the caller")
async def revoke_other_sessions(signed_in: SessionDep, backends: BackendsDep) -> Revoked:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.RevokeSessions,
        P.RevokeSessionsRequest(current_session_id=signed_in.session.id, all_but_current=True),
        principal=signed_in.person,
    )
    return Revoked(revoked=answer.revoked)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the password; every other session ends",
    responses=problem_responses(422, 429),
)
async def change_password(
    body: PasswordChange, signed_in: SessionDep, backends: BackendsDep
) -> None:
    identity = backends.identity
    await identity.call(
        identity.stub.ChangePassword,
        P.ChangePasswordRequest(
            current_password=body.current_password,
            new_password=body.new_password,
            current_session_id=signed_in.session.id,
        ),
        principal=signed_in.person,
    )


class StepUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Secret = Field("", max_length=1024, description="The password again, or ...")
    code: Secret = Field("", max_length=20, description="... the code emailed by /step-up/code.")


class Proof(BaseModel):
    authenticated_at: datetime | None
    auth_method: str


class CodeSent(BaseModel):
    expires_at: datetime | None


@router.post(
    "/step-up/code",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email a six-digit code that confirms it is you (before a signature)",
)
async def request_step_up_code(signed_in: SessionDep, backends: BackendsDep) -> CodeSent:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.RequestStepUpCode,
        P.RequestStepUpCodeRequest(token=signed_in.token),
        principal=signed_in.person,
    )
    return CodeSent(expires_at=timestamp(answer, "expires_at"))


@router.post(
    "/step-up",
    summary="Confirm it is you: the password again or the emailed code",
    responses=problem_responses(422),
)
async def step_up(body: StepUp, signed_in: SessionDep, backends: BackendsDep) -> Proof:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.StepUp,
        P.StepUpRequest(token=signed_in.token, password=body.password, code=body.code),
        principal=signed_in.person,
    )
    return Proof(
        authenticated_at=timestamp(answer.session, "authenticated_at"),
        auth_method=answer.session.auth_method,
    )
