"""The dispatch calendar in a real browser, on a phone and a desktop: a
client's booking waiting for confirmation, an install visit flagged by its
technician's time off, the day by technician with customer, product, room and
status; staff confirm the booking with one button, issue a technician's feed
URL (shown once), and read the customer's visits.

Screenshots: dispatch-day, dispatch-confirmed, dispatch-week, technicians-feed,
service-types, customer-visits (each -390 and -1280)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from playwright.sync_api import Page, expect
from portal.bookings.v1 import bookings_pb2 as bpb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.browser.conftest import Suite, shot
from tests.browser.test_error_pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
EVERY_DAY = [{"weekday": d, "start": "07:00", "end": "20:00"} for d in range(1, 8)]


def _ok(response) -> dict:
    assert response.is_success, response.text
    return response.json() if response.content else {}


def _grpc(coro_factory):
    """Run a gRPC call on a loop of its own: sync Playwright holds this thread's."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_factory())).result()


def _technician(suite: Suite, name: str) -> str:
    running = suite.running
    principal = Principal(kind="platform", subject="e2e", tenant_id=running.info["tenant_id"])

    async def make():
        async with open_channel(running.suite.target("identity")) as channel:
            stub = identity_pb2_grpc.IdentityServiceStub(channel)
            return await Caller(PrincipalSigner(running.suite.private_key))(
                stub.CreateStaffUser,
                ipb.CreateStaffUserRequest(
                    request_id=str(uuid.uuid4()),
                    email=f"{name.lower().replace(' ', '-')}@acme-av.example",
                    full_name=name,
                    roles=[ipb.STAFF_ROLE_TECHNICIAN],
                ),
                principal,
            )

    user_id = _grpc(make).user.id
    deadline = time.monotonic() + 20
    while not any(
        t["staff_user_id"] == user_id
        for t in _ok(suite.api.get("/api/v1/technicians"))["technicians"]
    ):
        assert time.monotonic() < deadline, "bookings never learnt of the technician"
        time.sleep(0.1)
    return user_id


class Scene:
    def __init__(self, suite: Suite) -> None:
        api = suite.api
        tag = uuid.uuid4().hex[:4]
        self.suite, self.tag = suite, tag
        self.tom = _technician(suite, f"Tom Reyes {tag}")
        self.ana = _technician(suite, f"Ana Silva {tag}")
        for tid, skills in ((self.tom, ["networking"]), (self.ana, ["cinema calibration"])):
            _ok(
                api.patch(
                    f"/api/v1/technicians/{tid}",
                    json={"skills": skills, "working_hours": EVERY_DAY},
                )
            )
        self.zone = ZoneInfo(_ok(api.get("/api/v1/booking-settings"))["time_zone"])
        customer = _ok(
            api.post(
                "/api/v1/customers",
                json={
                    "name": f"The Harrison Residence {tag}",
                    "contacts": [
                        {
                            "email": f"jane-{tag}@example.com",
                            "full_name": "Jane Harrison",
                            "role": "approver",
                        }
                    ],
                },
            )
        )
        self.customer_id = customer["id"]
        self.project = _ok(
            api.post(
                "/api/v1/projects",
                json={
                    "name": "Home cinema",
                    "customer_id": self.customer_id,
                },
            )
        )
        self.room = _ok(
            api.post(f"/api/v1/projects/{self.project['id']}/rooms", json={"name": "Cinema room"})
        )
        self.line = _ok(
            api.post(
                f"/api/v1/rooms/{self.room['id']}/lines",
                json={
                    "manufacturer": "Sony",
                    "model": "VPL-XW5000",
                    "quantity": 1,
                    "unit_price_minor": 149_900,
                },
            )
        )
        _ok(api.patch(f"/api/v1/projects/{self.project['id']}", json={"service_contract": True}))
        self.stype = _ok(
            api.post(
                "/api/v1/service-types",
                json={
                    "name": f"Projector check {tag}",
                    "duration_minutes": 60,
                    "step_minutes": 5,  # any 5-minute start is offered, whatever else is on
                    "buffer_after_minutes": 15,
                    "skills": ["cinema calibration"],
                    "min_notice_minutes": 1440,
                    "requires_confirmation": True,
                },
            )
        )
        self.day = datetime.now(self.zone).date() + timedelta(days=9)
        install = self._plan(f"Rack and cable {tag}", "09:00", "12:00", [self.tom])
        _ok(
            api.post(
                f"/api/v1/technicians/{self.tom}/time-off",
                json={
                    "starts_at": self.iso("11:00"),
                    "ends_at": self.iso("13:00"),
                    "reason": "Dentist",
                },
            )
        )
        self.install = install

    def at(self, hhmm: str, day: date | None = None) -> datetime:
        return datetime.combine(day or self.day, clock.fromisoformat(hhmm), tzinfo=self.zone)

    def iso(self, hhmm: str) -> str:
        return self.at(hhmm).astimezone(UTC).isoformat()

    def _plan(self, title: str, start: str, end: str, techs: list[str]) -> dict:
        body = {
            "title": title,
            "room_name": "Equipment closet",
            "tasks": ["Mount the rack", "Terminate the Cat6"],
            "technician_ids": techs,
            "starts_at": self.iso(start),
            "ends_at": self.iso(end),
        }
        deadline = time.monotonic() + 20
        while (
            r := self.suite.api.post(
                f"/api/v1/projects/{self.project['id']}/work-orders", json=body
            )
        ).status_code == 404:
            assert time.monotonic() < deadline, r.text
            time.sleep(0.1)
        return _ok(r)

    def book(self, hhmm: str) -> bpb.Booking:
        """A pending booking for the customer, made by dispatch on their behalf."""
        running = self.suite.running
        at = Timestamp()
        at.FromDatetime(self.at(hhmm).astimezone(UTC))
        principal = Principal(
            kind="staff",
            subject=str(uuid.uuid4()),
            tenant_id=running.info["tenant_id"],
            roles=frozenset({"project_manager"}),
        )

        async def call():
            async with open_channel(running.suite.target("bookings")) as channel:
                stub = bookings_pb2_grpc.BookingsServiceStub(channel)
                return await Caller(PrincipalSigner(running.suite.private_key))(
                    stub.BookVisit,
                    bpb.BookVisitRequest(
                        request_id=str(uuid.uuid4()),
                        project_id=self.project["id"],
                        service_type_id=self.stype["id"],
                        starts_at=at,
                        room_id=self.room["id"],
                        product_line_ids=[self.line["id"]],
                        description="The picture flickers after an hour",
                    ),
                    principal,
                )

        deadline = time.monotonic() + 20
        while True:
            try:
                return _grpc(call).booking
            except Exception:  # the service contract's event may not be there yet
                assert time.monotonic() < deadline
                time.sleep(0.2)


@pytest.fixture(scope="module")
def scene(suite: Suite) -> Scene:
    return Scene(suite)


def test_dispatch_shows_the_day_and_confirms_a_booking(
    page: Page, suite: Suite, scene: Scene
) -> None:
    phone = page.viewport_size["width"] < 600
    booking = scene.book("15:00" if phone else "17:00")
    info = suite.running.info
    sign_in(page, suite.base, info["staff_email"], suite.staff_password())
    expect(page).to_have_url(re.compile(r"/console$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dispatch").click()
    page.goto(f"{suite.base}/console/dispatch?day={scene.day}")

    visit = page.locator(f"#wo-{scene.install['id']}")
    expect(visit).to_contain_text(f"Rack and cable {scene.tag}")
    expect(visit).to_contain_text("Conflict:")
    expect(visit).to_contain_text(f"The Harrison Residence {scene.tag}")
    expect(visit).to_contain_text("Equipment closet")
    service = page.locator(f"#wo-{booking.work_order_id}")
    expect(service).to_contain_text("VPL-XW5000")
    expect(service).to_contain_text("Cinema room")
    expect(service).to_contain_text("Waiting for confirmation")
    expect(page.get_by_role("heading", name=re.compile("Conflicts on this day"))).to_be_visible()
    shot(page, "dispatch-day")

    service.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page.get_by_text("The booking is confirmed")).to_be_visible()
    expect(page.locator(f"#wo-{booking.work_order_id}")).to_contain_text("Scheduled")
    shot(page, "dispatch-confirmed")

    page.goto(f"{suite.base}/console/dispatch/technicians/{scene.tom}?day={scene.day}")
    expect(page.get_by_role("heading", name=f"Tom Reyes {scene.tag}")).to_be_visible()
    expect(page.get_by_text("Dentist").first).to_be_visible()
    shot(page, "dispatch-week")


def test_technicians_feed_service_types_and_visits(page: Page, suite: Suite, scene: Scene) -> None:
    info = suite.running.info
    sign_in(page, suite.base, info["staff_email"], suite.staff_password())
    expect(page).to_have_url(re.compile(r"/console$"))
    page.goto(f"{suite.base}/console/technicians")
    card = page.locator(f"#tech-{scene.tom}")
    card.get_by_role("button", name=re.compile("Issue a (new )?feed URL")).click()
    expect(page.locator("#feed-url")).to_contain_text(".ics")
    expect(page.locator(f"#tech-{scene.tom}")).to_contain_text("A feed URL is live")
    shot(page, "technicians-feed")

    page.goto(f"{suite.base}/console/service-types")
    expect(page.get_by_text(f"Projector check {scene.tag}").first).to_be_visible()
    shot(page, "service-types")

    scene.book("10:00" if page.viewport_size["width"] < 600 else "13:00")
    page.goto(f"{suite.base}/console/customers/{scene.customer_id}")
    visits = page.locator("#visits")
    expect(visits).to_contain_text(f"Projector check {scene.tag}")
    expect(visits).to_contain_text("VPL-XW5000")
    visits.scroll_into_view_if_needed()
    shot(page, "customer-visits")
