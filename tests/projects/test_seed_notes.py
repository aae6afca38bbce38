"""The demo seed's team notes are dated over the project's history, as a real
project's would be (design signed off, everything delivered, then this
week's), so the board's "Latest from the team" reads newest first and each
note says when it was written; and a note recorded after the fact may be
dated earlier, never later than now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from portal.projects.v1 import projects_pb2 as pb

from deploy.seed_cinema import STAGE_PLAN, plan_stages
from services.chassis.grpc_client import error_detail
from tests.projects.conftest import INVALID, Integrator


async def test_the_seeds_notes_read_newest_first_each_on_its_own_day(acme: Integrator):
    project = await acme.project()
    today = datetime.now(UTC).date()
    await plan_stages(
        call=acme.svc.caller,
        projects=acme.svc.stub,
        staff=acme.pm,
        project_id=project.id,
        today=today,
    )
    notes = (await acme.board(project.id, acme.approver)).recent_notes
    written = {stage: (note, days) for stage, _, _, note, days in STAGE_PLAN if note}
    # Newest first: install's note of this week, procurement's, design's.
    assert [n.to_stage for n in notes] == [pb.STAGE_INSTALL, pb.STAGE_PROCUREMENT, pb.STAGE_DESIGN]
    for n in notes:
        note, days = written[n.to_stage]
        assert n.client_note == note
        assert n.changed_at.ToDatetime(tzinfo=UTC).date() == today + timedelta(days=days)
    # Not all at the seed's moment: weeks apart.
    first, *_, last = (n.changed_at.ToDatetime(tzinfo=UTC) for n in notes)
    assert first - last > timedelta(days=30)


def _stamp(moment: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(moment)
    return out


async def test_a_note_may_be_dated_earlier_but_never_in_the_future(acme: Integrator):
    project = await acme.project()
    earlier = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    request = pb.UpdateStageRequest(
        project_id=project.id,
        stage=pb.STAGE_DESIGN,
        client_note="Concept approved.",
        note_written_at=_stamp(earlier),
    )
    await acme("UpdateStage", request, acme.pm)
    (note,) = (await acme.board(project.id, acme.approver)).recent_notes
    assert note.changed_at.ToDatetime(tzinfo=UTC) == earlier

    request.client_note = "Concept approved, with the bar moved."
    request.note_written_at.CopyFrom(_stamp(datetime.now(UTC) + timedelta(days=1)))
    err = await acme.fails(INVALID, "UpdateStage", request, acme.pm)
    assert error_detail(err).field_violations[0].field == "note_written_at"
    # Refused whole: the note is as it was.
    (note,) = (await acme.board(project.id, acme.approver)).recent_notes
    assert note.client_note == "Concept approved."


async def test_a_note_without_a_date_is_dated_now(acme: Integrator):
    project = await acme.project()
    before = datetime.now(UTC)
    request = pb.UpdateStageRequest(
        project_id=project.id, stage=pb.STAGE_DESIGN, client_note="Survey booked."
    )
    await acme("UpdateStage", request, acme.pm)
    (note,) = (await acme.board(project.id, acme.approver)).recent_notes
    assert note.changed_at.ToDatetime(tzinfo=UTC) >= before - timedelta(seconds=1)
