"""A stage move and a new project are dated on the integrator's day (its time
zone in identity), not on the server's UTC day.

The server reads its own clock, so the test picks two zones 25 hours apart
(Kiritimati, UTC+14, and Pago Pago, UTC-11): at every instant their days
differ, so a service dating by UTC would write the same day for both."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from portal.projects.v1 import projects_pb2 as pb

from services.projects.domain_stages import tenant_today
from tests.projects.conftest import Integrator, Projects, new_integrator

EAST, WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"


async def _dates_of_a_move(acme: Integrator) -> tuple[str, str]:
    """(design's actual start, procurement's actual start) after one move."""
    project = await acme.project()
    request = pb.ChangeProjectStageRequest(
        request_id=str(uuid.uuid4()), project_id=project.id, stage=pb.STAGE_PROCUREMENT
    )
    await acme("ChangeProjectStage", request, acme.pm)
    stages = (await acme.board(project.id, acme.pm)).stages
    assert stages[0].actual_finish == stages[1].actual_start  # one day, both ends of the move
    return stages[0].actual_start, stages[1].actual_start


def _days_around(zone: str, before: datetime) -> set[str]:
    """The zone's day when the call began and when it ended (a midnight may fall between)."""
    return {
        tenant_today(before, zone).isoformat(),
        tenant_today(datetime.now(UTC), zone).isoformat(),
    }


async def test_stage_moves_and_new_projects_are_dated_on_each_integrators_own_day(
    projects: Projects,
):
    east = await new_integrator(projects, time_zone=EAST)
    west = await new_integrator(projects, time_zone=WEST)
    before = datetime.now(UTC)
    east_created, east_moved = await _dates_of_a_move(east)
    west_created, west_moved = await _dates_of_a_move(west)
    assert {east_created, east_moved} <= _days_around(EAST, before)
    assert {west_created, west_moved} <= _days_around(WEST, before)
    # Kiritimati is always a calendar day or two ahead of Pago Pago.
    assert date.fromisoformat(east_moved) > date.fromisoformat(west_moved)
