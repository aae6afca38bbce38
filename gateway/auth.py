"""Who is calling the JSON API.

A bearer API token -> staff principal, asked of identity through the
gateway's short credential cache (gateway.identity_cache): a revoked token
stops working as soon as identity's ApiTokenRevoked reaches the gateway, and
within GATEWAY_AUTH_CACHE_SECONDS in any case. Without one, the browser's session
cookie (see gateway.sessions) serves, and then every state-changing call must
repeat the session's CSRF token in `X-CSRF-Token`.

`authenticate_staff` (`StaffDep` in gateway.deps) admits staff only;
`authenticate_caller` (`CallerDep`) also admits a client contact's
session (as that contact), for what clients may read or do themselves.

On the platform host (the bare base domain) there is no integrator:
`authenticate_platform` (`PlatformDep`) admits the platform operator by
GATEWAY_PLATFORM_TOKEN, and `docs_reader` lets anyone read the API docs there
but only staff on an integrator's host."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Iterable
from typing import Annotated

import grpc
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from portal.identity.v1 import identity_pb2
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway import csrf
from gateway.backends import Backends, RemoteError, current_backends, gateway_principal
from gateway.identity_cache import CredentialCache
from gateway.problems import Problem, ProblemError, problem_type
from gateway.sessions import (
    SignedIn,
    credentials_of,
    resolve_session,
    session_of,
    settings_of,
)
from gateway.settings import GatewaySettings
from gateway.tenancy import Tenant, current_tenant, on_platform_host
from services.chassis import enums
from services.chassis.auth import Principal

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="API token",
    description="An API token issued to a staff user of this integrator. Browsers may "
    "instead use the session cookie set by sign-in, sending `X-CSRF-Token` (from "
    "`GET /api/v1/me`) with every POST, PATCH and DELETE.",
)

platform_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="PlatformToken",
    bearerFormat="platform token",
    description="The platform operator's token (the gateway's GATEWAY_PLATFORM_TOKEN). "
    "Platform routes answer only on the platform host, the bare base domain.",
)

# What identity answers when the secret is simply not a live token of this tenant.
_TOKEN_REFUSED = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
    }
)


def staff_roles(roles: Iterable[identity_pb2.StaffRole.ValueType]) -> frozenset[str]:
    """STAFF_ROLE_PROJECT_MANAGER -> "project_manager"; unknown values are dropped."""
    return _staff_roles(tuple(roles))


@functools.lru_cache(maxsize=64)  # a handful of role sets; each API token call names one
def _staff_roles(roles: tuple[identity_pb2.StaffRole.ValueType, ...]) -> frozenset[str]:
    names = set()
    for value in roles:
        # None for UNSPECIFIED and for a role newer than this gateway (the services still check).
        if name := enums.known_name(identity_pb2.StaffRole, value):
            names.add(name)
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


async def authenticate_token(
    tenant_id: str, backends: Backends, secret: str, cache: CredentialCache | None = None
) -> identity_pb2.AuthenticateApiTokenResponse:
    identity = backends.identity

    def ask() -> Awaitable[identity_pb2.AuthenticateApiTokenResponse]:
        return identity.call(
            identity.stub.AuthenticateApiToken,
            identity_pb2.AuthenticateApiTokenRequest(secret=secret),
            principal=gateway_principal(tenant_id=tenant_id),
        )

    try:
        if cache is None:
            return await ask()
        return await cache.get_or_load(tenant_id, "api_token", secret, ask)
    except RemoteError as exc:
        if exc.code in _TOKEN_REFUSED:
            raise _unauthenticated(
                detail="The API token is not valid for this portal; it may have been revoked. "
                "Ask an administrator for a new one.",
                code="invalid_token",
                challenge='Bearer error="invalid_token"',
            ) from exc
        raise


async def _bearer_staff(
    request: Request, tenant_id: str, backends: Backends, secret: str
) -> Principal:
    response = await authenticate_token(tenant_id, backends, secret, credentials_of(request))
    return Principal(
        kind="staff",
        subject=response.user.id,
        tenant_id=tenant_id,
        roles=staff_roles(response.user.roles),
    )


def csrf_refused() -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("csrf"),
            title="Forbidden",
            status=403,
            detail=f"This call needs the {csrf.HEADER} header from GET /api/v1/me; "
            "reload the page and try again.",
            code="csrf_token_invalid",
        )
    )


def forbidden(detail: str) -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("forbidden"),
            title="Forbidden",
            status=403,
            detail=detail,
            code="forbidden",
        )
    )


def _checked(request: Request, signed_in: SignedIn, settings: GatewaySettings) -> SignedIn:
    if request.method in csrf.UNSAFE_METHODS and not csrf.matches(
        signed_in.csrf_token, request.headers.get(csrf.HEADER)
    ):
        raise csrf_refused()
    return signed_in


def not_signed_in() -> ProblemError:
    return _unauthenticated(
        detail="Sign in first, or send an API token: 'Authorization: Bearer <token>'.",
        code="not_signed_in",
        challenge="Bearer",
    )


async def require_session(request: Request) -> SignedIn:
    """A browser session (cookie) with CSRF checked on state-changing calls."""
    signed_in = await session_of(request)
    if signed_in is None:
        raise not_signed_in()
    return _checked(request, signed_in, request.app.state.settings)


# The API's callers: `bearer` stays a dependency (it is the OpenAPI document's
# security scheme); the tenant, backends, settings and session are read from the
# request directly: each nested dependency FastAPI solves costs ~10 µs
# of the gateway's CPU on every call.


async def authenticate_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is not None:
        return await _bearer_staff(
            request, request.state.tenant.id, request.state.backends, credentials.credentials
        )
    signed_in = await session_of(request)
    if signed_in is None:
        raise _unauthenticated(
            detail="Send an API token in the Authorization header: 'Bearer <token>'.",
            code="missing_token",
            challenge="Bearer",
        )
    _checked(request, signed_in, request.app.state.settings)
    if not signed_in.is_staff:
        raise forbidden("Only the integrator's staff can do this.")
    return signed_in.person


async def authenticate_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Staff (API token or session) or a client contact (session): the services
    decide what each may see, a client only their own customer's."""
    if credentials is not None:
        return await _bearer_staff(
            request, request.state.tenant.id, request.state.backends, credentials.credentials
        )
    signed_in = await session_of(request)
    if signed_in is None:
        raise not_signed_in()
    return _checked(request, signed_in, request.app.state.settings).person


async def require_staff_session(
    signed_in: Annotated[SignedIn, Depends(require_session)],
) -> SignedIn:
    """Staff signed in with a browser session (view-as changes the session)."""
    if not signed_in.is_staff:
        raise forbidden("Only the integrator's staff can do this.")
    return signed_in


async def download_principal(
    request: Request,
    tenant: Annotated[Tenant, Depends(current_tenant)],
    backends: Annotated[Backends, Depends(current_backends)],
    signed_in: Annotated[SignedIn | None, Depends(resolve_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Whoever holds a download link: the token is the permission. Signed in, the
    service also sees who it is; a GET changes nothing, so no CSRF check."""
    if credentials is not None:
        return await _bearer_staff(request, tenant.id, backends, credentials.credentials)
    if signed_in is not None:
        return signed_in.person
    return gateway_principal(tenant_id=tenant.id)


def _nothing_here() -> StarletteHTTPException:
    # The same 404 as an address with no route: nothing says the route exists.
    return StarletteHTTPException(status_code=404)


async def authenticate_platform(
    request: Request,
    settings: Annotated[GatewaySettings, Depends(settings_of)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(platform_bearer)],
) -> Principal:
    """The platform operator: only on the platform host, only when a platform
    token is configured, and only with it (compared in constant time)."""
    if not settings.platform_token or not on_platform_host(request):
        raise _nothing_here()
    if credentials is None:
        raise _unauthenticated(
            detail="Send the platform token: 'Authorization: Bearer <token>'.",
            code="missing_token",
            challenge="Bearer",
        )
    if not hmac.compare_digest(credentials.credentials.encode(), settings.platform_token.encode()):
        raise _unauthenticated(
            detail="That is not the platform token. Check GATEWAY_PLATFORM_TOKEN.",
            code="invalid_token",
            challenge='Bearer error="invalid_token"',
        )
    return Principal(kind="platform", subject="platform-api")


async def docs_reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """The API docs: anyone on the platform host; on an integrator's host its
    staff (an API token or a staff session). A client or a visitor there gets a
    404: an integrator's clients are not its API's audience."""
    if on_platform_host(request):
        return  # before the backends are looked at: the platform host needs none
    tenant: Tenant = request.state.tenant
    backends: Backends = request.state.backends
    settings: GatewaySettings = request.app.state.settings
    if credentials is not None:
        try:
            await _bearer_staff(request, tenant.id, backends, credentials.credentials)
        except ProblemError:
            raise _nothing_here() from None
        return
    signed_in = await resolve_session(request, tenant, backends, settings)
    if signed_in is None or not signed_in.is_staff:
        raise _nothing_here()
