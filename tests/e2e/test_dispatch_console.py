"""The dispatch calendar through the gateway, every process separate:
technicians learnt from identity, their hours, time off and feed URL; service
types as field masks; install work orders planned per project, a busy
technician refused by name (never booked twice), time off flagging a visit and
a reassignment clearing it; a client's pending booking confirmed, moved and
cancelled by staff; the customer's visit history; the console's calendar and
its forms. A staff role without dispatch rights reads but changes nothing."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from markupsafe import escape
from portal.bookings.v1 import bookings_pb2 as bpb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.identity.v1 import identity_pb2 as ipb

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.e2e.test_front_door import identity_call, new_customer, staff_browser
from tests.e2e.test_projects_portal import staff
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"
EVERY_DAY = [{"weekday": d, "start": "07:00", "end": "20:00"} for d in range(1, 8)]


@dataclass
class Dispatch:
    tag: str
    zone: ZoneInfo
    day: date  # a day next week, on the booking zone's clock
    tom: dict
    ana: dict
    customer_id: str
    project: dict
    room: dict
    line: dict
    finance_token: str

    def at(self, clock: str, *, day: date | None = None) -> datetime:
        return datetime.combine(day or self.day, time.fromisoformat(clock), tzinfo=self.zone)

    def iso(self, clock: str, *, day: date | None = None) -> str:
        return self.at(clock, day=day).astimezone(UTC).isoformat()


async def _staff_user(running: Running, name: str, role: int) -> ipb.StaffUser:
    principal = Principal(kind="platform", subject="e2e", tenant_id=running.info["tenant_id"])
    slug = re.sub(r"\W+", "-", name.lower())
    answer = await identity_call(
        running,
        "CreateStaffUser",
        ipb.CreateStaffUserRequest(
            request_id=str(uuid.uuid4()),
            email=f"{slug}@acme-av.example",
            full_name=name,
            roles=[role],
        ),
        principal,
    )
    return answer.user


async def _token_for(running: Running, user: ipb.StaffUser) -> str:
    principal = Principal(kind="platform", subject="e2e", tenant_id=running.info["tenant_id"])
    answer = await identity_call(
        running, "IssueApiToken", ipb.IssueApiTokenRequest(user_id=user.id, name="e2e"), principal
    )
    return answer.secret


async def _technician(running: Running, gw: httpx.AsyncClient, user_id: str) -> dict:
    async def learnt():
        listed = await staff(gw, running, "GET", "/api/v1/technicians")
        return next((t for t in listed["technicians"] if t["staff_user_id"] == user_id), None)

    return await wait_for(learnt)


@pytest.fixture(scope="module")
async def dispatch(running: Running) -> Dispatch:
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(
        base_url=running.suite.gateway_url, timeout=15, trust_env=False
    ) as gw:
        tom_user = await _staff_user(running, f"Tom {tag}", ipb.STAFF_ROLE_TECHNICIAN)
        ana_user = await _staff_user(running, f"Ana {tag}", ipb.STAFF_ROLE_TECHNICIAN)
        finance = await _staff_user(running, f"Fran {tag}", ipb.STAFF_ROLE_FINANCE)
        techs = []
        for user, skills in ((tom_user, ["networking"]), (ana_user, ["cinema calibration"])):
            await _technician(running, gw, user.id)
            techs.append(
                await staff(
                    gw,
                    running,
                    "PATCH",
                    f"/api/v1/technicians/{user.id}",
                    json={"skills": skills, "working_hours": EVERY_DAY, "home_base": "Depot"},
                )
            )
        settings = await staff(gw, running, "GET", "/api/v1/booking-settings")
        zone = ZoneInfo(settings["time_zone"])
        customer_id, _ = await new_customer(running, gw, "approver")
        project = await staff(
            gw,
            running,
            "POST",
            "/api/v1/projects",
            json={"name": f"Cinema {tag}", "customer_id": customer_id, "site_address": "2 Rd"},
        )
        room = await staff(
            gw, running, "POST", f"/api/v1/projects/{project['id']}/rooms", json={"name": "Cinema"}
        )
        line = await staff(
            gw,
            running,
            "POST",
            f"/api/v1/rooms/{room['id']}/lines",
            json={
                "manufacturer": "Sony",
                "model": "VPL-XW7000",
                "quantity": 1,
                "unit_price_minor": 149_900,
            },
        )
        day = datetime.now(zone).date() + timedelta(days=8)
        return Dispatch(
            tag,
            zone,
            day,
            techs[0],
            techs[1],
            customer_id,
            project,
            room,
            line,
            await _token_for(running, finance),
        )


async def _plan(gw, running, d: Dispatch, *, title: str, start: str, end: str, techs: list[str]):
    """An install work order; projects' event may not have reached bookings yet."""
    body = {
        "title": title,
        "room_name": "Cinema",
        "tasks": ["Hang the screen", "Run HDMI"],
        "technician_ids": techs,
        "starts_at": d.iso(start),
        "ends_at": d.iso(end),
    }
    url = f"/api/v1/projects/{d.project['id']}/work-orders"

    async def made():
        r = await gw.post(url, headers=running.headers(), json=body)
        return None if r.status_code == 404 else r

    return await wait_for(made)


async def test_a_busy_technician_is_refused_by_name_and_time_off_flags_a_visit(
    running, gw, dispatch
):
    d = dispatch
    tom = d.tom["staff_user_id"]
    first = await _plan(gw, running, d, title="Rack", start="10:00", end="12:00", techs=[tom])
    assert first.status_code == 201, first.text
    order = first.json()
    assert first.headers["location"] == f"/api/v1/work-orders/{order['id']}"
    assert order["status"] == "scheduled" and order["technician_ids"] == [tom]

    clash = await _plan(gw, running, d, title="Screen", start="11:00", end="13:00", techs=[tom])
    assert (clash.status_code, clash.headers["content-type"]) == (409, PROBLEM)
    problem = clash.json()
    assert problem["code"] == "slot_taken" and f"Tom {d.tag}" in problem["detail"]

    window = {"from": d.iso("00:00"), "to": d.iso("23:59")}
    listed = await staff(gw, running, "GET", "/api/v1/work-orders", params=window)
    titles = [w["title"] for w in listed["work_orders"] if w["project_id"] == d.project["id"]]
    assert "Rack" in titles and "Screen" not in titles  # the refused one left nothing behind

    off = await staff(
        gw,
        running,
        "POST",
        f"/api/v1/technicians/{tom}/time-off",
        json={"starts_at": d.iso("09:00"), "ends_at": d.iso("13:00"), "reason": "Dentist"},
    )
    assert off["conflicting_work_order_ids"] == [order["id"]]
    flagged = await staff(gw, running, "GET", f"/api/v1/work-orders/{order['id']}")
    assert "off" in flagged["conflict"]

    ana = d.ana["staff_user_id"]
    moved = await staff(
        gw,
        running,
        "PATCH",
        f"/api/v1/work-orders/{order['id']}",
        json={"technician_ids": [ana]},
    )
    assert moved["technician_ids"] == [ana] and moved["conflict"] == ""
    assert moved["title"] == "Rack" and moved["tasks"] == ["Hang the screen", "Run HDMI"]
    by_tom = await staff(
        gw, running, "GET", "/api/v1/work-orders", params={**window, "technician_id": tom}
    )
    assert order["id"] not in [w["id"] for w in by_tom["work_orders"]]
    await staff(gw, running, "DELETE", f"/api/v1/time-off/{off['time_off']['id']}")
    listed_off = await staff(
        gw, running, "GET", "/api/v1/time-off", params={**window, "technician_id": tom}
    )
    assert listed_off["time_off"] == []


async def test_unassigned_visits_are_listed_and_a_feed_url_is_issued_and_revoked(
    running, gw, dispatch
):
    d = dispatch
    made = await _plan(gw, running, d, title="Survey", start="15:00", end="16:00", techs=[])
    assert made.status_code == 201, made.text
    window = {"from": d.iso("00:00"), "to": d.iso("23:59"), "unassigned_only": "true"}
    listed = await staff(gw, running, "GET", "/api/v1/work-orders", params=window)
    assert made.json()["id"] in [w["id"] for w in listed["work_orders"]]

    tom = d.tom["staff_user_id"]
    feed = await staff(gw, running, "POST", f"/api/v1/technicians/{tom}/feed-token")
    assert feed["token"] and feed["url"].endswith(f"{feed['token']}.ics")
    techs = (await staff(gw, running, "GET", "/api/v1/technicians"))["technicians"]
    assert next(t for t in techs if t["staff_user_id"] == tom)["has_feed"] is True
    await staff(gw, running, "DELETE", f"/api/v1/technicians/{tom}/feed-token")
    techs = (await staff(gw, running, "GET", "/api/v1/technicians"))["technicians"]
    assert next(t for t in techs if t["staff_user_id"] == tom)["has_feed"] is False


async def test_a_service_type_changes_only_the_fields_sent(running, gw, dispatch):
    made = await staff(
        gw,
        running,
        "POST",
        "/api/v1/service-types",
        json={
            "name": f"Projector check {dispatch.tag}",
            "duration_minutes": 60,
            "skills": ["cinema calibration"],
            "buffer_after_minutes": 15,
            "min_notice_minutes": 1440,
            "cancel_cutoff_minutes": 1440,
            "reschedule_cutoff_minutes": 720,
            "requires_confirmation": True,
        },
    )
    changed = await staff(
        gw, running, "PATCH", f"/api/v1/service-types/{made['id']}", json={"duration_minutes": 90}
    )
    assert changed["duration_minutes"] == 90
    assert {k: v for k, v in changed.items() if k != "duration_minutes"} == {
        k: v for k, v in made.items() if k != "duration_minutes"
    }
    bad = await gw.patch(
        f"/api/v1/service-types/{made['id']}",
        headers=running.headers(),
        json={"duration_minutes": 7},  # bookings wants whole 5 minutes
    )
    assert (bad.status_code, bad.headers["content-type"]) == (422, PROBLEM), bad.text
    assert bad.json()["detail"]


async def _book_as_staff(running: Running, d: Dispatch, service_type_id: str, start: datetime):
    """A booking for the customer, as dispatch makes one on their behalf (the
    client's own pages are another helper's)."""
    at = Timestamp()
    at.FromDatetime(start.astimezone(UTC))
    principal = Principal(
        kind="staff",
        subject=str(uuid.uuid4()),
        tenant_id=running.info["tenant_id"],
        roles=frozenset({"project_manager"}),
    )
    call = Caller(PrincipalSigner(running.suite.private_key))
    async with open_channel(running.suite.target("bookings")) as channel:
        stub = bookings_pb2_grpc.BookingsServiceStub(channel)
        answer = await call(
            stub.BookVisit,
            bpb.BookVisitRequest(
                request_id=str(uuid.uuid4()),
                project_id=d.project["id"],
                service_type_id=service_type_id,
                starts_at=at,
                room_id=d.room["id"],
                product_line_ids=[d.line["id"]],
                description="The picture flickers",
            ),
            principal,
        )
    return answer.booking


async def test_staff_confirm_move_and_cancel_a_pending_booking_and_see_the_history(
    running, gw, mail, dispatch
):
    d = dispatch
    await staff(
        gw, running, "PATCH", f"/api/v1/projects/{d.project['id']}", json={"service_contract": True}
    )
    stype = await staff(
        gw,
        running,
        "POST",
        "/api/v1/service-types",
        json={
            "name": f"Flicker call {d.tag}",
            "duration_minutes": 60,
            "step_minutes": 5,  # any 5-minute start is offered, whatever else is on
            "skills": ["cinema calibration"],
            "requires_confirmation": True,
            "allow_service_contract": True,
        },
    )

    refusals: list[Exception] = []

    async def booked():
        try:
            return await _book_as_staff(running, d, stype["id"], d.at("17:00"))
        except Exception as exc:  # the service contract's event may not have arrived yet
            refusals.append(exc)
            return None

    try:
        booking = await wait_for(booked)
    except AssertionError:
        raise AssertionError(f"never booked: {refusals[-1:]}") from None
    assert booking.status == bpb.BOOKING_STATUS_PENDING
    window = {"from": d.iso("00:00"), "to": d.iso("23:59")}
    listed = await staff(gw, running, "GET", "/api/v1/work-orders", params=window)
    (order,) = [w for w in listed["work_orders"] if w["booking_id"] == booking.id]
    assert order["status"] == "pending" and order["kind"] == "service"
    assert order["products"][0]["model"] == "VPL-XW7000" and order["room_name"] == "Cinema"

    url = f"/api/v1/dispatch/bookings/{booking.id}"
    confirmed = await staff(gw, running, "POST", f"{url}/confirm")
    assert confirmed["status"] == "confirmed"
    again = await gw.post(f"{url}/confirm", headers=running.headers())
    assert (again.status_code, again.headers["content-type"]) == (409, PROBLEM)

    moved = await staff(
        gw, running, "POST", f"{url}/reschedule", json={"starts_at": d.iso("18:00")}
    )
    assert moved["starts_at"].startswith(d.at("18:00").astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    assert moved["technician_id"] == booking.technician_id  # kept while free
    # A booking's visit moves through its booking, never behind the client's back.
    direct = await gw.patch(
        f"/api/v1/work-orders/{order['id']}",
        headers=running.headers(),
        json={"starts_at": d.iso("19:00"), "ends_at": d.iso("20:00")},
    )
    assert (direct.status_code, direct.headers["content-type"]) == (409, PROBLEM)
    assert "reschedule the booking" in direct.json()["detail"]

    cancelled = await staff(gw, running, "POST", f"{url}/cancel", json={"reason": "Fixed itself"})
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "Fixed itself"
    history = await staff(gw, running, "GET", f"/api/v1/customers/{d.customer_id}/bookings")
    assert [b["id"] for b in history["bookings"]] == [booking.id]

    browser = await staff_browser(running, mail)
    async with browser:
        page = await browser.get(f"/console/customers/{d.customer_id}")
    assert page.status_code == 200
    assert "Visits" in page.text and str(escape(f"Flicker call {d.tag}")) in page.text
    assert "Fixed itself" in page.text and "VPL-XW7000" in page.text


async def test_the_console_calendar_shows_each_visit_and_its_forms_act(running, gw, mail, dispatch):
    d = dispatch
    ana = d.ana["staff_user_id"]
    blocker = await _plan(gw, running, d, title="Blocker", start="14:00", end="15:00", techs=[ana])
    assert blocker.status_code == 201, blocker.text
    made = await _plan(
        gw,
        running,
        d,
        title=f"Calibrate {d.tag}",
        start="08:00",
        end="09:00",
        techs=[d.tom["staff_user_id"]],
    )
    assert made.status_code == 201, made.text
    order = made.json()
    browser = await staff_browser(running, mail)
    async with browser:
        page = await browser.get(f"/console/dispatch?day={d.day}")
        assert page.status_code == 200, page.text
        assert f"Calibrate {d.tag}" in page.text and f"Tom {d.tag}" in page.text
        assert 'id="wo-' + order["id"] + '"' in page.text and "08:00\u201309:00" in page.text

        # Give it to Ana, then move it onto her 14:00 visit: refused in bookings' words.
        await browser.submit(
            f"/console/dispatch?day={d.day}",
            f"/console/dispatch/work-orders/{order['id']}/assign",
            {"technician_ids": d.ana["staff_user_id"], "day": str(d.day)},
        )
        refused = await browser.submit(
            f"/console/dispatch?day={d.day}",
            f"/console/dispatch/work-orders/{order['id']}/move",
            {"date": str(d.day), "start": "14:30", "end": "15:30", "day": str(d.day)},
        )
        assert refused.status_code == 303
        shown = await browser.get(refused.headers["location"])
        assert f"Ana {d.tag}" in shown.text and "already" in shown.text

        moved = await browser.submit(
            f"/console/dispatch?day={d.day}",
            f"/console/dispatch/work-orders/{order['id']}/move",
            {"date": str(d.day), "start": "12:45", "end": "13:30", "day": str(d.day)},
        )
        assert "moved" in (await browser.get(moved.headers["location"])).text
    now = await staff(gw, running, "GET", f"/api/v1/work-orders/{order['id']}")
    assert now["starts_at"].startswith(d.at("12:45").astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    assert now["technician_ids"] == [ana]


async def test_a_staff_role_without_dispatch_rights_reads_but_cannot_change(running, gw, dispatch):
    d = dispatch
    finance = running.headers(token=d.finance_token)
    window = {"from": d.iso("00:00"), "to": d.iso("23:59")}
    read = await gw.get("/api/v1/work-orders", headers=finance, params=window)
    assert read.status_code == 200, read.text
    for method, path, body in (
        ("PATCH", f"/api/v1/technicians/{d.tom['staff_user_id']}", {"skills": []}),
        (
            "POST",
            f"/api/v1/projects/{d.project['id']}/work-orders",
            {"title": "X", "starts_at": d.iso("06:00"), "ends_at": d.iso("07:00")},
        ),
        ("POST", "/api/v1/service-types", {"name": "X", "duration_minutes": 30}),
        ("POST", f"/api/v1/technicians/{d.tom['staff_user_id']}/feed-token", None),
    ):
        r = await gw.request(method, path, headers=finance, json=body)
        assert (r.status_code, r.headers["content-type"]) == (403, PROBLEM), (path, r.text)
        assert "project_manager" in r.json()["detail"]
    techs = (await staff(gw, running, "GET", "/api/v1/technicians"))["technicians"]
    assert next(t for t in techs if t["staff_user_id"] == d.tom["staff_user_id"])["skills"]
