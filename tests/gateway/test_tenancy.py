from __future__ import annotations

import asyncio

import pytest
from portal.identity.v1 import identity_pb2

from gateway.tenancy import TenantCache, tenant_slug


@pytest.mark.parametrize(
    ("host", "slug"),
    [
        ("acme.localhost", "acme"),
        ("acme.localhost:8000", "acme"),
        ("ACME.LocalHost:8000", "acme"),
        ("acme.localhost.", "acme"),
        ("acme-av.localhost", "acme-av"),
        ("localhost", None),  # the bare base domain
        ("localhost:8000", None),
        ("a.b.localhost", None),  # one label only
        ("evil.com", None),
        ("acme.localhost.evil.com", None),
        ("acmelocalhost", None),
        ("-acme.localhost", None),
        ("acme-.localhost", None),
        ("ac_me.localhost", None),
        ("acme.localhost:80x", None),
        ("127.0.0.1:8000", None),
        ("[::1]:8000", None),
        ("", None),
        (None, None),
    ],
)
def test_host_names_a_tenant_only_as_one_label_under_the_base_domain(
    host: str | None, slug: str | None
) -> None:
    assert tenant_slug(host, base_domain="localhost") == slug


def test_a_multi_label_base_domain_works() -> None:
    assert tenant_slug("acme.portal.example.com", base_domain="portal.example.com") == "acme"
    assert tenant_slug("portal.example.com", base_domain="portal.example.com") is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lookups:
    """Counts lookups of a fixed set of tenants (a stand-in for identity's answer)."""

    def __init__(self, *slugs: str) -> None:
        self.tenants = {s: identity_pb2.Tenant(id=f"id-{s}", slug=s) for s in slugs}
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None
        self.error: Exception | None = None

    async def __call__(self, slug: str) -> identity_pb2.Tenant | None:
        self.calls.append(slug)
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.tenants.get(slug)


async def test_a_tenant_is_cached_for_its_ttl() -> None:
    clock, lookups = Clock(), Lookups("acme")
    cache = TenantCache(fetch=lookups, ttl_seconds=30, clock=clock)
    assert (await cache.get("acme")).id == "id-acme"
    clock.now += 29
    await cache.get("acme")
    assert lookups.calls == ["acme"]
    clock.now += 2
    await cache.get("acme")
    assert lookups.calls == ["acme", "acme"]


async def test_an_unknown_slug_is_remembered_briefly() -> None:
    clock, lookups = Clock(), Lookups()
    cache = TenantCache(fetch=lookups, ttl_seconds=30, miss_ttl_seconds=5, clock=clock)
    for _ in range(10):
        assert await cache.get("nobody") is None
    assert lookups.calls == ["nobody"]
    clock.now += 6
    await cache.get("nobody")
    assert lookups.calls == ["nobody", "nobody"]


async def test_concurrent_lookups_of_one_slug_share_one_fetch() -> None:
    lookups = Lookups("acme")
    lookups.gate = asyncio.Event()
    cache = TenantCache(fetch=lookups, ttl_seconds=30)
    waiting = [asyncio.create_task(cache.get("acme")) for _ in range(20)]
    await asyncio.sleep(0)
    lookups.gate.set()
    results = await asyncio.gather(*waiting)
    assert {t.id for t in results} == {"id-acme"}
    assert lookups.calls == ["acme"]


async def test_a_failed_lookup_reaches_every_waiter_and_is_not_cached() -> None:
    lookups = Lookups("acme")
    lookups.gate = asyncio.Event()
    lookups.error = RuntimeError("identity is down")
    cache = TenantCache(fetch=lookups, ttl_seconds=30)
    waiting = [asyncio.create_task(cache.get("acme")) for _ in range(3)]
    await asyncio.sleep(0)
    lookups.gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    lookups.error = None
    assert (await cache.get("acme")).id == "id-acme"
    assert lookups.calls == ["acme", "acme"]


async def test_a_cancelled_waiter_does_not_cancel_the_others() -> None:
    lookups = Lookups("acme")
    lookups.gate = asyncio.Event()
    cache = TenantCache(fetch=lookups, ttl_seconds=30)
    first, second = (asyncio.create_task(cache.get("acme")) for _ in range(2))
    await asyncio.sleep(0)
    first.cancel()
    lookups.gate.set()
    assert (await second).id == "id-acme"
    assert first.cancelled()


async def test_the_cache_holds_at_most_max_entries() -> None:
    lookups = Lookups()
    cache = TenantCache(fetch=lookups, ttl_seconds=30, max_entries=3)
    for slug in ("a", "b", "c", "d"):
        await cache.get(slug)
    await cache.get("a")  # evicted as the least recently used
    await cache.get("d")  # still held
    assert lookups.calls == ["a", "b", "c", "d", "a"]
