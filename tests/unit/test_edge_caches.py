"""Principal tokens reused and verified once, the tracing policy, and the
gateway's credential cache (per tenant, dropped on invalidation)."""

from __future__ import annotations

import asyncio
import time

import pytest
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, TraceIdRatioBased

from gateway.identity_cache import CredentialCache, ForgetOnWrite
from services.chassis import errors
from services.chassis.auth import Principal, PrincipalSigner, PrincipalVerifier
from services.chassis.telemetry import sampler_from_env

ALICE = Principal(kind="staff", subject="u1", tenant_id="t1", roles=frozenset({"admin"}))


def test_a_signer_reuses_a_token_for_most_of_its_life(keypair):
    signer = PrincipalSigner(keypair[0], ttl_seconds=60)
    first = signer.sign(ALICE, now=1000)
    assert signer.sign(ALICE, now=1030) == first  # 30 s of life left: reused
    assert signer.sign(ALICE, now=1041) != first  # under 20 s left: a fresh one
    other = Principal(kind="staff", subject="u1", tenant_id="t2", roles=frozenset({"admin"}))
    assert signer.sign(other, now=1041) != signer.sign(ALICE, now=1041)


def test_a_signer_remembers_a_bounded_number_of_principals(keypair):
    signer = PrincipalSigner(keypair[0], max_cached=2)
    tokens = [signer.sign(Principal(kind="staff", subject=f"u{i}"), now=1000) for i in range(3)]
    assert signer.sign(Principal(kind="staff", subject="u2"), now=1001) == tokens[2]
    assert signer.sign(Principal(kind="staff", subject="u0"), now=1001) != tokens[0]  # evicted


def test_a_verifier_trusts_a_verified_token_until_its_exp_only(keypair, monkeypatch):
    import jwt

    decoded = []
    real_decode = jwt.decode
    monkeypatch.setattr(
        "services.chassis.auth.jwt.decode",
        lambda *a, **k: decoded.append(1) or real_decode(*a, **k),
    )
    token = PrincipalSigner(keypair[0], ttl_seconds=60).sign(ALICE)
    clock = [time.time()]
    verifier = PrincipalVerifier(keypair[1], clock=lambda: clock[0])
    assert verifier.verify(token) == ALICE
    assert verifier.verify(token) == ALICE
    assert len(decoded) == 1  # the second answer came from the cache
    clock[0] += 61  # past exp: verified afresh (and PyJWT decides on its own clock)
    assert verifier.verify(token) == ALICE
    assert len(decoded) == 2
    with pytest.raises(errors.Unauthenticated):
        verifier.verify(PrincipalSigner(keypair[0]).sign(ALICE, now=time.time() - 3600))


def test_a_forged_token_is_refused_even_after_a_good_one(keypair):
    signer = PrincipalSigner(keypair[0])
    verifier = PrincipalVerifier(keypair[1])
    token = signer.sign(ALICE)
    verifier.verify(token)
    head, body, sig = token.split(".")
    with pytest.raises(errors.Unauthenticated):
        verifier.verify(f"{head}.{body}.{sig[:-4]}AAAA")


@pytest.mark.parametrize(
    ("env", "root"),
    [
        ({}, ALWAYS_OFF),
        ({"PORTAL_TRACE_FILE": "traces-{service}.jsonl"}, ALWAYS_ON),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, 0.01),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "PORTAL_TRACE_SAMPLE_RATIO": "0.25"}, 0.25),
    ],
)
def test_tracing_samples_roots_by_ratio_and_follows_the_parent(env, root):
    sampler = sampler_from_env(env)
    assert sampler is not None and "ParentBased" in sampler.get_description()
    if isinstance(root, float):
        assert TraceIdRatioBased(root).get_description() in sampler.get_description()
    else:
        assert root.get_description() in sampler.get_description()


def test_the_standard_sampler_variables_win_and_bad_ratios_are_refused():
    assert sampler_from_env({"OTEL_TRACES_SAMPLER": "always_on"}) is None
    with pytest.raises(ValueError):
        sampler_from_env({"PORTAL_TRACE_SAMPLE_RATIO": "2"})


class Identity:
    def __init__(self) -> None:
        self.calls = 0

    async def answer(self, value: str = "alice") -> str:
        self.calls += 1
        return value


async def test_the_credential_cache_answers_per_tenant_and_only_when_enabled():
    now = [0.0]
    cache = CredentialCache(ttl_seconds=5, clock=lambda: now[0])
    identity = Identity()
    await cache.get_or_load("t1", "session", "s", identity.answer)
    assert identity.calls == 1  # off until the invalidation feed is up: nothing kept
    cache.enabled = True
    for _ in range(3):
        assert await cache.get_or_load("t1", "session", "s", identity.answer) == "alice"
    assert identity.calls == 2
    # The same secret on another tenant's host is another key.
    assert await cache.get_or_load("t2", "session", "s", lambda: identity.answer("bob")) == "bob"
    assert identity.calls == 3
    now[0] = 5.1  # the bound: past the TTL identity is asked again
    await cache.get_or_load("t1", "session", "s", identity.answer)
    assert identity.calls == 4


async def test_invalidation_drops_the_tenant_and_a_racing_answer():
    cache = CredentialCache(ttl_seconds=5)
    cache.enabled = True
    identity = Identity()
    await cache.get_or_load("t1", "api_token", "k", identity.answer)
    await cache.get_or_load("t2", "api_token", "k", identity.answer)
    cache.forget_tenant("t1")
    assert len(cache) == 1
    # An answer read before a revocation lands must not be kept after it.
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> str:
        started.set()
        await release.wait()
        return "stale"

    task = asyncio.create_task(cache.get_or_load("t1", "api_token", "k", slow))
    await started.wait()
    cache.forget_tenant("t1")
    release.set()
    assert await task == "stale"
    assert await cache.get_or_load("t1", "api_token", "k", identity.answer) == "alice"
    cache.clear()
    assert len(cache) == 0


@pytest.mark.parametrize(
    ("method", "status", "kept"),
    [
        ("POST", 201, False),  # a change: the tenant's answers go
        ("DELETE", 204, False),
        ("POST", 500, False),  # unknown what it changed
        ("POST", 401, False),  # may follow a session ending
        ("POST", 403, False),
        ("POST", 409, True),  # a race's loser changed nothing
        ("PATCH", 422, True),
        ("GET", 200, True),  # a read never drops them
    ],
)
async def test_a_write_drops_the_tenants_credentials_unless_it_was_refused(method, status, kept):
    cache = CredentialCache(ttl_seconds=5)
    cache.enabled = True
    await cache.get_or_load("t1", "session", "s", Identity().answer)

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    class Tenant:
        id = "t1"

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "state": {"credentials": cache, "tenant": Tenant}}
    await ForgetOnWrite(app)(scope, None, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert len(cache) == (1 if kept else 0)


async def test_a_burst_with_one_secret_asks_identity_once_but_not_across_a_revocation():
    cache = CredentialCache(ttl_seconds=5)
    cache.enabled = True
    asked: list[str] = []
    release = asyncio.Event()

    async def slow(value: str = "alice") -> str:
        asked.append(value)
        await release.wait()
        return value

    burst = [asyncio.create_task(cache.get_or_load("t1", "session", "s", slow)) for _ in range(5)]
    await asyncio.sleep(0)
    cache.forget_tenant("t1")  # a revocation: later requests must not join the old question
    late = asyncio.create_task(cache.get_or_load("t1", "session", "s", lambda: slow("bob")))
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*burst) == ["alice"] * 5
    assert await late == "bob"
    assert asked == ["alice", "bob"]


async def test_a_shared_question_that_fails_lets_each_waiter_ask_itself():
    cache = CredentialCache(ttl_seconds=5)
    cache.enabled = True
    calls = 0
    release = asyncio.Event()

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await release.wait()
            raise errors.Unauthenticated("identity is down")
        return "alice"

    first = asyncio.create_task(cache.get_or_load("t1", "session", "s", flaky))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get_or_load("t1", "session", "s", flaky))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(errors.Unauthenticated):
        await first
    assert await second == "alice" and calls == 2
