"""Identity's answers for a session cookie or an API token, kept a few seconds.

Every authenticated request needs identity to say who the cookie or token
belongs to; asking on every request was a third of the suite's CPU. This
cache keeps a positive answer for `ttl` seconds (GATEWAY_AUTH_CACHE_SECONDS,
5 by default), keyed by (tenant, kind, SHA-256 of the secret): one tenant's
entries are never seen from another tenant's host. Refusals are not cached.

A burst of requests with one secret (a browser's parallel requests, a race's
racers right after a write dropped the tenant's entries) asks identity once:
the others wait for that answer, if it was asked since the tenant's last
invalidation; a question that fails is not shared (each asks again).

Invalidation, so a revocation does not wait for the TTL:
- identity publishes an event in the transaction of every change that can
  end or change a session, a token or a client's access (SessionEnded,
  SessionChanged, ApiTokenRevoked, CustomerAccessChanged, CustomerPurged);
  `IdentityEvents` hears every `identity.>` message on core NATS and drops the
  tenant's entries (all of them: such changes are rare and this needs no index);
- a state-changing request (POST, PUT, PATCH, DELETE) through this gateway drops
  its tenant's entries before its response starts, so the browser that signed
  out or started viewing as a client never sees the old answer from this replica
  (not when it was refused with a 4xx other than 401/403: it changed nothing);
- an answer loaded while its tenant was invalidated is not stored (a per-tenant
  generation counter), so a read that raced a revocation cannot outlive it.

Backstop: the cache is used only while the NATS subscription is up; on a
disconnect it is emptied and bypassed until the subscription is back (then
emptied again: messages sent meanwhile were missed). So a revocation takes
effect on the next request after identity's event reaches the gateway
(milliseconds), and in any case within `ttl` seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.chassis.events import TENANT_HEADER, parse_envelope
from services.chassis.telemetry import get_logger

log = get_logger(__name__)
T = TypeVar("T")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FAILED = object()  # a shared load that raised
SUBJECTS = "identity.>"


class CredentialCache:
    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_entries: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str, bytes], tuple[float, Any]] = OrderedDict()
        # Bumped by invalidation; a load stores its answer only if neither moved.
        self._epoch = 0
        self._generation: dict[str, int] = {}
        self._loading: dict[tuple[tuple[str, str, bytes], tuple[int, int]], asyncio.Future] = {}
        # Off until the invalidation feed is live: no cache without invalidation.
        self.enabled = False

    async def get_or_load(
        self, tenant_id: str, kind: str, secret: str, load: Callable[[], Awaitable[T]]
    ) -> T:
        if not self.enabled or self._ttl <= 0:
            return await load()
        key = (tenant_id, kind, hashlib.sha256(secret.encode()).digest())
        entry = self._entries.get(key)
        if entry is not None:
            if entry[0] > self._clock():
                self._entries.move_to_end(key)
                return entry[1]
            del self._entries[key]
        before = (self._epoch, self._generation.get(tenant_id, 0))
        # One question to identity for a burst (a browser's parallel requests,
        # a race's racers) with the same secret: later ones wait for the first
        # one's answer, if it was asked since the last invalidation.
        flight = (key, before)
        pending = self._loading.get(flight)
        if pending is not None:
            shared = await asyncio.shield(pending)
            return shared if shared is not _FAILED else await load()
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loading[flight] = done
        try:
            value = await load()
        except BaseException:
            done.set_result(_FAILED)  # refusals are not shared: each asks again
            raise
        else:
            done.set_result(value)
        finally:
            del self._loading[flight]
        # Invalidated (or switched off) while identity answered: do not keep it.
        if self.enabled and (self._epoch, self._generation.get(tenant_id, 0)) == before:
            self._entries[key] = (self._clock() + self._ttl, value)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return value

    def forget_tenant(self, tenant_id: str) -> None:
        self._generation[tenant_id] = self._generation.get(tenant_id, 0) + 1
        for key in [k for k in self._entries if k[0] == tenant_id]:
            del self._entries[key]

    def clear(self) -> None:
        self._epoch += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def tenant_of(msg: Msg) -> str | None:
    """The tenant an identity event is about: its header, else its envelope."""
    tenant = (msg.headers or {}).get(TENANT_HEADER)
    if tenant:
        return tenant
    try:
        return parse_envelope(msg.data).tenant_id or None
    except Exception:
        return None


class IdentityEvents:
    """Core NATS subscription to identity's events that keeps the cache honest.

    Core, not a JetStream consumer: nothing is to be replayed (the cache starts
    empty) and every gateway replica must hear every event."""

    def __init__(self, cache: CredentialCache, *, url: str) -> None:
        self._cache = cache
        self._url = url
        self._nc: Client | None = None

    async def start(self) -> None:
        self._nc = await nats.connect(
            self._url,
            name="gateway-identity-events",
            max_reconnect_attempts=-1,
            disconnected_cb=self._down,
            reconnected_cb=self._up,
            closed_cb=self._down,
        )
        await self._nc.subscribe(SUBJECTS, cb=self._on_event)
        await self._nc.flush()  # the subscription is registered before the cache turns on
        self._cache.clear()
        self._cache.enabled = True
        log.info("credential cache on", subjects=SUBJECTS)

    async def stop(self) -> None:
        self._cache.enabled = False
        self._cache.clear()
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()

    async def _on_event(self, msg: Msg) -> None:
        tenant = tenant_of(msg)
        if tenant is None:
            self._cache.clear()
        else:
            self._cache.forget_tenant(tenant)

    async def _down(self) -> None:
        if self._cache.enabled:
            log.warning("credential cache off: identity's events are not reaching the gateway")
        self._cache.enabled = False
        self._cache.clear()

    async def _up(self) -> None:
        # Core NATS resubscribes on reconnect; what was sent meanwhile is lost.
        self._cache.clear()
        self._cache.enabled = True
        log.info("credential cache back on")


class ForgetOnWrite:
    """Drops the tenant's cached credentials when a state-changing request
    answers, before the response starts: sign-out, view-as, revocations and
    access changes made through this replica show on the very next request.

    Not after a refusal that changed nothing (a 4xx but 401 and 403): the 99
    losers of a race for one slot would otherwise each send every request
    still in flight back to identity."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _UNSAFE:
            await self.app(scope, receive, send)
            return
        refused = False

        async def send_after_forgetting(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                refused = changed_nothing(message["status"])
                if not refused:
                    _forget(scope)
            await send(message)

        try:
            await self.app(scope, receive, send_after_forgetting)
        finally:
            if not refused:
                _forget(scope)  # also when the request failed before answering


def changed_nothing(status: int) -> bool:
    """A refusal of the request itself (invalid, not found, conflict, too
    many): nothing a session or token depends on was changed. 401 and 403
    are not counted: a refusal may follow a session ending."""
    return 400 <= status < 500 and status not in (401, 403)


def _forget(scope: Scope) -> None:
    state = scope.get("state") or {}
    cache: CredentialCache | None = state.get("credentials")
    tenant = state.get("tenant")
    if cache is not None and tenant is not None:
        cache.forget_tenant(tenant.id)
