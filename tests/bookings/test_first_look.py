"""BookVisit's first look refuses as taken only when every check the booking
makes would pass; anything else is undecided (None), and the booking's own
checks answer it as before (tests/bookings/test_booking_flow.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from portal.identity.v1.identity_pb2 import ACCESS_STATE_ARCHIVED, ACCESS_STATE_DELETED

from services.bookings.domain_bookings import HANDOVER
from services.bookings.domain_calendar import SERVICE_TYPE_FIELDS
from services.bookings.domain_slots import Site
from services.bookings.service.first_look import context_of
from services.chassis.auth import Principal

TENANT, CUSTOMER = uuid.uuid4(), uuid.uuid4()
CLIENT = Principal(
    kind="client",
    subject=str(uuid.uuid4()),
    tenant_id=str(TENANT),
    customer_id=str(CUSTOMER),
    roles=frozenset({"approver"}),
)
STAFF = Principal(
    kind="staff", subject="dispatch", tenant_id=str(TENANT), roles=frozenset({"project_manager"})
)


def row(**changes: Any) -> SimpleNamespace:
    """The look's row as the statement returns it: every column, prefixed."""
    values: dict[str, Any] = {"retry": False, "portal_state": None, "visible": True}
    values |= {f"st_{name}": None for name in SERVICE_TYPE_FIELDS}
    values |= {
        "st_id": uuid.uuid4(),
        "st_name": "Projector check",
        "st_description": "",
        "st_duration_minutes": 60,
        "st_skills": ["projectors"],
        "st_active": True,
        "st_allow_service_contract": True,
        "st_allow_after_handover": False,
        "f_project_id": uuid.uuid4(),
        "f_customer_id": CUSTOMER,
        "f_stage": "install",
        "f_service_contract": True,
        "f_latitude": None,
        "f_longitude": None,
        "s_time_zone": "Europe/London",
        "s_default_travel_minutes": 30,
    }
    return SimpleNamespace(**(values | changes))


def test_a_client_who_may_book_is_decided_with_the_rows_it_read():
    found = context_of(CLIENT, row())
    assert found is not None
    assert found.spec.skills == ("projectors",) and found.spec.duration_minutes == 60
    assert found.time_zone == "Europe/London" and found.site is None
    assert found.travel.default == timedelta(minutes=30)
    sited = context_of(CLIENT, row(f_latitude=51.5, f_longitude=-0.1))
    assert sited is not None and sited.site == Site(51.5, -0.1)


@pytest.mark.parametrize(
    "changes",
    [
        {"retry": True},  # the request was made before: the retry answers it
        {"st_id": None},  # no such service type
        {"st_active": False},  # not offered to clients
        {"portal_state": ACCESS_STATE_ARCHIVED},  # read-only portal
        {"portal_state": ACCESS_STATE_DELETED},  # closed portal
        {"visible": False},  # a project not for this contact
        {"f_project_id": None},  # a project we never heard of
        {"f_customer_id": uuid.uuid4()},  # another customer's project
        {"f_service_contract": False},  # not bookable by the type's rule
        {"s_time_zone": None},  # no settings yet: the booking makes them
    ],
)
def test_anything_the_booking_would_refuse_otherwise_is_undecided(changes):
    assert context_of(CLIENT, row(**changes)) is None


def test_staff_book_any_type_on_any_project_we_know():
    assert context_of(STAFF, row(st_active=False, f_service_contract=False)) is not None
    assert context_of(STAFF, row(f_project_id=None)) is None


def test_a_project_past_handover_may_book_a_type_that_allows_it():
    allowed = row(f_service_contract=False, f_stage=HANDOVER, st_allow_after_handover=True)
    assert context_of(CLIENT, allowed) is not None
