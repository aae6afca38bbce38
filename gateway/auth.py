"""Bearer API token -> staff principal, asked of identity on every request so
that a revoked token stops working at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import grpc
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from portal.identity.v1 import identity_pb2

from gateway.backends import BackendsDep, RemoteError, gateway_principal
from gateway.problems import Problem, ProblemError, problem_type
from gateway.tenancy import TenantDep
from services.chassis.auth import Principal

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="API token",
    description="An API token issued to a staff user of this integrator.",
)

# What identity answers when the secret is simply not a live token of this tenant.
_TOKEN_REFUSED = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
    }
)
_ROLE_PREFIX = "STAFF_ROLE_"


def staff_roles(roles: Iterable[identity_pb2.StaffRole.ValueType]) -> frozenset[str]:
    """STAFF_ROLE_PROJECT_MANAGER -> "project_manager"; unknown values are dropped."""
    names = set()
    for value in roles:
        if value == identity_pb2.STAFF_ROLE_UNSPECIFIED:
            continue
        try:
            name = identity_pb2.StaffRole.Name(value)
        except ValueError:
            continue  # a role newer than this gateway; the services still check rights
        names.add(name.removeprefix(_ROLE_PREFIX).lower())
    return frozenset(names)


def _unauthenticated(*, detail: str, code: str, challenge: str) -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("unauthenticated"),
            title="Unauthenticated",
            status=401,
            detail=detail,
            code=code,
        ),
        headers={"WWW-Authenticate": challenge},
    )


async def authenticate_staff(
    tenant: TenantDep,
    backends: BackendsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise _unauthenticated(
            detail="Send an API token in the Authorization header: 'Bearer <token>'.",
            code="missing_token",
            challenge="Bearer",
        )
    identity = backends.identity
    try:
        response = await identity.call(
            identity.stub.AuthenticateApiToken,
            identity_pb2.AuthenticateApiTokenRequest(secret=credentials.credentials),
            principal=gateway_principal(tenant_id=tenant.id),
        )
    except RemoteError as exc:
        if exc.code in _TOKEN_REFUSED:
            raise _unauthenticated(
                detail="The API token is not valid for this portal; it may have been revoked. "
                "Ask an administrator for a new one.",
                code="invalid_token",
                challenge='Bearer error="invalid_token"',
            ) from exc
        raise
    return Principal(
        kind="staff",
        subject=response.user.id,
        tenant_id=tenant.id,
        roles=staff_roles(response.user.roles),
    )


StaffDep = Annotated[Principal, Depends(authenticate_staff)]
