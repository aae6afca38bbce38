"""Staff users, API tokens and the audit trail (staff)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Query, status
from portal.identity.v1 import identity_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Line
from gateway.api.translate import timestamp
from gateway.auth import staff_roles
from gateway.deps import BackendsDep, RequestIdDep, StaffDep
from gateway.problems import problem_responses

router = APIRouter(tags=["staff"], responses=problem_responses(401, 403))
P = identity_pb2


class StaffUser(BaseModel):
    id: str
    email: str
    full_name: str
    roles: list[str]


class StaffUsers(BaseModel):
    users: list[StaffUser]


class ApiToken(BaseModel):
    id: str
    name: str
    user_id: str
    prefix: str = Field(description="The secret's first characters, to recognise it.")
    created_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokens(BaseModel):
    tokens: list[ApiToken]


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(max_length=100, description="Where it will be used, e.g. 'Zapier'.")
    user_id: UUID | None = Field(None, description="Whose token; the caller's by default.")


class IssuedToken(BaseModel):
    token: ApiToken
    secret: str = Field(description="Shown once: only its hash is kept.")


class AuditEntry(BaseModel):
    id: str
    actor: str
    action: str
    target: str
    detail: str
    at: datetime | None


class AuditEntries(BaseModel):
    entries: list[AuditEntry]


def token_out(t: identity_pb2.ApiToken) -> ApiToken:
    return ApiToken(
        id=t.id,
        name=t.name,
        user_id=t.user_id,
        prefix=t.prefix,
        created_at=timestamp(t, "created_at"),
        last_used_at=timestamp(t, "last_used_at"),
        revoked_at=timestamp(t, "revoked_at"),
    )


@router.get("/staff-users", tags=["staff"], summary="List the integrator's staff")
async def list_staff_users(staff: StaffDep, backends: BackendsDep) -> StaffUsers:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.ListStaffUsers, P.ListStaffUsersRequest(), principal=staff
    )
    return StaffUsers(
        users=[
            StaffUser(
                id=u.id, email=u.email, full_name=u.full_name, roles=sorted(staff_roles(u.roles))
            )
            for u in answer.users
        ]
    )


@router.get("/tokens", tags=["tokens"], summary="List API tokens, with when each was last used")
async def list_tokens(staff: StaffDep, backends: BackendsDep) -> ApiTokens:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.ListApiTokens, P.ListApiTokensRequest(), principal=staff
    )
    return ApiTokens(tokens=[token_out(t) for t in answer.tokens])


@router.post(
    "/tokens",
    tags=["tokens"],
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API token; its secret is in this answer only",
    responses=problem_responses(422),
)
async def issue_token(
    body: NewToken, staff: StaffDep, backends: BackendsDep, request_id: RequestIdDep
) -> IssuedToken:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.IssueApiToken,
        P.IssueApiTokenRequest(
            request_id=request_id,
            user_id=str(body.user_id) if body.user_id else staff.subject,
            name=body.name,
        ),
        principal=staff,
    )
    return IssuedToken(token=token_out(answer.token), secret=answer.secret)


@router.delete(
    "/tokens/{token_id}",
    tags=["tokens"],
    summary="Revoke an API token; it stops working at once",
    responses=problem_responses(404),
)
async def revoke_token(token_id: UUID, staff: StaffDep, backends: BackendsDep) -> ApiToken:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.RevokeApiToken,
        P.RevokeApiTokenRequest(token_id=str(token_id)),
        principal=staff,
    )
    return token_out(answer.token)


@router.get("/audit", tags=["audit"], summary="Recent audit entries (sign-ins, view-as, access)")
async def list_audit(
    staff: StaffDep,
    backends: BackendsDep,
    limit: int = Query(50, ge=1, le=500, description="How many, newest first."),
) -> AuditEntries:
    identity = backends.identity
    answer = await identity.call(
        identity.stub.ListAuditEntries, P.ListAuditEntriesRequest(limit=limit), principal=staff
    )
    return AuditEntries(
        entries=[
            AuditEntry(
                id=e.id,
                actor=e.actor,
                action=e.action,
                target=e.target,
                detail=e.detail,
                at=timestamp(e, "at"),
            )
            for e in answer.entries
        ]
    )
