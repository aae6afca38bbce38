"""The dispatch console's pages and a client's booking through the gateway,
every process separate: a pending booking confirmed, moved and cancelled by
staff, the customer's visit history on their console page, and the console's
calendar showing each visit with forms that assign and move it (refused in
bookings' words when a technician is busy). The API's planning rules:
test_dispatch_console.py."""

from __future__ import annotations

from datetime import UTC

import pytest
from markupsafe import escape
from portal.bookings.v1 import bookings_pb2 as bpb

from tests.e2e.dispatch_helpers import PROBLEM, Dispatch, book_as_staff, build_dispatch, plan
from tests.e2e.test_front_door import staff_browser
from tests.e2e.test_projects_portal import staff
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def dispatch(running: Running) -> Dispatch:
    return await build_dispatch(running)


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
            return await book_as_staff(running, d, stype["id"], d.at("17:00"))
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
    blocker = await plan(gw, running, d, title="Blocker", start="14:00", end="15:00", techs=[ana])
    assert blocker.status_code == 201, blocker.text
    made = await plan(
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
