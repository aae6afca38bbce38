"""Rooms and product lines: positions, moves, idempotent creates, clear refusals."""

from __future__ import annotations

import uuid

from google.protobuf.field_mask_pb2 import FieldMask
from portal.projects.v1 import projects_pb2 as pb

from services.chassis.grpc_client import error_detail
from tests.projects.conftest import INVALID, NOT_FOUND, Integrator, Job


async def rooms(acme: Integrator, project_id: str) -> list[pb.Room]:
    return list(
        (await acme("ListRooms", pb.ListRoomsRequest(project_id=project_id), acme.pm)).rooms
    )


async def test_a_retried_create_room_or_add_line_makes_one(acme: Integrator, job: Job):
    request = pb.CreateRoomRequest(
        request_id=str(uuid.uuid4()), project_id=job.project.id, name="Cinema", client_visible=True
    )
    first = (await acme("CreateRoom", request, acme.pm)).room
    again = (await acme("CreateRoom", request, acme.pm)).room
    assert first.id == again.id and first.position == 3
    line = pb.AddProductLineRequest(
        request_id=str(uuid.uuid4()),
        room_id=first.id,
        model="VPL-XW5000",
        quantity=1,
        unit_price_minor=599_900,
        client_visible=True,
    )
    one = (await acme("AddProductLine", line, acme.pm)).line
    two = (await acme("AddProductLine", line, acme.pm)).line
    assert one.id == two.id
    cinema = (await rooms(acme, job.project.id))[2]
    assert len(cinema.lines) == 1 and cinema.total.amount_minor == 599_900
    assert cinema.total.currency == "USD"


async def test_rooms_move_to_a_position_and_the_rest_close_up(acme: Integrator, job: Job):
    cinema = await acme.room(job.project.id, "Cinema")
    moved = (
        await acme(
            "UpdateRoom",
            pb.UpdateRoomRequest(room_id=cinema.id, name="Cinema", client_visible=True, position=1),
            acme.pm,
        )
    ).room
    assert moved.position == 1
    order = [(r.name, r.position) for r in await rooms(acme, job.project.id)]
    assert order == [("Cinema", 1), ("Living room", 2), ("Equipment rack", 3)]
    # Position 0 keeps the place: renaming or hiding does not reorder.
    renamed = (
        await acme(
            "UpdateRoom",
            pb.UpdateRoomRequest(
                room_id=job.living.id,
                name="Lounge",
                client_visible=False,  # a default: written only because the mask names it
                update_mask=FieldMask(paths=["name", "client_visible"]),
            ),
            acme.pm,
        )
    ).room
    assert (renamed.name, renamed.position, renamed.client_visible) == ("Lounge", 2, False)


async def test_a_line_changes_and_moves_between_rooms(acme: Integrator, job: Job):
    changed = (
        await acme(
            "UpdateProductLine",
            pb.UpdateProductLineRequest(
                line_id=job.cables.id,
                model="HDMI 2.1 cable set",
                description="8K certified",
                quantity=6,
                unit_price_minor=2_599,
                client_visible=True,
                room_id=job.rack.id,
            ),
            acme.pm,
        )
    ).line
    assert changed.room_id == job.rack.id
    assert changed.line_total.amount_minor == 6 * 2_599
    assert changed.position == 2  # at the end of the rack
    living, rack = await rooms(acme, job.project.id)
    assert [x.model for x in living.lines] == ["Arc"]
    assert [x.model for x in rack.lines] == ["Managed switch", "HDMI 2.1 cable set"]
    assert rack.total.amount_minor == 45_000 + 6 * 2_599


async def test_a_line_cannot_move_to_another_projects_room(acme: Integrator, job: Job):
    elsewhere = await acme.room((await acme.project("Office")).id, "Boardroom")
    await acme.fails(
        NOT_FOUND,
        "UpdateProductLine",
        pb.UpdateProductLineRequest(
            line_id=job.soundbar.id,
            model="Arc",
            quantity=1,
            unit_price_minor=1,
            client_visible=True,
            room_id=elsewhere.id,
        ),
        acme.pm,
    )


async def test_deleting_a_room_removes_its_lines(acme: Integrator, job: Job):
    await acme("DeleteRoom", pb.DeleteRoomRequest(room_id=job.living.id), acme.pm)
    assert [r.name for r in await rooms(acme, job.project.id)] == ["Equipment rack"]
    await acme.fails(
        NOT_FOUND,
        "UpdateProductLine",
        pb.UpdateProductLineRequest(line_id=job.soundbar.id, model="Arc", quantity=1),
        acme.pm,
    )
    await acme.fails(NOT_FOUND, "DeleteRoom", pb.DeleteRoomRequest(room_id=job.living.id), acme.pm)


async def test_removing_a_line(acme: Integrator, job: Job):
    await acme("RemoveProductLine", pb.RemoveProductLineRequest(line_id=job.cables.id), acme.pm)
    living = (await rooms(acme, job.project.id))[0]
    assert [x.model for x in living.lines] == ["Arc"]
    assert living.total.amount_minor == 2 * 89_900


async def test_bad_lines_are_refused_naming_the_field(acme: Integrator, job: Job):
    for change, field in [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 10_001}, "quantity"),
        ({"unit_price_minor": -1}, "unit_price_minor"),
        ({"unit_price_minor": 10**10 + 1}, "unit_price_minor"),
        ({"model": ""}, "model"),
    ]:
        values = {
            "request_id": str(uuid.uuid4()),
            "room_id": job.living.id,
            "model": "Arc",
            "quantity": 1,
            "unit_price_minor": 100,
        }
        values.update(change)
        err = await acme.fails(
            INVALID, "AddProductLine", pb.AddProductLineRequest(**values), acme.pm
        )
        assert error_detail(err).field_violations[0].field == field
        assert field.split("_")[0] in err.details()
    err = await acme.fails(
        INVALID,
        "CreateRoom",
        pb.CreateRoomRequest(project_id=job.project.id, name="  "),
        acme.pm,
    )
    assert err.details() == "name is required"
    await acme.fails(INVALID, "ListRooms", pb.ListRoomsRequest(project_id="not-a-uuid"), acme.pm)
