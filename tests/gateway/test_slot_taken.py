"""A booking refused as taken: the free times from BookVisit's trailer reach
the client as they were sent, parsed once per trailer, in the problem's JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import grpc
from portal.bookings.v1 import bookings_pb2 as B
from portal.common.v1 import common_pb2

from gateway.api.bookings import calls
from gateway.backends import RemoteError
from gateway.problems import respond
from services.chassis.grpc_client import ERROR_DETAIL_KEY

START = datetime(2026, 12, 7, 8, tzinfo=UTC)


def week_of_slots(first: datetime, zone: str = "Europe/Berlin") -> bytes:
    answer = B.ListSlotsResponse(time_zone=zone)
    for n in range(7 * 8):
        starts = first + timedelta(days=n // 8, hours=n % 8)
        slot = answer.slots.add(local_date=starts.date().isoformat(), local_time=f"{n % 8:02}:00")
        slot.starts_at.FromDatetime(starts)
        slot.ends_at.FromDatetime(starts + timedelta(hours=1))
    return answer.SerializeToString()


def taken(trailer: bytes) -> RemoteError:
    detail = common_pb2.ErrorDetail(code="slot_taken")
    metadata = grpc.aio.Metadata(
        (ERROR_DETAIL_KEY, detail.SerializeToString()), (calls.FRESH_SLOTS_KEY, trailer)
    )
    error = grpc.aio.AioRpcError(grpc.StatusCode.ABORTED, grpc.aio.Metadata(), metadata)
    return RemoteError(service="bookings", error=error)


def test_each_trailer_gives_its_own_free_times_however_often_it_is_read() -> None:
    monday, tuesday = week_of_slots(START), week_of_slots(START + timedelta(days=1), "UTC")
    first, again = calls._fresh_slots(taken(monday)), calls._fresh_slots(taken(monday))
    other = calls._fresh_slots(taken(tuesday))
    assert first is not None and again is not None and other is not None
    assert first.slots[0].starts_at == START and len(first.slots) == 56
    assert again == first
    assert (other.time_zone, other.slots[0].starts_at) == ("UTC", START + timedelta(days=1))


def test_the_problem_is_the_json_of_the_model_with_the_week_of_free_times() -> None:
    fresh = calls._fresh_slots(taken(week_of_slots(START)))
    assert fresh is not None
    problem = calls._taken_problem(taken(week_of_slots(START)), fresh)
    response = respond(problem, path="/api/v1/bookings")
    body = json.loads(bytes(response.body))
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    expected = problem.problem.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert body == {**expected, "instance": "/api/v1/bookings"}
    assert body["code"] == "slot_taken" and body["detail"].startswith("That time was just taken —")
    assert body["slots"][0]["starts_at"] == "2026-12-07T08:00:00Z"
