"""The dispatch API through the gateway, every process separate: technicians
learnt from identity, their hours, time off and feed URL; service types as
field masks; install work orders planned per project, a busy technician
refused by name (never booked twice), time off flagging a visit and a
reassignment clearing it. A staff role without dispatch rights reads but
changes nothing. Bookings and the console's pages:
test_dispatch_console_pages.py."""

from __future__ import annotations

import pytest

from tests.e2e.dispatch_helpers import PROBLEM, Dispatch, build_dispatch, plan
from tests.e2e.test_projects_portal import staff
from tests.suite import Running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def dispatch(running: Running) -> Dispatch:
    return await build_dispatch(running)


async def test_a_busy_technician_is_refused_by_name_and_time_off_flags_a_visit(
    running, gw, dispatch
):
    d = dispatch
    tom = d.tom["staff_user_id"]
    first = await plan(gw, running, d, title="Rack", start="10:00", end="12:00", techs=[tom])
    assert first.status_code == 201, first.text
    order = first.json()
    assert first.headers["location"] == f"/api/v1/work-orders/{order['id']}"
    assert order["status"] == "scheduled" and order["technician_ids"] == [tom]

    clash = await plan(gw, running, d, title="Screen", start="11:00", end="13:00", techs=[tom])
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
    made = await plan(gw, running, d, title="Survey", start="15:00", end="16:00", techs=[])
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
