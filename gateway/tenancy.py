"""Host -> tenant. Every request except the open paths belongs to the tenant
its Host header names (`<slug>.<base_domain>`); any other host gets a 404 and
never reaches a route, so no route can show one tenant's data on another's host.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection

import grpc
from fastapi import Request
from portal.identity.v1 import identity_pb2
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.backends import Remote, RemoteError, gateway_principal
from gateway.problems import from_rpc_error, no_portal_here, respond

Tenant = identity_pb2.Tenant
Fetch = Callable[[str], Awaitable[Tenant | None]]

# One DNS label: the slug can never smuggle in a dot or another domain.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _host_name(host: str | None) -> str | None:
    """`Acme.Localhost.:8000` -> `acme.localhost`; None for no host, an IPv6
    literal or a port that is not a number."""
    if not host:
        return None
    host = host.strip().lower()
    if host.startswith("["):
        return None  # an IPv6 literal names no tenant
    name, colon, port = host.rpartition(":")
    if colon:
        if not port.isdigit():
            return None
        host = name
    return host.removesuffix(".")  # the absolute form, "acme.localhost."


def tenant_slug(host: str | None, *, base_domain: str) -> str | None:
    """`acme.localhost:8000` -> `acme`; None when the host names no tenant."""
    name = _host_name(host)
    suffix = "." + base_domain
    if name is None or not name.endswith(suffix):
        return None
    slug = name.removesuffix(suffix)
    return slug if _LABEL.fullmatch(slug) else None


def is_platform_host(host: str | None, *, base_domain: str) -> bool:
    """The bare base domain (`localhost:8000`, `portal.example.com`): the
    platform's own host, where no integrator lives."""
    return _host_name(host) == base_domain


class TenantCache:
    """Slug -> tenant, with misses cached briefly so a flood of bad hosts does
    not become a flood of identity calls. Concurrent lookups of one slug share
    a single fetch."""

    def __init__(
        self,
        *,
        fetch: Fetch,
        ttl_seconds: float,
        miss_ttl_seconds: float = 5.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._miss_ttl = miss_ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Tenant | None]] = OrderedDict()
        self._loading: dict[str, asyncio.Task[Tenant | None]] = {}

    async def get(self, slug: str) -> Tenant | None:
        entry = self._entries.get(slug)
        if entry is not None and entry[0] > self._clock():
            self._entries.move_to_end(slug)
            return entry[1]
        task = self._loading.get(slug)
        if task is None:
            task = asyncio.create_task(self._load(slug))
            # Retrieve the outcome even if every waiter was cancelled.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._loading[slug] = task
        # One waiter's cancellation (a client hanging up) must not cancel the others'.
        return await asyncio.shield(task)

    def put(self, slug: str, tenant: Tenant) -> None:
        """A tenant just changed through this gateway: serve the new one at once.
        (Other replicas catch up within the TTL.)"""
        self._entries[slug] = (self._clock() + self._ttl, tenant)
        self._entries.move_to_end(slug)

    async def _load(self, slug: str) -> Tenant | None:
        try:
            tenant = await self._fetch(slug)
        finally:
            del self._loading[slug]
        ttl = self._ttl if tenant is not None else self._miss_ttl
        self._entries[slug] = (self._clock() + ttl, tenant)
        self._entries.move_to_end(slug)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return tenant


def fetch_from_identity(identity: Remote) -> Fetch:
    async def fetch(slug: str) -> Tenant | None:
        try:
            response = await identity.call(
                identity.stub.GetTenantBySlug,
                identity_pb2.GetTenantBySlugRequest(slug=slug),
                principal=gateway_principal(),
            )
        except RemoteError as exc:
            # A slug identity refuses to parse names no tenant either.
            if exc.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise
        return response.tenant

    return fetch


class TenantMiddleware:
    """Resolves the tenant into `request.state.tenant` or answers 404 itself.

    `open_paths` answer on any host. `platform_paths` also answer on the
    platform host (the bare base domain), with `request.state.tenant` None;
    every other path there is the same 404 as an unknown host."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        base_domain: str,
        open_paths: Collection[str],
        platform_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self._base_domain = base_domain
        self._open_paths = frozenset(open_paths)
        self._platform_paths = frozenset(platform_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._open_paths:
            await self.app(scope, receive, send)
            return
        if scope["path"] in self._platform_paths and is_platform_host(
            Headers(scope=scope).get("host"), base_domain=self._base_domain
        ):
            scope.setdefault("state", {})["tenant"] = None
            await self.app(scope, receive, send)
            return
        try:
            tenant = await self._resolve(scope)
        except RemoteError as exc:
            await respond(from_rpc_error(exc.error, service=exc.service), path=scope["path"])(
                scope, receive, send
            )
            return
        if tenant is None:
            await respond(no_portal_here(), path=scope["path"])(scope, receive, send)
            return
        scope["state"]["tenant"] = tenant
        await self.app(scope, receive, send)

    async def _resolve(self, scope: Scope) -> Tenant | None:
        slug = tenant_slug(Headers(scope=scope).get("host"), base_domain=self._base_domain)
        if slug is None:
            return None
        tenants: TenantCache = scope["state"]["tenants"]  # put there by the app's lifespan
        return await tenants.get(slug)


async def current_tenant(request: Request) -> Tenant:
    return request.state.tenant


def on_platform_host(request: Request) -> bool:
    """True on the platform host (see TenantMiddleware's platform paths)."""
    return getattr(request.state, "tenant", None) is None


async def tenant_cache(request: Request) -> TenantCache:
    return request.state.tenants
