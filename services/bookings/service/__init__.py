"""Bookings' use cases: one transaction each, through the unit of work."""

from services.bookings.service.availability import list_bookable_projects, list_slots
from services.bookings.service.book_visit import Projects, TakenNow, book_visit
from services.bookings.service.booking_reads import booking_calendar, get_booking, list_bookings
from services.bookings.service.bookings import (
    cancel_booking,
    confirm_booking,
    reschedule_booking,
)
from services.bookings.service.calendars import technician_feed
from services.bookings.service.facts import (
    on_project_created,
    on_service_contract_changed,
    on_staff_user_changed,
    on_stage_changed,
)
from services.bookings.service.messages import BookingView, WorkOrderView
from services.bookings.service.setup import (
    add_time_off,
    create_service_type,
    get_settings,
    issue_feed_token,
    list_service_types,
    list_technicians,
    list_time_off,
    remove_time_off,
    revoke_feed_token,
    set_project_site,
    update_service_type,
    update_settings,
    update_technician,
)
from services.bookings.service.variations import on_change_order_approved
from services.bookings.service.work_orders import (
    create_work_order,
    get_work_order,
    list_work_orders,
    update_work_order,
)

__all__ = [
    "BookingView",
    "Projects",
    "TakenNow",
    "WorkOrderView",
    "add_time_off",
    "book_visit",
    "booking_calendar",
    "cancel_booking",
    "confirm_booking",
    "create_service_type",
    "create_work_order",
    "get_booking",
    "get_settings",
    "get_work_order",
    "issue_feed_token",
    "list_bookable_projects",
    "list_bookings",
    "list_service_types",
    "list_slots",
    "list_technicians",
    "list_time_off",
    "list_work_orders",
    "on_change_order_approved",
    "on_project_created",
    "on_service_contract_changed",
    "on_staff_user_changed",
    "on_stage_changed",
    "remove_time_off",
    "reschedule_booking",
    "revoke_feed_token",
    "set_project_site",
    "technician_feed",
    "update_service_type",
    "update_settings",
    "update_technician",
    "update_work_order",
]
