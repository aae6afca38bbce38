"""One call function per dispatch operation, returning the API's model: the
JSON routes and the console pages both call these. Updates go as one call
with the fields sent as the update mask (AIP-134), never read-merge-write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2 as pb
from portal.common.v1 import common_pb2

from gateway.api.bookings.dispatch_shapes import (
    AddedTimeOff,
    BookingSettings,
    DispatchBooking,
    DispatchBookingPage,
    ServiceType,
    ServiceTypeFields,
    Technician,
    WorkOrder,
    booking_out,
    service_type_out,
    settings_out,
    technician_out,
    time_off_out,
    work_order_out,
)
from gateway.backends import BookingsRemote
from services.chassis import enums
from services.chassis.auth import Principal

# The technician's calendar feed, served by the gateway by its secret token
# alone (the client-side bookings routes own the route; this is its address).
FEED_PATH = "/ics/{token}.ics"  # gateway/api/bookings: the feed route


def stamp(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


def feed_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + FEED_PATH.format(token=token)


# -- technicians ------------------------------------------------------------------------


async def list_technicians(
    bookings: BookingsRemote, principal: Principal, *, include_inactive: bool = False
) -> list[Technician]:
    answer = await bookings.call(
        bookings.stub.ListTechnicians,
        pb.ListTechniciansRequest(include_inactive=include_inactive),
        principal=principal,
    )
    return [technician_out(t) for t in answer.technicians]


async def change_technician(
    bookings: BookingsRemote, principal: Principal, technician_id: UUID, changes: Mapping[str, Any]
) -> Technician:
    """`changes` as TechnicianChange dumps them (exclude_unset): `home` None
    forgets the coordinates."""
    request = pb.UpdateTechnicianRequest(staff_user_id=str(technician_id))
    paths = request.update_mask.paths
    if "skills" in changes:
        request.skills.extend(changes["skills"] or [])
        paths.append("skills")
    if "home_base" in changes:
        request.home_base = changes["home_base"] or ""
        paths.append("home_base")
    if "working_hours" in changes:
        request.working_hours.extend(
            pb.WorkingHours(weekday=h["weekday"], start=h["start"], end=h["end"])
            for h in changes["working_hours"] or []
        )
        paths.append("working_hours")
    if "home" in changes:
        home = changes["home"]
        if home is not None:
            request.home_latitude, request.home_longitude = home["latitude"], home["longitude"]
            request.has_home_coordinates = True
        paths.extend(["home_latitude", "home_longitude", "has_home_coordinates"])
    answer = await bookings.call(bookings.stub.UpdateTechnician, request, principal=principal)
    return technician_out(answer.technician)


async def add_time_off(
    bookings: BookingsRemote,
    principal: Principal,
    technician_id: UUID,
    *,
    request_id: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
) -> AddedTimeOff:
    answer = await bookings.call(
        bookings.stub.AddTimeOff,
        pb.AddTimeOffRequest(
            request_id=request_id,
            technician_id=str(technician_id),
            starts_at=stamp(starts_at),
            ends_at=stamp(ends_at),
            reason=reason,
        ),
        principal=principal,
    )
    return AddedTimeOff(
        time_off=time_off_out(answer.time_off),
        conflicting_work_order_ids=[UUID(i) for i in answer.conflicting_work_order_ids],
    )


async def remove_time_off(
    bookings: BookingsRemote, principal: Principal, time_off_id: UUID
) -> None:
    await bookings.call(
        bookings.stub.RemoveTimeOff,
        pb.RemoveTimeOffRequest(time_off_id=str(time_off_id)),
        principal=principal,
    )


async def list_time_off(
    bookings: BookingsRemote,
    principal: Principal,
    *,
    start: datetime,
    end: datetime,
    technician_id: UUID | None = None,
) -> list[Any]:
    request = pb.ListTimeOffRequest(technician_id=str(technician_id or ""), to=stamp(end))
    getattr(request, "from").CopyFrom(stamp(start))  # `from` is a Python keyword
    answer = await bookings.call(bookings.stub.ListTimeOff, request, principal=principal)
    return [time_off_out(t) for t in answer.time_off]


async def issue_feed_token(
    bookings: BookingsRemote, principal: Principal, technician_id: UUID
) -> str:
    answer = await bookings.call(
        bookings.stub.IssueFeedToken,
        pb.IssueFeedTokenRequest(technician_id=str(technician_id)),
        principal=principal,
    )
    return answer.token


async def revoke_feed_token(
    bookings: BookingsRemote, principal: Principal, technician_id: UUID
) -> None:
    await bookings.call(
        bookings.stub.RevokeFeedToken,
        pb.RevokeFeedTokenRequest(technician_id=str(technician_id)),
        principal=principal,
    )


# -- settings, project sites, service types ------------------------------------------------


async def fetch_settings(bookings: BookingsRemote, principal: Principal) -> BookingSettings:
    answer = await bookings.call(
        bookings.stub.GetBookingSettings, pb.GetBookingSettingsRequest(), principal=principal
    )
    return settings_out(answer.settings)


async def change_settings(
    bookings: BookingsRemote, principal: Principal, changes: Mapping[str, Any]
) -> BookingSettings:
    request = pb.UpdateBookingSettingsRequest()
    for name, value in changes.items():
        setattr(
            request.settings,
            name,
            value if value is not None else type(getattr(request.settings, name))(),
        )
        request.update_mask.paths.append(name)  # relative to `settings`
    answer = await bookings.call(bookings.stub.UpdateBookingSettings, request, principal=principal)
    return settings_out(answer.settings)


async def set_project_site(
    bookings: BookingsRemote,
    principal: Principal,
    project_id: UUID,
    coordinates: tuple[float, float] | None,
) -> None:
    request = pb.SetProjectSiteRequest(project_id=str(project_id), clear=coordinates is None)
    if coordinates is not None:
        request.latitude, request.longitude = coordinates
    await bookings.call(bookings.stub.SetProjectSite, request, principal=principal)


async def list_service_types(bookings: BookingsRemote, principal: Principal) -> list[ServiceType]:
    answer = await bookings.call(
        bookings.stub.ListServiceTypes, pb.ListServiceTypesRequest(), principal=principal
    )
    return [service_type_out(s) for s in answer.service_types]


def _service_type_pb(values: Mapping[str, Any]) -> pb.ServiceType:
    message = pb.ServiceType()
    for name, value in values.items():
        if name == "skills":
            message.skills.extend(value or [])
        elif value is not None:
            setattr(message, name, value)
    return message


async def create_service_type(
    bookings: BookingsRemote, principal: Principal, body: ServiceTypeFields, *, request_id: str
) -> ServiceType:
    answer = await bookings.call(
        bookings.stub.CreateServiceType,
        pb.CreateServiceTypeRequest(
            request_id=request_id, service_type=_service_type_pb(body.model_dump())
        ),
        principal=principal,
    )
    return service_type_out(answer.service_type)


async def change_service_type(
    bookings: BookingsRemote,
    principal: Principal,
    service_type_id: UUID,
    changes: Mapping[str, Any],
) -> ServiceType:
    request = pb.UpdateServiceTypeRequest(
        service_type_id=str(service_type_id), service_type=_service_type_pb(changes)
    )
    request.update_mask.paths.extend(changes)  # relative to `service_type`
    answer = await bookings.call(bookings.stub.UpdateServiceType, request, principal=principal)
    return service_type_out(answer.service_type)


# -- work orders ---------------------------------------------------------------------------


async def create_work_order(
    bookings: BookingsRemote,
    principal: Principal,
    project_id: UUID,
    *,
    request_id: str,
    title: str,
    room_name: str,
    tasks: Sequence[str],
    technician_ids: Sequence[UUID],
    starts_at: datetime,
    ends_at: datetime,
) -> WorkOrder:
    answer = await bookings.call(
        bookings.stub.CreateWorkOrder,
        pb.CreateWorkOrderRequest(
            request_id=request_id,
            project_id=str(project_id),
            title=title,
            room_name=room_name,
            tasks=list(tasks),
            technician_ids=[str(t) for t in technician_ids],
            starts_at=stamp(starts_at),
            ends_at=stamp(ends_at),
        ),
        principal=principal,
    )
    return work_order_out(answer.work_order)


async def change_work_order(
    bookings: BookingsRemote, principal: Principal, work_order_id: UUID, changes: Mapping[str, Any]
) -> WorkOrder:
    """`changes` as WorkOrderChange dumps them (exclude_unset)."""
    request = pb.UpdateWorkOrderRequest(work_order_id=str(work_order_id))
    for name, value in changes.items():
        if name in ("tasks", "technician_ids"):
            getattr(request, name).extend(str(v) for v in value or [])
        elif name in ("starts_at", "ends_at"):
            if value is not None:
                getattr(request, name).CopyFrom(stamp(value))
        elif name == "status":
            request.status = enums.value(pb.WorkOrderStatus, value) if value else 0
        elif value is not None:
            setattr(request, name, value)
        request.update_mask.paths.append(name)
    answer = await bookings.call(bookings.stub.UpdateWorkOrder, request, principal=principal)
    return work_order_out(answer.work_order)


async def fetch_work_order(
    bookings: BookingsRemote, principal: Principal, work_order_id: UUID
) -> WorkOrder:
    answer = await bookings.call(
        bookings.stub.GetWorkOrder,
        pb.GetWorkOrderRequest(work_order_id=str(work_order_id)),
        principal=principal,
    )
    return work_order_out(answer.work_order)


async def list_work_orders(
    bookings: BookingsRemote,
    principal: Principal,
    *,
    start: datetime,
    end: datetime,
    technician_id: UUID | None = None,
    unassigned_only: bool = False,
    project_id: UUID | None = None,
    include_cancelled: bool = False,
) -> list[WorkOrder]:
    request = pb.ListWorkOrdersRequest(
        to=stamp(end),
        technician_id=str(technician_id or ""),
        unassigned_only=unassigned_only,
        project_id=str(project_id or ""),
        include_cancelled=include_cancelled,
    )
    getattr(request, "from").CopyFrom(stamp(start))
    answer = await bookings.call(bookings.stub.ListWorkOrders, request, principal=principal)
    return [work_order_out(w) for w in answer.work_orders]


# -- bookings, as staff act on them ------------------------------------------------------------


async def confirm_booking(
    bookings: BookingsRemote, principal: Principal, booking_id: UUID
) -> DispatchBooking:
    answer = await bookings.call(
        bookings.stub.ConfirmBooking,
        pb.ConfirmBookingRequest(booking_id=str(booking_id)),
        principal=principal,
    )
    return booking_out(answer.booking)


async def reschedule_booking(
    bookings: BookingsRemote, principal: Principal, booking_id: UUID, starts_at: datetime
) -> DispatchBooking:
    answer = await bookings.call(
        bookings.stub.RescheduleBooking,
        pb.RescheduleBookingRequest(booking_id=str(booking_id), starts_at=stamp(starts_at)),
        principal=principal,
    )
    return booking_out(answer.booking)


async def cancel_booking(
    bookings: BookingsRemote, principal: Principal, booking_id: UUID, reason: str
) -> DispatchBooking:
    answer = await bookings.call(
        bookings.stub.CancelBooking,
        pb.CancelBookingRequest(booking_id=str(booking_id), reason=reason),
        principal=principal,
    )
    return booking_out(answer.booking)


async def customer_bookings(
    bookings: BookingsRemote,
    principal: Principal,
    customer_id: UUID,
    page: common_pb2.PageRequest,
    *,
    include_cancelled: bool = True,
) -> DispatchBookingPage:
    """A customer's service-call history, upcoming first then past (staff)."""
    answer = await bookings.call(
        bookings.stub.ListBookings,
        pb.ListBookingsRequest(
            customer_id=str(customer_id), include_cancelled=include_cancelled, page=page
        ),
        principal=principal,
    )
    return DispatchBookingPage(
        bookings=[booking_out(b) for b in answer.bookings],
        next_page_token=answer.page.next_page_token,
    )
