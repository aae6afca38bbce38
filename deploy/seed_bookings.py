"""The demo integrator's dispatch calendar, through the services' gRPC
contracts: two technicians with working hours and skills, the service types
a client can book, a service contract on the demo project (so Jane may book),
and an install work order already on a technician's day.

Technicians and the project's facts reach bookings as events (identity's
staff changes, projects' service contract), so the seed waits for bookings to
have heard them before it sets hours or checks. Idempotent: fixed request ids,
and what is already there is left as it is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2 as bpb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1 import identity_pb2_grpc
from portal.projects.v1 import projects_pb2 as ppb
from portal.projects.v1 import projects_pb2_grpc

from services.chassis.auth import Principal
from services.chassis.grpc_client import Caller

DAY = timedelta(days=1)
WAIT_S = 60.0
# (request name, email, full name, skills, {weekday: (start, end)})
TECHNICIANS = [
    (
        "tech-marcus",
        "marcus@acme-av.example",
        "Marcus Reed",
        ["calibration", "networking"],
        {d: ("08:00", "17:00") for d in range(1, 6)},
    ),
    (
        "tech-priya",
        "priya@acme-av.example",
        "Priya Shah",
        ["calibration", "control systems"],
        {**{d: ("09:00", "18:00") for d in range(2, 6)}, 6: ("09:00", "13:00")},
    ),
]
SERVICE_TYPES = [
    dict(
        name="Projector check",
        duration_minutes=60,
        skills=["calibration"],
        buffer_after_minutes=15,
        min_notice_minutes=24 * 60,
        horizon_days=30,
        cancel_cutoff_minutes=24 * 60,
        reschedule_cutoff_minutes=24 * 60,
        allow_service_contract=True,
        allow_after_handover=True,
        active=True,
    ),
    dict(
        name="Network troubleshooting",
        duration_minutes=90,
        skills=["networking"],
        buffer_before_minutes=15,
        buffer_after_minutes=15,
        min_notice_minutes=24 * 60,
        horizon_days=30,
        cancel_cutoff_minutes=24 * 60,
        reschedule_cutoff_minutes=24 * 60,
        allow_service_contract=True,
        allow_after_handover=True,
        active=True,
    ),
]


@dataclass(frozen=True)
class BookingsDemo:
    service_type_id: str
    technicians: list[str]
    work_order_id: str


def _ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def next_weekday(today: date, weekday: int) -> date:
    """The first `weekday` (ISO) after `today`, at least two days on (the notice)."""
    day = today + 2 * DAY
    while day.isoweekday() != weekday:
        day += DAY
    return day


async def _until(what: str, check, timeout: float = WAIT_S):
    """Poll `check` until it answers something truthy: an event on its way."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"seed: bookings has not heard of {what} after {timeout:.0f} s")
        await asyncio.sleep(0.3)


async def seed_bookings(
    *,
    call: Caller,
    identity: identity_pb2_grpc.IdentityServiceStub,
    projects: projects_pb2_grpc.ProjectsServiceStub,
    bookings: bookings_pb2_grpc.BookingsServiceStub,
    tenant: ipb.Tenant,
    project_id: str,
    rid,
    today: date,
) -> BookingsDemo:
    platform = Principal(kind="platform", subject="seed", tenant_id=tenant.id)
    staff = Principal(
        kind="staff", subject="seed", tenant_id=tenant.id, roles=frozenset({"project_manager"})
    )
    zone = tenant.time_zone or "UTC"
    await call(
        bookings.UpdateBookingSettings,
        bpb.UpdateBookingSettingsRequest(
            settings=bpb.BookingSettings(time_zone=zone, default_travel_minutes=30)
        ),
        staff,
    )
    tech_ids = []
    for name, email, full_name, _, _ in TECHNICIANS:
        user = await call(
            identity.CreateStaffUser,
            ipb.CreateStaffUserRequest(
                request_id=rid(name),
                email=email,
                full_name=full_name,
                roles=[ipb.STAFF_ROLE_TECHNICIAN],
            ),
            platform,
        )
        tech_ids.append(user.user.id)

    async def known() -> bool:
        listed = await call(
            bookings.ListTechnicians, bpb.ListTechniciansRequest(include_inactive=True), staff
        )
        return set(tech_ids) <= {t.staff_user_id for t in listed.technicians}

    await _until("the technicians", known)
    for tech_id, (_, _, _, skills, hours) in zip(tech_ids, TECHNICIANS, strict=True):
        await call(
            bookings.UpdateTechnician,
            bpb.UpdateTechnicianRequest(
                staff_user_id=tech_id,
                skills=skills,
                working_hours=[
                    bpb.WorkingHours(weekday=d, start=s, end=e) for d, (s, e) in hours.items()
                ],
                update_mask=FieldMask(paths=["skills", "working_hours"]),
            ),
            staff,
        )

    # The demo client may book: their project has a service contract.
    await call(
        projects.UpdateProject,
        ppb.UpdateProjectRequest(
            project_id=project_id,
            service_contract=True,
            update_mask=FieldMask(paths=["service_contract"]),
        ),
        Principal(kind="service", subject="seed", tenant_id=tenant.id),
    )

    async def contracted() -> bool:
        listed = await call(bookings.ListBookableProjects, bpb.ListBookableProjectsRequest(), staff)
        return any(p.project_id == project_id and p.service_contract for p in listed.projects)

    await _until("the demo project's service contract", contracted)

    existing = await call(bookings.ListServiceTypes, bpb.ListServiceTypesRequest(), staff)
    by_name = {t.name: t.id for t in existing.service_types}
    for values in SERVICE_TYPES:
        if values["name"] not in by_name:
            made = await call(
                bookings.CreateServiceType,
                bpb.CreateServiceTypeRequest(
                    request_id=rid(f"service-type-{values['name']}"),
                    service_type=bpb.ServiceType(**values),
                ),
                staff,
            )
            by_name[values["name"]] = made.service_type.id

    # Marcus's Tuesday: the rear speakers going in, 09:00-12:00 on the site's clock.
    day = next_weekday(today, 2)
    tz = ZoneInfo(zone)
    order = await call(
        bookings.CreateWorkOrder,
        bpb.CreateWorkOrderRequest(
            request_id=rid("work-order-rear-speakers"),
            project_id=project_id,
            title="Install rear surround speakers",
            room_name="Cinema",
            tasks=["Run speaker cable", "Mount rear surrounds", "Level-match with the processor"],
            technician_ids=[tech_ids[0]],
            starts_at=_ts(datetime.combine(day, time(9), tzinfo=tz)),
            ends_at=_ts(datetime.combine(day, time(12), tzinfo=tz)),
        ),
        staff,
    )
    return BookingsDemo(
        service_type_id=by_name["Projector check"],
        technicians=tech_ids,
        work_order_id=order.work_order.id,
    )
