"""BookingsService over gRPC: translate, call the service layer, translate back."""

from __future__ import annotations

from typing import Any

from portal.bookings.v1 import bookings_pb2 as pb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.common.v1 import common_pb2

from services.bookings import service
from services.bookings.domain_calendar import SERVICE_TYPE_FIELDS
from services.bookings.grpc_api.convert import (
    bookable_pb,
    booking_pb,
    moment,
    service_type_pb,
    settings_pb,
    slots_pb,
    status_name,
    technician_pb,
    time_off_pb,
    work_order_pb,
)
from services.bookings.service.work_orders import UPDATABLE as WORK_ORDER_FIELDS
from services.chassis import fieldmask
from services.chassis.auth import current_principal
from services.chassis.timefmt import zone

__all__ = ["BookingsServicer"]

# BookVisit's refusal as taken, when fresh_slot_days asked: the free times
# now, a serialized ListSlotsResponse beside the ErrorDetail.
FRESH_SLOTS_KEY = "portal-fresh-slots-bin"
TECHNICIAN_FIELDS = (
    "skills",
    "home_base",
    "home_latitude",
    "home_longitude",
    "has_home_coordinates",
    "working_hours",
)
HOME = ("home_latitude", "home_longitude", "has_home_coordinates")


def _hours(rows: Any) -> list[tuple[int, str, str]]:
    return [(h.weekday, h.start, h.end) for h in rows]


class BookingsServicer(bookings_pb2_grpc.BookingsServiceServicer):
    def __init__(self, sessions, projects: service.Projects) -> None:
        self._sessions = sessions
        self._projects = projects

    # --- technicians -------------------------------------------------------------------

    async def ListTechnicians(self, request, context):
        rows = await service.list_technicians(
            sessions=self._sessions,
            principal=current_principal(),
            include_inactive=request.include_inactive,
        )
        return pb.ListTechniciansResponse(technicians=[technician_pb(t) for t in rows])

    async def UpdateTechnician(self, request, context):
        masked = fieldmask.changes(request, allowed=TECHNICIAN_FIELDS)
        changes: dict[str, Any] = {k: v for k, v in masked.items() if k not in HOME}
        if "working_hours" in changes:
            changes["working_hours"] = _hours(request.working_hours)
        if HOME[2] in masked or (HOME[0] in masked and HOME[1] in masked):
            changes["home_coordinates"] = (
                (request.home_latitude, request.home_longitude)
                if request.has_home_coordinates or HOME[2] not in masked
                else None
            )
        tech = await service.update_technician(
            sessions=self._sessions,
            principal=current_principal(),
            technician_id=request.staff_user_id,
            changes=changes,
        )
        return pb.UpdateTechnicianResponse(technician=technician_pb(tech))

    async def AddTimeOff(self, request, context):
        off, flagged = await service.add_time_off(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            technician_id=request.technician_id,
            starts_at=moment(request.starts_at, field="starts_at"),
            ends_at=moment(request.ends_at, field="ends_at"),
            reason=request.reason,
        )
        return pb.AddTimeOffResponse(time_off=time_off_pb(off), conflicting_work_order_ids=flagged)

    async def RemoveTimeOff(self, request, context):
        await service.remove_time_off(
            sessions=self._sessions, principal=current_principal(), time_off_id=request.time_off_id
        )
        return pb.RemoveTimeOffResponse()

    async def ListTimeOff(self, request, context):
        rows = await service.list_time_off(
            sessions=self._sessions,
            principal=current_principal(),
            technician_id=request.technician_id,
            start=moment(getattr(request, "from"), field="from"),
            end=moment(request.to, field="to"),
        )
        return pb.ListTimeOffResponse(time_off=[time_off_pb(t) for t in rows])

    async def IssueFeedToken(self, request, context):
        token = await service.issue_feed_token(
            sessions=self._sessions,
            principal=current_principal(),
            technician_id=request.technician_id,
        )
        return pb.IssueFeedTokenResponse(token=token)

    async def RevokeFeedToken(self, request, context):
        await service.revoke_feed_token(
            sessions=self._sessions,
            principal=current_principal(),
            technician_id=request.technician_id,
        )
        return pb.RevokeFeedTokenResponse()

    async def GetTechnicianFeed(self, request, context):
        ics, name = await service.technician_feed(
            sessions=self._sessions, principal=current_principal(), token=request.token
        )
        return pb.GetTechnicianFeedResponse(ics=ics, technician_name=name)

    # --- settings and service types ------------------------------------------------------

    async def GetBookingSettings(self, request, context):
        settings = await service.get_settings(
            sessions=self._sessions, principal=current_principal()
        )
        return pb.GetBookingSettingsResponse(settings=settings_pb(settings))

    async def UpdateBookingSettings(self, request, context):
        changes = fieldmask.changes(
            request, allowed=("time_zone", "default_travel_minutes"), resource="settings"
        )
        settings = await service.update_settings(
            sessions=self._sessions, principal=current_principal(), changes=changes
        )
        return pb.UpdateBookingSettingsResponse(settings=settings_pb(settings))

    async def SetProjectSite(self, request, context):
        await service.set_project_site(
            sessions=self._sessions,
            principal=current_principal(),
            project_id=request.project_id,
            coordinates=None if request.clear else (request.latitude, request.longitude),
        )
        return pb.SetProjectSiteResponse()

    async def ListServiceTypes(self, request, context):
        rows = await service.list_service_types(
            sessions=self._sessions, principal=current_principal()
        )
        return pb.ListServiceTypesResponse(service_types=[service_type_pb(s) for s in rows])

    async def CreateServiceType(self, request, context):
        values = {name: getattr(request.service_type, name) for name in SERVICE_TYPE_FIELDS}
        values["skills"] = list(request.service_type.skills)
        row = await service.create_service_type(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            values=values,
        )
        return pb.CreateServiceTypeResponse(service_type=service_type_pb(row))

    async def UpdateServiceType(self, request, context):
        changes = fieldmask.changes(request, allowed=SERVICE_TYPE_FIELDS, resource="service_type")
        row = await service.update_service_type(
            sessions=self._sessions,
            principal=current_principal(),
            service_type_id=request.service_type_id,
            changes=changes,
        )
        return pb.UpdateServiceTypeResponse(service_type=service_type_pb(row))

    # --- booking ------------------------------------------------------------------------

    async def ListBookableProjects(self, request, context):
        rows = await service.list_bookable_projects(
            sessions=self._sessions, principal=current_principal()
        )
        return pb.ListBookableProjectsResponse(projects=[bookable_pb(b) for b in rows])

    async def ListSlots(self, request, context):
        found, time_zone = await service.list_slots(
            sessions=self._sessions,
            principal=current_principal(),
            service_type_id=request.service_type_id,
            project_id=request.project_id,
            from_date=request.from_date,
            from_time=moment(request.from_time, field="from_time"),
            days=request.days,
            booking_id=request.booking_id,
        )
        tz = zone(time_zone)
        return slots_pb(found, tz, time_zone=time_zone)

    async def BookVisit(self, request, context):
        try:
            view = await service.book_visit(
                sessions=self._sessions,
                projects=self._projects,
                principal=current_principal(),
                request_id=request.request_id,
                project_id=request.project_id,
                service_type_id=request.service_type_id,
                starts_at=moment(request.starts_at, field="starts_at"),
                room_id=request.room_id,
                product_line_ids=list(request.product_line_ids),
                description=request.description,
                photo_document_ids=list(request.photo_document_ids),
                fresh_days=request.fresh_slot_days,
            )
        except service.TakenNow as taken:
            fresh = slots_pb(taken.fresh, zone(taken.time_zone), time_zone=taken.time_zone)
            taken.trailers = ((FRESH_SLOTS_KEY, fresh.SerializeToString()),)
            raise
        return pb.BookVisitResponse(booking=booking_pb(view))

    async def RescheduleBooking(self, request, context):
        view = await service.reschedule_booking(
            sessions=self._sessions,
            principal=current_principal(),
            booking_id=request.booking_id,
            starts_at=moment(request.starts_at, field="starts_at"),
        )
        return pb.RescheduleBookingResponse(booking=booking_pb(view))

    async def CancelBooking(self, request, context):
        view = await service.cancel_booking(
            sessions=self._sessions,
            principal=current_principal(),
            booking_id=request.booking_id,
            reason=request.reason,
        )
        return pb.CancelBookingResponse(booking=booking_pb(view))

    async def ConfirmBooking(self, request, context):
        view = await service.confirm_booking(
            sessions=self._sessions, principal=current_principal(), booking_id=request.booking_id
        )
        return pb.ConfirmBookingResponse(booking=booking_pb(view))

    async def GetBooking(self, request, context):
        view = await service.get_booking(
            sessions=self._sessions, principal=current_principal(), booking_id=request.booking_id
        )
        return pb.GetBookingResponse(booking=booking_pb(view))

    async def ListBookings(self, request, context):
        views, token = await service.list_bookings(
            sessions=self._sessions,
            principal=current_principal(),
            customer_id=request.customer_id,
            project_id=request.project_id,
            include_cancelled=request.include_cancelled,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return pb.ListBookingsResponse(
            bookings=[booking_pb(v) for v in views],
            page=common_pb2.PageResponse(next_page_token=token),
        )

    async def GetBookingCalendar(self, request, context):
        ics, filename = await service.booking_calendar(
            sessions=self._sessions, principal=current_principal(), booking_id=request.booking_id
        )
        return pb.GetBookingCalendarResponse(ics=ics, filename=filename)

    # --- work orders ----------------------------------------------------------------------

    async def CreateWorkOrder(self, request, context):
        view = await service.create_work_order(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            project_id=request.project_id,
            title=request.title,
            room_name=request.room_name,
            tasks=list(request.tasks),
            technician_ids=list(request.technician_ids),
            starts_at=moment(request.starts_at, field="starts_at"),
            ends_at=moment(request.ends_at, field="ends_at"),
        )
        return pb.CreateWorkOrderResponse(work_order=work_order_pb(view))

    async def UpdateWorkOrder(self, request, context):
        changes = fieldmask.changes(request, allowed=WORK_ORDER_FIELDS)
        for name in ("starts_at", "ends_at"):
            if name in changes:
                changes[name] = moment(getattr(request, name), field=name, required=True)
        if "status" in changes:
            changes["status"] = status_name(request.status)
        view = await service.update_work_order(
            sessions=self._sessions,
            principal=current_principal(),
            work_order_id=request.work_order_id,
            changes=changes,
        )
        return pb.UpdateWorkOrderResponse(work_order=work_order_pb(view))

    async def GetWorkOrder(self, request, context):
        view = await service.get_work_order(
            sessions=self._sessions,
            principal=current_principal(),
            work_order_id=request.work_order_id,
        )
        return pb.GetWorkOrderResponse(work_order=work_order_pb(view))

    async def ListWorkOrders(self, request, context):
        start = moment(getattr(request, "from"), field="from", required=True)
        end = moment(request.to, field="to", required=True)
        assert start is not None and end is not None
        views = await service.list_work_orders(
            sessions=self._sessions,
            principal=current_principal(),
            start=start,
            end=end,
            technician_id=request.technician_id,
            unassigned_only=request.unassigned_only,
            project_id=request.project_id,
            include_cancelled=request.include_cancelled,
        )
        return pb.ListWorkOrdersResponse(work_orders=[work_order_pb(v) for v in views])
