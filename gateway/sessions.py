"""Browser sessions: the cookie, identity's answer for it, and the principals
the gateway sends on the person's behalf.

A request that carries the cookie asks identity (`ResolveSession`), at most
once per request, through the gateway's short credential cache (see
gateway.identity_cache: dropped on identity's revocation events, bounded by
GATEWAY_AUTH_CACHE_SECONDS). A cookie from another tenant's host is simply not
found in this tenant: signed out.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated

import grpc
from fastapi import Depends, Request
from portal.identity.v1 import identity_pb2
from starlette.responses import Response

from gateway import csrf
from gateway.backends import Backends, RemoteError, current_backends, gateway_principal
from gateway.identity_cache import CredentialCache
from gateway.settings import GatewaySettings
from gateway.tenancy import Tenant, current_tenant
from services.chassis.auth import Principal

Session = identity_pb2.Session
_MAX_COOKIE = 512
# What identity answers for a token that opens no session here.
_SIGNED_OUT = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
    }
)
_STATE_KEY = "signed_in"


def role_names(roles: Iterable[str]) -> frozenset[str]:
    """Session roles as the services name them: "project_manager", "approver"."""
    names = set()
    for role in roles:
        name = role.strip().lower().removeprefix("staff_role_").removeprefix("contact_role_")
        if name and name != "unspecified":
            names.add(name)
    return frozenset(names)


def person_principal(session: Session, *, tenant_id: str) -> Principal:
    """The signed-in person as themself: staff stay staff even while viewing
    a client's portal (the console, their account, ending the view)."""
    if session.kind == identity_pb2.PRINCIPAL_KIND_STAFF:
        return Principal(
            kind="staff",
            subject=session.subject_id,
            tenant_id=tenant_id,
            roles=role_names(session.roles),
            session_id=session.id,
        )
    return client_principal(session, tenant_id=tenant_id)


def client_principal(session: Session, *, tenant_id: str) -> Principal:
    roles = role_names(session.roles) & {"approver", "viewer"}
    return Principal(
        kind="client",
        subject=session.subject_id,
        tenant_id=tenant_id,
        customer_id=session.customer_id,
        roles=roles or frozenset({"viewer"}),  # unknown role: the least it could be
        read_only=session.read_only,
        session_id=session.id,
    )


def portal_principal(session: Session, *, tenant_id: str) -> Principal | None:
    """Who the client pages act as: the contact; for staff viewing as a client,
    a read-only viewer of that customer; None for staff who are not."""
    if session.kind == identity_pb2.PRINCIPAL_KIND_CLIENT:
        return client_principal(session, tenant_id=tenant_id)
    if session.view_as_client and session.customer_id:
        return Principal(
            kind="client",
            subject=session.subject_id,
            tenant_id=tenant_id,
            customer_id=session.customer_id,
            roles=frozenset({"viewer"}),
            read_only=True,
            session_id=session.id,
            viewing_as=True,
        )
    return None


@dataclass(frozen=True)
class SignedIn:
    session: Session
    token: str  # the cookie's secret; never logged, never shown
    tenant_id: str
    csrf_token: str

    @property
    def is_staff(self) -> bool:
        return self.session.kind == identity_pb2.PRINCIPAL_KIND_STAFF

    @property
    def viewing_as_client(self) -> bool:
        return self.is_staff and self.session.view_as_client

    # Worked out once per request: the pages' guard and the page itself both ask.
    @cached_property
    def person(self) -> Principal:
        return person_principal(self.session, tenant_id=self.tenant_id)

    @cached_property
    def portal(self) -> Principal | None:
        return portal_principal(self.session, tenant_id=self.tenant_id)

    @property
    def landing(self) -> str:
        """Where "/" sends them: staff to the console, clients (and staff
        viewing as one) to the portal home."""
        return "/console" if self.is_staff and not self.viewing_as_client else "/home"


async def settings_of(request: Request) -> GatewaySettings:
    return request.app.state.settings


def credentials_of(request: Request) -> CredentialCache:
    cache = getattr(request.state, "credentials", None)
    return cache if cache is not None else _NO_CACHE


_NO_CACHE = CredentialCache(ttl_seconds=0)  # an app without the lifespan's cache


def session_cookie_value(request: Request, settings: GatewaySettings) -> str | None:
    token = request.cookies.get(settings.session_cookie)
    if not token or len(token) > _MAX_COOKIE:
        return None
    return token


async def resolve_session(
    request: Request,
    tenant: Annotated[Tenant, Depends(current_tenant)],
    backends: Annotated[Backends, Depends(current_backends)],
    settings: Annotated[GatewaySettings, Depends(settings_of)],
) -> SignedIn | None:
    """The request's session, asked of identity once per request."""
    return await _resolve(request, tenant, backends, settings)


async def session_of(request: Request) -> SignedIn | None:
    """`resolve_session` without its three sub-dependencies, for the hot
    guards (the pages' and the API callers'): each dependency FastAPI solves
    costs ~10 µs of the gateway's CPU per request, and these three only
    read what the middleware and the app put on the request."""
    return await _resolve(
        request, request.state.tenant, request.state.backends, request.app.state.settings
    )


async def _resolve(
    request: Request, tenant: Tenant, backends: Backends, settings: GatewaySettings
) -> SignedIn | None:
    state = request.state
    if hasattr(state, _STATE_KEY):
        return getattr(state, _STATE_KEY)
    signed_in = None
    token = session_cookie_value(request, settings)
    if token is not None:
        identity = backends.identity

        def ask() -> Awaitable[identity_pb2.ResolveSessionResponse]:
            return identity.call(
                identity.stub.ResolveSession,
                identity_pb2.ResolveSessionRequest(token=token),
                principal=gateway_principal(tenant_id=tenant.id),
            )

        try:
            response = await credentials_of(request).get_or_load(tenant.id, "session", token, ask)
        except RemoteError as exc:
            if exc.code not in _SIGNED_OUT:
                raise
        else:
            signed_in = SignedIn(
                session=response.session,
                token=token,
                tenant_id=tenant.id,
                csrf_token=csrf.session_token(settings.csrf_secret, token),
            )
    setattr(state, _STATE_KEY, signed_in)
    return signed_in


def set_session_cookie(
    response: Response, new_session: identity_pb2.NewSession, settings: GatewaySettings
) -> None:
    max_age = None
    if new_session.session.HasField("expires_at"):
        max_age = max(0, new_session.session.expires_at.seconds - int(time.time()))
    response.set_cookie(
        settings.session_cookie,
        new_session.token,
        max_age=max_age,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: GatewaySettings) -> None:
    response.delete_cookie(
        settings.session_cookie,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def client_info(request: Request) -> identity_pb2.ClientInfo:
    return identity_pb2.ClientInfo(
        ip=request.client.host if request.client else "",
        user_agent=request.headers.get("user-agent", "")[:512],
    )


async def end_session_quietly(backends: Backends, signed_in: SignedIn | None) -> None:
    """Signing in again replaces the old session; it should not linger."""
    if signed_in is None:
        return
    identity = backends.identity
    with contextlib.suppress(RemoteError):  # it expires by itself; the new one matters more
        await identity.call(
            identity.stub.SignOut,
            identity_pb2.SignOutRequest(token=signed_in.token),
            principal=signed_in.person,
        )
