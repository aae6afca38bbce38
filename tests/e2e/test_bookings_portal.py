"""Visits in the portal, every process separate: a client books a visit for
the projector in their cinema room through the gateway, sees it, moves it,
cancels it (the time is free again); another customer's equipment and
visits are 404 whatever the id; an archived customer sees their history but
cannot book; the .ics and the technician's feed parse with icalendar; 100
concurrent bookings of one slot through the gateway make one booking.

Bookings is set up over gRPC as dispatch would (the console is another
helper's): a technician (a staff user with the technician role, learned
from identity's event), their hours, a service type with a skill of this
test's own, so no other technician in the demo tenant qualifies."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import icalendar
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from portal.bookings.v1 import bookings_pb2 as bpb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.identity.v1 import identity_pb2 as ipb

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.e2e.test_front_door import (
    Browser,
    change_access,
    identity_call,
    signed_in_contact,
)
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"
EVERY_DAY_8_TO_6 = [bpb.WorkingHours(weekday=d, start="08:00", end="18:00") for d in range(1, 8)]


async def bookings_call(running: Running, method: str, request, principal: Principal):
    call = Caller(PrincipalSigner(running.suite.private_key), timeout=30)
    async with open_channel(running.suite.target("bookings")) as channel:
        stub = bookings_pb2_grpc.BookingsServiceStub(channel)
        return await call(getattr(stub, method), request, principal)


def dispatcher(running: Running) -> Principal:
    return Principal(
        kind="staff",
        subject=str(uuid.uuid4()),
        tenant_id=running.info["tenant_id"],
        roles=frozenset({"project_manager"}),
    )


async def staff(gw: httpx.AsyncClient, running: Running, method: str, path: str, **kw):
    r = await gw.request(method, path, headers=running.headers(), **kw)
    assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
    return r.json() if r.content else None


@dataclass
class Setup:
    tag: str
    technician_id: str
    service_type: bpb.ServiceType
    browser: Browser
    customer_id: str
    project_id: str
    room_id: str
    line_id: str


async def technician(running: Running, tag: str) -> str:
    platform = Principal(kind="platform", subject="test", tenant_id=running.info["tenant_id"])
    user = (
        await identity_call(
            running,
            "CreateStaffUser",
            ipb.CreateStaffUserRequest(
                request_id=str(uuid.uuid4()),
                email=f"tech-{tag}@acme-av.example",
                full_name=f"Tom Tech {tag}",
                roles=[ipb.STAFF_ROLE_TECHNICIAN],
            ),
            platform,
        )
    ).user
    staff_id = user.id

    async def known():
        found = await bookings_call(
            running, "ListTechnicians", bpb.ListTechniciansRequest(), dispatcher(running)
        )
        return any(t.staff_user_id == staff_id for t in found.technicians)

    await wait_for(known)
    await bookings_call(
        running,
        "UpdateTechnician",
        bpb.UpdateTechnicianRequest(
            staff_user_id=staff_id,
            skills=[f"skill-{tag}"],
            working_hours=EVERY_DAY_8_TO_6,
            update_mask=FieldMask(paths=["skills", "working_hours"]),
        ),
        dispatcher(running),
    )
    return staff_id


async def service_type(running: Running, tag: str, **overrides) -> bpb.ServiceType:
    fields = {
        "name": f"Projector check {tag}",
        "duration_minutes": 60,
        "skills": [f"skill-{tag}"],
        # Two days' notice: every offered time is past the 24-hour cut-offs.
        "min_notice_minutes": 48 * 60,
        "horizon_days": 30,
        "cancel_cutoff_minutes": 24 * 60,
        "reschedule_cutoff_minutes": 24 * 60,
        "allow_service_contract": True,
        "active": True,
    } | overrides
    return (
        await bookings_call(
            running,
            "CreateServiceType",
            bpb.CreateServiceTypeRequest(
                request_id=str(uuid.uuid4()), service_type=bpb.ServiceType(**fields)
            ),
            dispatcher(running),
        )
    ).service_type


async def customer_with_cinema(running: Running, gw, mail, tag: str) -> tuple:
    browser, customer_id, _contact = await signed_in_contact(running, gw, mail)
    project = await staff(
        gw,
        running,
        "POST",
        "/api/v1/projects",
        json={"name": f"Cinema {tag}", "customer_id": customer_id, "site_address": "1 Rd"},
    )
    pid = project["id"]
    await staff(gw, running, "PATCH", f"/api/v1/projects/{pid}", json={"service_contract": True})
    room = await staff(
        gw, running, "POST", f"/api/v1/projects/{pid}/rooms", json={"name": "Cinema"}
    )
    line = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/rooms/{room['id']}/lines",
        json={
            "manufacturer": "Sony",
            "model": "VPL-XW5000",
            "description": "4K laser projector",
            "quantity": 1,
            "unit_price_minor": 599_900,
        },
    )

    async def bookable():
        r = await browser.get("/api/v1/bookings/projects")
        assert r.status_code == 200, r.text
        found = [p for p in r.json()["projects"] if p["project_id"] == pid]
        return found and found[0]["service_contract"]

    await wait_for(bookable)
    return browser, customer_id, pid, room["id"], line["id"]


async def setup(running: Running, gw, mail, **type_overrides) -> Setup:
    tag = uuid.uuid4().hex[:6]
    tech = await technician(running, tag)
    stype = await service_type(running, tag, **type_overrides)
    browser, customer_id, pid, room_id, line_id = await customer_with_cinema(running, gw, mail, tag)
    return Setup(tag, tech, stype, browser, customer_id, pid, room_id, line_id)


async def slots(s: Setup, **params) -> list[dict]:
    r = await s.browser.get(
        "/api/v1/bookings/slots",
        params={"service_type_id": s.service_type.id, "project_id": s.project_id, **params},
    )
    assert r.status_code == 200, r.text
    return r.json()["slots"]


def visit(s: Setup, starts_at: str, **extra) -> dict:
    return {
        "project_id": s.project_id,
        "service_type_id": s.service_type.id,
        "starts_at": starts_at,
        "room_id": s.room_id,
        "product_line_ids": [s.line_id],
        "description": "The picture flickers.",
    } | extra


async def book(s: Setup, body: dict, key: str | None = None) -> httpx.Response:
    headers = {"X-CSRF-Token": await s.browser.csrf()}
    if key:
        headers["Idempotency-Key"] = key
    return await s.browser.client.post("/api/v1/bookings", json=body, headers=headers)


# -- the flow ---------------------------------------------------------------------------


async def test_a_client_books_sees_moves_and_cancels_a_visit(running, gw, mail):
    s = await setup(running, gw, mail)
    equipment = await s.browser.get("/api/v1/bookings/projects")
    (project,) = [p for p in equipment.json()["projects"] if p["project_id"] == s.project_id]
    assert project["rooms"][0]["products"][0]["model"] == "VPL-XW5000"
    free = await slots(s, days=14)
    assert free, "a technician working every day has free times"
    first = free[0]

    key = str(uuid.uuid4())
    r = await book(s, visit(s, first["starts_at"]), key)
    assert r.status_code == 201, r.text
    booked = r.json()
    assert r.headers["location"] == f"/api/v1/bookings/{booked['id']}"
    assert booked["products"][0]["model"] == "VPL-XW5000" and booked["room_name"] == "Cinema"
    assert booked["technician_id"] == s.technician_id
    again = await book(s, visit(s, first["starts_at"]), key)  # a double click books once
    assert again.status_code == 201 and again.json()["id"] == booked["id"]

    mine = (await s.browser.get("/api/v1/bookings")).json()
    assert [v["id"] for v in mine["upcoming"]] == [booked["id"]]
    assert first["starts_at"] not in [x["starts_at"] for x in await slots(s, days=14)]
    page = await s.browser.get("/visits")
    assert (
        page.status_code == 200 and "VPL-XW5000" in page.text and s.service_type.name in page.text
    )

    later = [x for x in free if x["local_date"] != first["local_date"]][-1]
    headers = {"X-CSRF-Token": await s.browser.csrf()}
    moved = await s.browser.client.post(
        f"/api/v1/bookings/{booked['id']}/reschedule",
        json={"starts_at": later["starts_at"]},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"].replace("Z", "+00:00") == later["starts_at"].replace(
        "Z", "+00:00"
    )
    assert moved.json()["sequence"] > booked["sequence"]

    cancelled = await s.browser.client.post(
        f"/api/v1/bookings/{booked['id']}/cancel", json={"reason": "Fixed itself"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert later["starts_at"] in [x["starts_at"] for x in await slots(s, days=14)]


async def test_the_ics_and_the_technicians_feed_parse_with_utc_and_tzid(running, gw, mail):
    # A zone not UTC, so the times carry a TZID (put back afterwards: one tenant for all).
    before = (
        await bookings_call(
            running, "GetBookingSettings", bpb.GetBookingSettingsRequest(), dispatcher(running)
        )
    ).settings
    await zone_is(running, "America/New_York")
    try:
        await ics_and_feed(running, gw, mail)
    finally:
        await zone_is(running, before.time_zone)


async def zone_is(running: Running, zone: str) -> None:
    await bookings_call(
        running,
        "UpdateBookingSettings",
        bpb.UpdateBookingSettingsRequest(
            settings=bpb.BookingSettings(time_zone=zone),
            update_mask=FieldMask(paths=["time_zone"]),
        ),
        dispatcher(running),
    )


async def ics_and_feed(running: Running, gw, mail) -> None:
    s = await setup(running, gw, mail)
    slot = (await slots(s, days=14))[0]
    booked = (await book(s, visit(s, slot["starts_at"]))).json()

    r = await s.browser.get(f"/api/v1/bookings/{booked['id']}/calendar.ics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    (event,) = cal.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert "TZID" in event["DTSTART"].params
    assert start.astimezone(UTC) == datetime.fromisoformat(slot["starts_at"].replace("Z", "+00:00"))
    assert event.decoded("DTSTAMP").utcoffset().total_seconds() == 0
    assert cal.walk("VTIMEZONE"), "the zone travels with the event"
    page_ics = await s.browser.get(f"/visits/{booked['id']}/calendar.ics")
    assert page_ics.status_code == 200 and b"BEGIN:VEVENT" in page_ics.content

    token = (
        await bookings_call(
            running,
            "IssueFeedToken",
            bpb.IssueFeedTokenRequest(technician_id=s.technician_id),
            dispatcher(running),
        )
    ).token
    async with httpx.AsyncClient(base_url=running.suite.gateway_url, trust_env=False) as anon:
        feed = await anon.get(f"/ics/{token}.ics", headers={"Host": running.host})
        assert feed.status_code == 200, feed.text
        assert feed.headers["content-type"].startswith("text/calendar")
        events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
        starts = [e.decoded("DTSTART").astimezone(UTC) for e in events]
        assert datetime.fromisoformat(slot["starts_at"].replace("Z", "+00:00")) in starts
        assert all("TZID" in e["DTSTART"].params for e in events)
        await bookings_call(
            running,
            "RevokeFeedToken",
            bpb.RevokeFeedTokenRequest(technician_id=s.technician_id),
            dispatcher(running),
        )
        gone = await anon.get(f"/ics/{token}.ics", headers={"Host": running.host})
        assert gone.status_code == 404


async def test_another_customers_equipment_and_visits_are_not_found(running, gw, mail):
    s = await setup(running, gw, mail)
    slot = (await slots(s, days=14))[0]
    theirs = (await book(s, visit(s, slot["starts_at"]))).json()
    other, _cid, other_pid, _room, _line = await customer_with_cinema(
        running, gw, mail, s.tag + "b"
    )
    headers = {"X-CSRF-Token": await other.csrf()}
    for method, path, body in [
        ("GET", f"/api/v1/bookings/{theirs['id']}", None),
        ("GET", f"/api/v1/bookings/{theirs['id']}/calendar.ics", None),
        ("POST", f"/api/v1/bookings/{theirs['id']}/cancel", {}),
        ("POST", f"/api/v1/bookings/{theirs['id']}/reschedule", {"starts_at": slot["starts_at"]}),
    ]:
        r = await other.client.request(method, path, json=body, headers=headers)
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert r.headers["content-type"] == PROBLEM
    assert (await other.get(f"/visits/{theirs['id']}/move")).status_code == 404
    # Booking against the first customer's project: as if it did not exist.
    r = await other.client.post(
        "/api/v1/bookings", json=visit(s, slot["starts_at"]), headers=headers
    )
    assert r.status_code == 404, r.text
    # Their room (and projector) named on one's own project: not one of its rooms.
    r = await other.client.post(
        "/api/v1/bookings",
        json=visit(s, slot["starts_at"], project_id=other_pid),
        headers=headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "room_id", r.text
    assert (await other.get("/api/v1/bookings")).json()["upcoming"] == []
    await other.client.aclose()


async def test_an_archived_customer_sees_history_but_cannot_book(running, gw, mail):
    s = await setup(running, gw, mail)
    free = await slots(s, days=14)
    booked = (await book(s, visit(s, free[0]["starts_at"]))).json()
    await change_access(running, gw, s.customer_id, "archived")

    async def read_only():
        r = await s.browser.get("/visits")
        return r.status_code == 200 and "archived" in r.text

    await wait_for(read_only)
    page = await s.browser.get("/visits")
    assert booked["service_type_id"] and s.service_type.name in page.text
    assert 'href="/visits/book"' not in page.text
    listed = (await s.browser.get("/api/v1/bookings")).json()
    assert [v["id"] for v in listed["upcoming"]] == [booked["id"]]
    r = await book(s, visit(s, free[-1]["starts_at"]))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == PROBLEM


async def test_past_the_cutoff_the_refusal_explains_and_gives_the_contact(running, gw, mail):
    # Cut-offs longer than the horizon: every visit is already too close to change online.
    s = await setup(
        running,
        gw,
        mail,
        cancel_cutoff_minutes=20 * 24 * 60,
        reschedule_cutoff_minutes=20 * 24 * 60,
    )
    await staff(
        gw,
        running,
        "PATCH",
        f"/api/v1/projects/{s.project_id}",
        json={"project_manager_name": "Sam Lee", "project_manager_email": "sam@acme-av.example"},
    )
    slot = (await slots(s, days=14))[0]
    booked = (await book(s, visit(s, slot["starts_at"]))).json()
    assert booked["can_cancel"] is False and booked["can_reschedule"] is False
    headers = {"X-CSRF-Token": await s.browser.csrf()}
    r = await s.browser.client.post(
        f"/api/v1/bookings/{booked['id']}/cancel", json={}, headers=headers
    )
    assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["code"] == "past_cutoff"
    assert problem["contact"]["to"] == "sam@acme-av.example"
    assert "sam@acme-av.example" in problem["detail"]
    page = await s.browser.get("/visits")
    assert "too close to the visit" in page.text and "mailto:sam@acme-av.example" in page.text


# -- the race ---------------------------------------------------------------------------


async def overlapping_blocks(running: Running, technician_id: str) -> tuple[int, int]:
    """(the technician's active blocks, pairs of them that overlap), read as
    the superuser past row-level security."""
    import asyncpg

    admin = running.suite.postgres.admin_url.rsplit("/", 1)[0] + "/bookings"
    conn = await asyncpg.connect(admin)
    try:
        held = await conn.fetchval(
            "SELECT count(*) FROM assignment WHERE active AND technician_id = $1",
            uuid.UUID(technician_id),
        )
        pairs = await conn.fetchval(
            "SELECT count(*) FROM assignment a JOIN assignment b ON a.id < b.id "
            "AND a.technician_id = b.technician_id AND a.active AND b.active "
            "AND tstzrange(a.block_starts_at, a.block_ends_at) "
            "&& tstzrange(b.block_starts_at, b.block_ends_at) WHERE a.technician_id = $1",
            uuid.UUID(technician_id),
        )
    finally:
        await conn.close()
    return held, pairs


async def test_a_hundred_bookings_of_one_slot_through_the_gateway_make_one(running, gw, mail):
    s = await setup(running, gw, mail)
    slot = (await slots(s, days=14))[0]
    body = visit(s, slot["starts_at"])
    token = await s.browser.csrf()
    cookies = dict(s.browser.client.cookies)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)

    async with httpx.AsyncClient(
        base_url=running.suite.gateway_url,
        headers={"Host": s.browser.host, "X-CSRF-Token": token},
        cookies=cookies,
        timeout=120,
        limits=limits,
        trust_env=False,
    ) as client:
        retries: list[str] = []

        async def attempt() -> httpx.Response:
            # No answer to the race: a 503 (load shed), a 504 (bookings slower
            # than the gateway's deadline on a busy machine), or a connection
            # the server closed as it was reused. Retried with the same
            # Idempotency-Key, which books at most once, backing off with
            # jitter so the retries do not keep the machine as busy as before.
            key = str(uuid.uuid4())
            for n in itertools.count():
                try:
                    r = await client.post(
                        "/api/v1/bookings", json=body, headers={"Idempotency-Key": key}
                    )
                    if r.status_code not in (503, 504):
                        return r
                    retries.append(str(r.status_code))
                except httpx.TransportError as exc:
                    retries.append(type(exc).__name__)
                await asyncio.sleep(min(10.0, 0.5 * 2**n) * random.uniform(0.5, 1.5))
            raise AssertionError("unreachable")

        began = time.monotonic()
        answers = await asyncio.gather(*(attempt() for _ in range(100)))
        took = time.monotonic() - began
    won = [r for r in answers if r.status_code == 201]
    lost = [r for r in answers if r.status_code != 201]
    assert len(won) == 1, [r.status_code for r in answers]
    assert len(lost) == 99
    for r in lost:
        assert r.status_code == 409 and r.headers["content-type"] == PROBLEM, r.text
        problem = r.json()
        assert problem["code"] == "slot_taken"
        assert problem["detail"] == "That time was just taken — here are the free times now."
        assert slot["starts_at"] not in [x["starts_at"] for x in problem["slots"]]
    listed = (await s.browser.get("/api/v1/bookings")).json()
    assert len(listed["upcoming"]) == 1
    assert await overlapping_blocks(running, s.technician_id) == (1, 0)
    print(
        f"\n100 concurrent bookings of one slot through the gateway answered in {took:.2f}s"
        f" ({len(retries)} retried after {sorted(set(retries))})"
    )
