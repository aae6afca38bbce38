"""The dispatch side of bookings, for staff: technicians (hours, skills, home
base, time off, calendar feeds), service types, the booking settings, project
sites, install work orders and the dispatch calendar, and staff actions on a
client's booking (confirm, move or cancel at any time). Bookings decides who
may do what (dispatch: project managers, admins, owners): a staff member
without the right is a 403 problem, a busy technician a 409 that names them.
Shapes in `dispatch_shapes`, the calls the console shares in `dispatch_calls`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from gateway.api.bookings import dispatch_calls as calls
from gateway.api.bookings.dispatch_shapes import (
    AddedTimeOff,
    BookingSettings,
    BookingSettingsChange,
    DispatchBooking,
    DispatchBookingPage,
    FeedToken,
    NewWorkOrder,
    ProjectSite,
    ServiceType,
    ServiceTypeChange,
    ServiceTypeFields,
    ServiceTypeList,
    StaffCancel,
    StaffReschedule,
    Technician,
    TechnicianChange,
    TechnicianList,
    TimeOffIn,
    TimeOffList,
    WorkOrder,
    WorkOrderChange,
    WorkOrderList,
)
from gateway.deps import BookingsDep, PageDep, RequestIdDep, StaffDep
from gateway.problems import problem_responses

router = APIRouter(tags=["dispatch"], responses=problem_responses(401, 403, 409))

From = Annotated[datetime, Query(alias="from", description="Window start (ISO 8601).")]
To = Annotated[datetime, Query(alias="to", description="Window end (ISO 8601), after `from`.")]


# -- technicians -----------------------------------------------------------------------


@router.get("/technicians", summary="Technicians: hours, skills, home base, feed (staff)")
async def list_technicians(
    staff: StaffDep, bookings: BookingsDep, include_inactive: bool = False
) -> TechnicianList:
    found = await calls.list_technicians(bookings, staff, include_inactive=include_inactive)
    return TechnicianList(technicians=found)


@router.patch(
    "/technicians/{technician_id}",
    summary="Change a technician's skills, home base or weekly hours (dispatch)",
)
async def patch_technician(
    technician_id: UUID, body: TechnicianChange, staff: StaffDep, bookings: BookingsDep
) -> Technician:
    changes = body.model_dump(exclude_unset=True)
    return await calls.change_technician(bookings, staff, technician_id, changes)


@router.get("/time-off", summary="Time off in a window, every technician's or one's (staff)")
async def list_time_off(
    start: From, end: To, staff: StaffDep, bookings: BookingsDep, technician_id: UUID | None = None
) -> TimeOffList:
    found = await calls.list_time_off(
        bookings, staff, start=start, end=end, technician_id=technician_id
    )
    return TimeOffList(time_off=found)


@router.post(
    "/technicians/{technician_id}/time-off",
    status_code=status.HTTP_201_CREATED,
    summary="Add time off; the visits inside it are flagged (dispatch)",
)
async def add_time_off(
    technician_id: UUID,
    body: TimeOffIn,
    staff: StaffDep,
    bookings: BookingsDep,
    request_id: RequestIdDep,
) -> AddedTimeOff:
    return await calls.add_time_off(
        bookings,
        staff,
        technician_id,
        request_id=request_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        reason=body.reason,
    )


@router.delete(
    "/time-off/{time_off_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove time off"
)
async def remove_time_off(time_off_id: UUID, staff: StaffDep, bookings: BookingsDep) -> Response:
    await calls.remove_time_off(bookings, staff, time_off_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/technicians/{technician_id}/feed-token",
    summary="A new secret calendar feed URL (the old one stops working); shown once",
)
async def issue_feed_token(
    technician_id: UUID, staff: StaffDep, bookings: BookingsDep, request: Request
) -> FeedToken:
    token = await calls.issue_feed_token(bookings, staff, technician_id)
    return FeedToken(token=token, url=calls.feed_url(str(request.base_url), token))


@router.delete(
    "/technicians/{technician_id}/feed-token",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the technician's calendar feed URL",
)
async def revoke_feed_token(
    technician_id: UUID, staff: StaffDep, bookings: BookingsDep
) -> Response:
    await calls.revoke_feed_token(bookings, staff, technician_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- settings, sites, service types ----------------------------------------------------------


@router.get("/booking-settings", summary="The zone hours are read on, the default travel time")
async def get_booking_settings(staff: StaffDep, bookings: BookingsDep) -> BookingSettings:
    return await calls.fetch_settings(bookings, staff)


@router.patch("/booking-settings", summary="Change the booking settings (dispatch)")
async def patch_booking_settings(
    body: BookingSettingsChange, staff: StaffDep, bookings: BookingsDep
) -> BookingSettings:
    return await calls.change_settings(bookings, staff, body.model_dump(exclude_unset=True))


@router.put(
    "/projects/{project_id}/site",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Where the project's site is, for travel time between visits (dispatch)",
)
async def put_project_site(
    project_id: UUID, body: ProjectSite, staff: StaffDep, bookings: BookingsDep
) -> Response:
    await calls.set_project_site(bookings, staff, project_id, (body.latitude, body.longitude))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/projects/{project_id}/site",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Forget the site's coordinates (the default travel time applies)",
)
async def delete_project_site(project_id: UUID, staff: StaffDep, bookings: BookingsDep) -> Response:
    await calls.set_project_site(bookings, staff, project_id, None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/service-types", summary="Every service type, active or not (staff)")
async def list_service_types_as_dispatch(staff: StaffDep, bookings: BookingsDep) -> ServiceTypeList:
    return ServiceTypeList(service_types=await calls.list_service_types(bookings, staff))


@router.post(
    "/service-types",
    status_code=status.HTTP_201_CREATED,
    summary="Offer a service type: duration, skills, buffers, notice, horizon, cut-offs (dispatch)",
)
async def create_service_type(
    body: ServiceTypeFields, staff: StaffDep, bookings: BookingsDep, request_id: RequestIdDep
) -> ServiceType:
    return await calls.create_service_type(bookings, staff, body, request_id=request_id)


@router.patch("/service-types/{service_type_id}", summary="Change a service type (dispatch)")
async def patch_service_type(
    service_type_id: UUID, body: ServiceTypeChange, staff: StaffDep, bookings: BookingsDep
) -> ServiceType:
    changes = body.model_dump(exclude_unset=True)
    return await calls.change_service_type(bookings, staff, service_type_id, changes)


# -- work orders and the dispatch calendar ----------------------------------------------------


@router.post(
    "/projects/{project_id}/work-orders",
    status_code=status.HTTP_201_CREATED,
    summary="Plan an install visit: room, tasks, technicians, window (dispatch)",
    description="A technician already busy then (buffers and travel included) is a 409 "
    "naming them; nothing is booked twice.",
)
async def create_work_order(
    project_id: UUID,
    body: NewWorkOrder,
    staff: StaffDep,
    bookings: BookingsDep,
    request_id: RequestIdDep,
    request: Request,
    response: Response,
) -> WorkOrder:
    made = await calls.create_work_order(
        bookings,
        staff,
        project_id,
        request_id=request_id,
        title=body.title,
        room_name=body.room_name,
        tasks=body.tasks,
        technician_ids=body.technician_ids,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
    )
    response.headers["Location"] = request.app.url_path_for("get_work_order", work_order_id=made.id)
    return made


@router.get(
    "/work-orders",
    summary="The dispatch calendar: work orders overlapping a window (staff)",
)
async def list_work_orders(
    start: From,
    end: To,
    staff: StaffDep,
    bookings: BookingsDep,
    technician_id: UUID | None = None,
    unassigned_only: bool = False,
    project_id: UUID | None = None,
    include_cancelled: bool = False,
) -> WorkOrderList:
    found = await calls.list_work_orders(
        bookings,
        staff,
        start=start,
        end=end,
        technician_id=technician_id,
        unassigned_only=unassigned_only,
        project_id=project_id,
        include_cancelled=include_cancelled,
    )
    return WorkOrderList(work_orders=found)


@router.get("/work-orders/{work_order_id}", summary="A work order (staff)")
async def get_work_order(work_order_id: UUID, staff: StaffDep, bookings: BookingsDep) -> WorkOrder:
    return await calls.fetch_work_order(bookings, staff, work_order_id)


@router.patch(
    "/work-orders/{work_order_id}",
    summary="Assign, move, re-title or advance a work order (dispatch)",
    description="Only the fields sent change. A client's booking moves and cancels "
    "through its booking (`/dispatch/bookings/...`).",
)
async def patch_work_order(
    work_order_id: UUID, body: WorkOrderChange, staff: StaffDep, bookings: BookingsDep
) -> WorkOrder:
    changes = body.model_dump(exclude_unset=True)
    return await calls.change_work_order(bookings, staff, work_order_id, changes)


# -- a client's booking, as dispatch handles it -------------------------------------------------


@router.post("/dispatch/bookings/{booking_id}/confirm", summary="Confirm a pending booking")
async def confirm_booking(
    booking_id: UUID, staff: StaffDep, bookings: BookingsDep
) -> DispatchBooking:
    return await calls.confirm_booking(bookings, staff, booking_id)


@router.post(
    "/dispatch/bookings/{booking_id}/reschedule",
    summary="Move a booking, whatever the cut-off (dispatch)",
)
async def reschedule_booking_as_dispatch(
    booking_id: UUID, body: StaffReschedule, staff: StaffDep, bookings: BookingsDep
) -> DispatchBooking:
    return await calls.reschedule_booking(bookings, staff, booking_id, body.starts_at)


@router.post(
    "/dispatch/bookings/{booking_id}/cancel",
    summary="Cancel a booking, whatever the cut-off (dispatch); frees the time",
)
async def cancel_booking_as_dispatch(
    booking_id: UUID, body: StaffCancel, staff: StaffDep, bookings: BookingsDep
) -> DispatchBooking:
    return await calls.cancel_booking(bookings, staff, booking_id, body.reason)


@router.get(
    "/customers/{customer_id}/bookings",
    summary="A customer's service-call history: upcoming, then past (staff)",
)
async def customer_bookings(
    customer_id: UUID, staff: StaffDep, bookings: BookingsDep, page: PageDep
) -> DispatchBookingPage:
    return await calls.customer_bookings(bookings, staff, customer_id, page)
