"""What the dispatch console's e2e modules share: a tagged cast of staff, a
customer's project to plan against, and the two ways a visit is made (an
install work order through the API, a booking as dispatch makes one)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2 as bpb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.identity.v1 import identity_pb2 as ipb

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.e2e.test_front_door import identity_call, new_customer
from tests.e2e.test_projects_portal import staff
from tests.suite import Running, wait_for

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


async def build_dispatch(running: Running) -> Dispatch:
    """Two technicians (Tom: networking, Ana: cinema calibration) working every
    day, a finance user's token, and a customer's project with one room and one
    product line, all tagged so parallel runs never meet."""
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


async def plan(gw, running, d: Dispatch, *, title: str, start: str, end: str, techs: list[str]):
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


async def book_as_staff(running: Running, d: Dispatch, service_type_id: str, start: datetime):
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
