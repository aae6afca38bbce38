"""Stage plans, stage moves filling in what actually happened, and the status
board that answers the client's screen in one call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from portal.projects.v1 import projects_pb2 as pb

from services.chassis.grpc_client import error_detail
from tests.projects.conftest import DENIED, INVALID, Integrator, Job


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def move(acme: Integrator, project_id: str, stage: int, **kw) -> pb.Project:
    request = pb.ChangeProjectStageRequest(
        request_id=str(uuid.uuid4()), project_id=project_id, stage=stage, **kw
    )
    return (await acme("ChangeProjectStage", request, acme.pm)).project


async def update_stage(acme: Integrator, project_id: str, stage: int, **kw) -> pb.StageInfo:
    request = pb.UpdateStageRequest(project_id=project_id, stage=stage, **kw)
    return (await acme("UpdateStage", request, acme.pm)).stage


async def test_a_new_project_has_five_stages_with_design_started(acme: Integrator):
    project = await acme.project()
    board = await acme.board(project.id, acme.approver)
    assert [s.stage for s in board.stages] == [1, 2, 3, 4, 5]
    assert board.stages[0].actual_start == today()
    assert all(not s.actual_start for s in board.stages[1:])
    assert board.forecast_handover == ""
    assert board.budget.contract_value.amount_minor == 0
    assert board.budget.contract_value.currency == "USD"
    assert board.budget.accepted_proposal_id == ""


async def test_stage_moves_fill_in_actual_dates(acme: Integrator):
    project = await acme.project()
    await move(acme, project.id, pb.STAGE_PROCUREMENT, client_note="Equipment ordered")
    await move(acme, project.id, pb.STAGE_INSTALL)
    board = await acme.board(project.id, acme.pm)
    design, procurement, install = board.stages[:3]
    assert (design.actual_start, design.actual_finish) == (today(), today())
    assert (procurement.actual_start, procurement.actual_finish) == (today(), today())
    assert (install.actual_start, install.actual_finish) == (today(), "")
    assert procurement.client_note == "Equipment ordered" and procurement.HasField(
        "note_updated_at"
    )
    # Moving back reopens the stage: its finish is cleared, the history keeps the rest.
    await move(acme, project.id, pb.STAGE_PROCUREMENT, reason="Projector back-ordered")
    procurement = (await acme.board(project.id, acme.pm)).stages[1]
    assert (procurement.actual_start, procurement.actual_finish) == (today(), "")


async def test_a_note_written_on_a_stage_is_the_latest_news_and_a_move_s_note_is_listed_once(
    acme: Integrator,
):
    """The demo board said "No news yet" while Install showed the team's note:
    the board's latest notes were only the notes stage moves carried."""
    project = await acme.project()
    await move(acme, project.id, pb.STAGE_PROCUREMENT, client_note="Equipment ordered")
    await update_stage(acme, project.id, pb.STAGE_INSTALL, client_note="Mount on Thursday")
    board = await acme.board(project.id, acme.approver)
    notes = [(n.to_stage, n.client_note) for n in board.recent_notes]
    assert notes == [
        (pb.STAGE_INSTALL, "Mount on Thursday"),
        (pb.STAGE_PROCUREMENT, "Equipment ordered"),  # the move's, not the stage's copy again
    ]
    assert board.recent_notes[0].HasField("changed_at") and not board.recent_notes[0].changed_by


async def test_a_retried_stage_move_happens_once(acme: Integrator):
    project = await acme.project()
    request = pb.ChangeProjectStageRequest(
        request_id=str(uuid.uuid4()), project_id=project.id, stage=pb.STAGE_INSTALL
    )
    await acme("ChangeProjectStage", request, acme.pm)
    await acme("ChangeProjectStage", request, acme.pm)
    history = await acme(
        "ListStageHistory", pb.ListStageHistoryRequest(project_id=project.id), acme.pm
    )
    assert len(history.changes) == 1


async def test_stage_plans_are_validated_and_drive_the_forecast(acme: Integrator):
    project = await acme.project()
    err = await acme.fails(
        INVALID,
        "UpdateStage",
        pb.UpdateStageRequest(
            project_id=project.id,
            stage=pb.STAGE_INSTALL,
            planned_start="2026-06-10",
            planned_finish="2026-06-01",
        ),
        acme.pm,
    )
    assert error_detail(err).field_violations[0].field == "planned_finish"
    err = await acme.fails(
        INVALID,
        "UpdateStage",
        pb.UpdateStageRequest(project_id=project.id, stage=pb.STAGE_INSTALL, actual_start="6/1"),
        acme.pm,
    )
    assert "YYYY-MM-DD" in err.details()
    await acme.fails(
        INVALID, "UpdateStage", pb.UpdateStageRequest(project_id=project.id, stage=9), acme.pm
    )

    install = await update_stage(
        acme,
        project.id,
        pb.STAGE_INSTALL,
        planned_start="2026-06-01",
        planned_finish="2026-06-20",
        client_note="Two electricians on site",
    )
    assert (install.planned_start, install.planned_finish) == ("2026-06-01", "2026-06-20")
    assert (await acme.board(project.id, acme.approver)).forecast_handover == "2026-06-20"
    await update_stage(acme, project.id, pb.STAGE_HANDOVER, planned_finish="2026-07-03")
    board = await acme.board(project.id, acme.approver)
    assert board.forecast_handover == "2026-07-03"
    assert board.stages[2].client_note == "Two electricians on site"
    # No mask: only what is set changes (AIP-134), so an empty request changes nothing.
    kept = await update_stage(acme, project.id, pb.STAGE_INSTALL)
    assert (kept.planned_start, kept.client_note) == ("2026-06-01", "Two electricians on site")
    # Only the finish: checked against the start already there.
    err = await acme.fails(
        INVALID,
        "UpdateStage",
        pb.UpdateStageRequest(
            project_id=project.id, stage=pb.STAGE_INSTALL, planned_finish="2026-05-01"
        ),
        acme.pm,
    )
    assert error_detail(err).field_violations[0].field == "planned_finish"
    # "*" is the stage's whole state: what is not sent is cleared.
    cleared = await update_stage(
        acme, project.id, pb.STAGE_INSTALL, update_mask=FieldMask(paths=["*"])
    )
    assert (cleared.planned_start, cleared.client_note) == ("", "")


async def test_the_board_shows_the_latest_client_notes_never_the_reasons(acme: Integrator):
    project = await acme.project()
    stages = [pb.STAGE_PROCUREMENT, pb.STAGE_INSTALL, pb.STAGE_COMMISSIONING, pb.STAGE_HANDOVER]
    for n, stage in enumerate(stages, start=1):
        await move(acme, project.id, stage, client_note=f"note {n}")
    await move(acme, project.id, pb.STAGE_INSTALL, reason="Amplifier failed", client_note="note 5")
    await move(acme, project.id, pb.STAGE_COMMISSIONING)  # no note: not on the board
    await move(acme, project.id, pb.STAGE_HANDOVER, client_note="note 6")
    board = await acme.board(project.id, acme.approver)
    assert [n.client_note for n in board.recent_notes] == [f"note {n}" for n in (6, 5, 4, 3, 2)]
    assert all(n.reason == "" and n.changed_by == "" for n in board.recent_notes)
    history = await acme(
        "ListStageHistory", pb.ListStageHistoryRequest(project_id=project.id), acme.approver
    )
    assert len(history.changes) == 7 and not any(c.reason for c in history.changes)
    staff = await acme(
        "ListStageHistory", pb.ListStageHistoryRequest(project_id=project.id), acme.technician
    )
    assert [c.reason for c in staff.changes if c.reason] == ["Amplifier failed"]


async def test_the_board_shows_a_sent_proposal_until_it_is_accepted(acme: Integrator, job: Job):
    draft = await acme.proposal(job.project.id)
    board = await acme.board(job.project.id, acme.approver)
    assert list(board.waiting_on) == []  # a draft is nobody's business but the integrator's
    assert board.budget.accepted_proposal_id == ""

    sent = await acme.send(draft.id)
    (item,) = (await acme.board(job.project.id, acme.approver)).waiting_on
    assert item.kind == "proposal_to_accept"
    assert item.title == "Review and accept proposal v1"
    assert item.link == f"/projects/{job.project.id}/proposal"
    assert item.since == sent.sent_at

    # A newer version replaces the item; the client is asked about that one.
    v2 = await acme.send((await acme.proposal(job.project.id, discount_minor=100)).id)
    (item,) = (await acme.board(job.project.id, acme.approver)).waiting_on
    assert item.title == "Review and accept proposal v2"

    await acme.accept(v2)
    board = await acme.board(job.project.id, acme.approver)
    assert list(board.waiting_on) == []
    assert board.budget.contract_value.amount_minor == v2.total.amount_minor
    assert board.budget.accepted_proposal_id == v2.id


async def test_staff_edit_a_projects_details(acme: Integrator):
    project = await acme.project()
    pm_id = str(uuid.uuid4())
    request = pb.UpdateProjectRequest(
        project_id=project.id,
        name="Home cinema & audio",
        site_address="14 Larch Lane",
        project_manager_id=pm_id,
        project_manager_name="Pat Lee",
        project_manager_email="pat@acme.example",
        service_contract=True,
    )
    updated = (await acme("UpdateProject", request, acme.pm)).project
    assert (updated.name, updated.project_manager_id, updated.service_contract) == (
        "Home cinema & audio",
        pm_id,
        True,
    )
    board = await acme.board(project.id, acme.approver)
    assert board.project.project_manager_name == "Pat Lee"
    await acme.fails(DENIED, "UpdateProject", request, acme.technician)
    request.project_manager_email = "not an email"
    await acme.fails(INVALID, "UpdateProject", request, acme.pm)


async def test_the_landing_list_carries_the_board_of_an_only_project(acme: Integrator):
    """A returning client's first screen costs one call: asked for it, the list
    answers the board too when the client sees exactly one project, the same
    board GetStatusBoard answers; with two projects, or not asked, no board."""
    only = await acme.project("Home cinema")
    asked = pb.ListProjectsRequest(board_if_only_one=True)
    landing = await acme("ListProjects", asked, acme.approver)
    assert [p.id for p in landing.projects] == [only.id]
    board = await acme(
        "GetStatusBoard", pb.GetStatusBoardRequest(project_id=only.id), acme.approver
    )
    assert landing.HasField("board") and landing.board == board
    plain = await acme("ListProjects", pb.ListProjectsRequest(), acme.approver)
    assert not plain.HasField("board")
    await acme.project("Pool house")
    two = await acme("ListProjects", asked, acme.approver)
    assert len(two.projects) == 2 and not two.HasField("board")


async def test_staff_asking_for_the_clients_board_get_exactly_the_clients_board(
    acme: Integrator,
):
    project = await acme.project()
    await acme(
        "UpdateProject",
        pb.UpdateProjectRequest(project_id=project.id, visible_contact_ids=[acme.approver_id]),
        acme.pm,
    )
    await move(acme, project.id, pb.STAGE_INSTALL, client_note="Install has started")
    await move(
        acme, project.id, pb.STAGE_PROCUREMENT, reason="Screen back-ordered", client_note="Soon"
    )
    request = pb.GetStatusBoardRequest(project_id=project.id, as_client=True)
    preview = await acme("GetStatusBoard", request, acme.technician)
    client = await acme.board(project.id, acme.approver)
    staff = await acme.board(project.id, acme.pm)
    assert preview == client
    assert staff != client and any(n.reason for n in staff.recent_notes)  # what it leaves out
    assert list(staff.project.visible_contact_ids) == [acme.approver_id]
    # A closed portal shows the client nothing, and the preview says so the same way.
    await acme.close_portal()
    err = await acme.fails(DENIED, "GetStatusBoard", request, acme.pm)
    assert "closed" in err.details()
    # A client asking "as client" gets their own board, whatever they ask.
    stranger = await acme.new_customer("The Lindqvist Flat")
    other = await acme.project(customer_id=stranger.id)
    await acme.fails(
        grpc.StatusCode.NOT_FOUND,
        "GetStatusBoard",
        pb.GetStatusBoardRequest(project_id=other.id, as_client=True),
        acme.client(customer_id=str(uuid.uuid4())),
    )
