"""bench/bookings.py's races: 100 concurrent bookings of one slot straight to
bookings over gRPC (`race`), and as a client makes them (`gateway_race`):
through the gateway with a cookie session, with the CPU of each process per
attempt.

The gateway race is two measurements on the seeded calendar (the race's service type, one
technician who can take it):

- the winner alone: one `POST /api/v1/bookings` of a free slot, nobody else
  asking: what a successful booking costs each process;
- the race: 100 concurrent POSTs of one other slot, each with its own
  Idempotency-Key: one 201, 99 409 `slot_taken` (each with the free times
  now). The losers' CPU per attempt is the race's, less the winner's, over 99.

CPU is per process (the suite's gateway, identity, projects, bookings and
PostgreSQL with its backends), read before and after each measurement.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
from portal.bookings.v1 import bookings_pb2 as pb
from portal.bookings.v1 import bookings_pb2_grpc

from bench.bookings import DAYS, FLOOR_RACE_S, RACERS, Calendar, _approver, _py_spy
from bench.pages import CLIENT_EMAIL, sign_in
from bench.procs import cpu_seconds
from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel

PROCESSES = ("gateway", "identity", "projects", "bookings")
LONE = 5  # lone bookings averaged for the winner's CPU


async def race(target: str, private_key: str, cal: Calendar) -> dict:
    """100 clients book one slot at once; one technician (of the 20) can take it."""
    call = Caller(PrincipalSigner(private_key), timeout=30)
    staff = Principal(
        kind="staff",
        subject="bench",
        tenant_id=cal.demo.tenant_id,
        roles=frozenset({"project_manager"}),
    )
    async with open_channel(target) as channel:
        stub = bookings_pb2_grpc.BookingsServiceStub(channel)
        first = (datetime.now(UTC) + timedelta(days=DAYS + 1)).date()
        answer = await call(
            stub.ListSlots,
            pb.ListSlotsRequest(
                service_type_id=cal.race_type_id,
                project_id=cal.demo.project_id,
                from_date=first.isoformat(),
                days=1,
            ),
            staff,
        )
        slot = answer.slots[0]

        async def book(i: int):
            client = _approver(cal.demo)
            try:
                return await call(
                    stub.BookVisit,
                    pb.BookVisitRequest(
                        request_id=str(uuid.uuid4()),
                        project_id=cal.demo.project_id,
                        service_type_id=cal.race_type_id,
                        starts_at=slot.starts_at,
                        description=f"racer {i}",
                    ),
                    client,
                )
            except grpc.aio.AioRpcError as exc:
                return exc

        began = time.perf_counter()
        answers = await asyncio.gather(*(book(i) for i in range(RACERS)))
        took = time.perf_counter() - began
    errors = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    codes: dict[str, int] = {}
    for e in errors:
        codes[e.code().name] = codes.get(e.code().name, 0) + 1
    return {
        "racers": RACERS,
        "won": RACERS - len(errors),
        "refused": codes,
        "all_answered_s": took,
        "floor_s": FLOOR_RACE_S,
        "met": took <= FLOOR_RACE_S,
    }


def _pids(suite) -> dict[str, int]:
    pids = {name: suite.children[name].proc.pid for name in PROCESSES}
    pids["postgres"] = suite.postgres.pid or 0
    return pids


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds([pid]) for name, pid in pids.items()}


def _per_attempt(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, int]:
    """µs of CPU per attempt in each process."""
    return {name: round(1e6 * (after[name] - before[name]) / n) for name in before}


def _client(info: dict, cookie: str, csrf: str = "", n: int = 1) -> httpx.AsyncClient:
    headers = {"Host": info["demo_host"], "Cookie": cookie}
    if csrf:
        headers["X-CSRF-Token"] = csrf
    return httpx.AsyncClient(
        base_url=info["gateway_url"],
        headers=headers,
        timeout=60,
        limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
        trust_env=False,
    )


async def _race(suite, info: dict, cal: Calendar, password: str, profile: Path | None) -> dict:
    cookie = await asyncio.to_thread(
        sign_in, info["gateway_url"], info["demo_host"], CLIENT_EMAIL, password
    )
    async with _client(info, cookie) as one:
        csrf = (await one.get("/api/v1/me")).json()["csrf_token"]
    day = (datetime.now(UTC) + timedelta(days=DAYS)).date()

    async def first_free(client: httpx.AsyncClient) -> str:
        r = await client.get(
            "/api/v1/bookings/slots",
            params={
                "service_type_id": cal.race_type_id,
                "project_id": cal.demo.project_id,
                # The API's name is `from`: an unknown `from_date` was ignored, so
                # the race searched from today, and on a New York evening today
                # and the next two days ran out of slots before the lone bookings did.
                "from": day.isoformat(),
                "days": 3,
            },
        )
        r.raise_for_status()
        return r.json()["slots"][0]["starts_at"]

    retried: list[str] = []

    async def post(client: httpx.AsyncClient, starts_at: str, i: int) -> httpx.Response:
        body = {
            "project_id": cal.demo.project_id,
            "service_type_id": cal.race_type_id,
            "starts_at": starts_at,
            "description": f"racer {i}",
        }
        key = str(uuid.uuid4())
        # A kept-alive connection the gateway closed as it was reused: again,
        # with the same key (which books at most once), counted.
        for _ in range(5):
            try:
                return await client.post(
                    "/api/v1/bookings", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError as exc:
                retried.append(type(exc).__name__)
        raise RuntimeError(f"racer {i}: no answer after 5 tries ({retried[-5:]})")

    pids = _pids(suite)
    # The winner alone, LONE times in a row (CPU is read in 10 ms ticks), on
    # one connection kept busy (the gateway closes one idle for 5 s).
    async with _client(info, cookie, csrf) as one:
        wanted = await first_free(one)
        alone, spent = [], dict.fromkeys(pids, 0.0)
        for i in range(LONE):
            w0 = _cpu(pids)
            alone.append((await post(one, wanted, i)).status_code)
            w1 = _cpu(pids)
            spent = {n: spent[n] + w1[n] - w0[n] for n in spent}
            wanted = await first_free(one)
    spies = (
        [_py_spy(pids[n], profile, f"race-{n}") for n in ("gateway", "bookings")] if profile else []
    )
    async with contextlib.AsyncExitStack() as stack:
        # One client (one connection) per racer: httpx's pool looks through its
        # connections for each request, and over one pool of 100 the racers'
        # own CPU was most of the race's wall time (1.4 s of 1.5 s). Every
        # connection opened first (reads), so it measures bookings, not TCP
        # handshakes.
        racers = [
            await stack.enter_async_context(_client(info, cookie, csrf)) for _ in range(RACERS)
        ]
        await asyncio.gather(*(c.get("/api/v1/me") for c in racers))
        if spies:
            await asyncio.sleep(1.0)  # attached before the race
        r0 = _cpu(pids)
        began, client_began = time.perf_counter(), time.process_time()
        answers = await asyncio.gather(*(post(c, wanted, i) for i, c in enumerate(racers)))
        took, client_cpu = time.perf_counter() - began, time.process_time() - client_began
        r1 = _cpu(pids)
    for spy in spies:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
    statuses: dict[str, int] = {}
    for a in answers:
        statuses[str(a.status_code)] = statuses.get(str(a.status_code), 0) + 1
    lost = [a for a in answers if a.status_code == 409]
    winner = _per_attempt(dict.fromkeys(pids, 0.0), spent, LONE)
    race_total = _per_attempt(r0, r1, 1)
    return {
        "racers": RACERS,
        "lone_booking_statuses": alone,
        "retried": retried,
        "statuses": statuses,
        "losers_slot_taken": sum(1 for a in lost if a.json().get("code") == "slot_taken"),
        "all_answered_s": took,
        # The racers' own CPU (httpx, this process): part of the wall time, not the suite's.
        "client_cpu_s": round(client_cpu, 3),
        "floor_s": FLOOR_RACE_S,
        "met": took <= FLOOR_RACE_S and statuses.get("201") == 1,
        "winner_cpu_us": winner,
        "loser_cpu_us": {n: round((race_total[n] - winner[n]) / (RACERS - 1)) for n in race_total},
    }


def gateway_race(suite, info: dict, cal: Calendar, profile: Path | None = None) -> dict:
    """`profile`: py-spy records the gateway and bookings during the race."""
    from deploy.seed import DEMO_PASSWORD

    return asyncio.run(_race(suite, info, cal, DEMO_PASSWORD, profile))
