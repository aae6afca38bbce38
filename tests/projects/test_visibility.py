"""A client sees their own customer's projects, client-visible rooms and lines,
and sent proposals; anything else is NOT_FOUND whatever id they type."""

from __future__ import annotations

import uuid

from portal.identity.v1.identity_pb2 import ACCESS_STATE_ARCHIVED
from portal.projects.v1 import projects_pb2 as pb

from tests.projects.conftest import DENIED, NOT_FOUND, Integrator, Job, new_integrator, new_job


async def test_a_client_never_sees_hidden_rooms_or_lines(acme: Integrator, job: Job):
    rooms = (
        await acme("ListRooms", pb.ListRoomsRequest(project_id=job.project.id), acme.approver)
    ).rooms
    assert [r.name for r in rooms] == ["Living room"]
    assert [line.model for line in rooms[0].lines] == ["Arc"]
    # The room still costs what it costs (the proposal shows the rest as other items).
    assert rooms[0].total.amount_minor == 2 * 89_900 + 4 * 2_499

    staff_rooms = (
        await acme("ListRooms", pb.ListRoomsRequest(project_id=job.project.id), acme.technician)
    ).rooms
    assert [r.name for r in staff_rooms] == ["Living room", "Equipment rack"]
    assert [line.model for line in staff_rooms[0].lines] == ["Arc", "HDMI 2.1 cable set"]


async def test_another_customers_project_is_not_found_by_any_route(acme: Integrator, job: Job):
    draft = await acme.proposal(job.project.id)
    sent = await acme.send(draft.id)
    await acme.accept(sent)
    stranger = acme.client(subject=str(uuid.uuid4()), customer_id=str(uuid.uuid4()))
    pid = job.project.id
    for method, request in [
        ("GetProject", pb.GetProjectRequest(project_id=pid)),
        ("GetStatusBoard", pb.GetStatusBoardRequest(project_id=pid)),
        ("ListRooms", pb.ListRoomsRequest(project_id=pid)),
        ("ListProposals", pb.ListProposalsRequest(project_id=pid)),
        ("ListStageHistory", pb.ListStageHistoryRequest(project_id=pid)),
        ("GetProposal", pb.GetProposalRequest(proposal_id=sent.id)),
        ("GetSignedProposalPdf", pb.GetSignedProposalPdfRequest(proposal_id=sent.id)),
        ("AcceptProposal", acme.accept_request(sent)),
    ]:
        err = await acme.fails(NOT_FOUND, method, request, stranger)
        # The same words as for an id that never existed: nothing to learn.
        assert err.details() in ("no such project", "no such proposal"), (method, err.details())
    listed = await acme("ListProjects", pb.ListProjectsRequest(), stranger)
    assert list(listed.projects) == []


async def test_a_missing_id_and_a_forbidden_id_answer_alike(acme: Integrator, job: Job):
    other = await acme.project("Someone else's", customer_id=(await acme.new_customer()).id)
    forbidden = await acme.fails(
        NOT_FOUND, "GetProject", pb.GetProjectRequest(project_id=other.id), acme.approver
    )
    missing = await acme.fails(
        NOT_FOUND, "GetProject", pb.GetProjectRequest(project_id=str(uuid.uuid4())), acme.approver
    )
    assert forbidden.details() == missing.details()


async def test_a_client_never_sees_a_draft_whatever_id(acme: Integrator, job: Job):
    draft = await acme.proposal(job.project.id)
    for method, request in [
        ("GetProposal", pb.GetProposalRequest(proposal_id=draft.id)),
        ("GetSignedProposalPdf", pb.GetSignedProposalPdfRequest(proposal_id=draft.id)),
        ("AcceptProposal", acme.accept_request(draft, content_sha256="0" * 64)),
    ]:
        await acme.fails(NOT_FOUND, method, request, acme.approver)
    listed = await acme(
        "ListProposals", pb.ListProposalsRequest(project_id=job.project.id), acme.approver
    )
    assert list(listed.proposals) == []
    staff = await acme(
        "ListProposals", pb.ListProposalsRequest(project_id=job.project.id), acme.technician
    )
    assert [p.id for p in staff.proposals] == [draft.id]


async def test_another_integrators_staff_find_nothing(acme: Integrator, job: Job, projects):
    globex = await new_integrator(projects)
    await globex.fails(
        NOT_FOUND, "GetProject", pb.GetProjectRequest(project_id=job.project.id), globex.pm
    )
    await globex.fails(
        NOT_FOUND,
        "UpdateRoom",
        pb.UpdateRoomRequest(room_id=job.living.id, name="Mine now", client_visible=True),
        globex.pm,
    )
    await globex.fails(
        NOT_FOUND,
        "RemoveProductLine",
        pb.RemoveProductLineRequest(line_id=job.soundbar.id),
        globex.pm,
    )


async def test_listed_contacts_see_the_project_and_others_do_not(acme: Integrator):
    job = await new_job(acme)
    project = job.project
    await acme(
        "UpdateProject",
        pb.UpdateProjectRequest(
            project_id=project.id,
            name=project.name,
            visible_contact_ids=[acme.approver_id],
        ),
        acme.pm,
    )
    seen = await acme("GetProject", pb.GetProjectRequest(project_id=project.id), acme.approver)
    assert list(seen.project.visible_contact_ids) == []  # not the client's business
    await acme.fails(
        NOT_FOUND, "GetProject", pb.GetProjectRequest(project_id=project.id), acme.viewer
    )
    await acme.fails(
        NOT_FOUND, "GetStatusBoard", pb.GetStatusBoardRequest(project_id=project.id), acme.viewer
    )
    viewer_list = await acme("ListProjects", pb.ListProjectsRequest(), acme.viewer)
    assert project.id not in [p.id for p in viewer_list.projects]
    # Staff viewing the portal as the client (their own id, read-only) see it.
    view_as = acme.client(
        subject=str(uuid.uuid4()), roles=frozenset({"viewer"}), read_only=True, viewing_as=True
    )
    assert (await acme.board(project.id, view_as)).project.id == project.id
    # An archived customer's contact (read-only too) is still held to the list.
    archived_viewer = acme.client(
        subject=acme.viewer.subject, roles=frozenset({"viewer"}), read_only=True
    )
    await acme.fails(
        NOT_FOUND, "GetProject", pb.GetProjectRequest(project_id=project.id), archived_viewer
    )


async def test_a_closed_portal_shows_nothing(acme: Integrator, job: Job):
    await acme.close_portal()
    err = await acme.fails(
        DENIED, "GetStatusBoard", pb.GetStatusBoardRequest(project_id=job.project.id), acme.approver
    )
    assert "closed" in err.details()
    await acme.fails(
        DENIED, "ListRooms", pb.ListRoomsRequest(project_id=job.project.id), acme.approver
    )
    # Staff still see their project.
    await acme.board(job.project.id, acme.technician)


async def test_a_closed_portal_is_refused_by_the_hot_reads_with_or_without_rows(
    acme: Integrator, job: Job
):
    """ListProjects, GetStatusBoard and GetProject read the portal state with
    their rows; a client with no row to show (an unknown id) is still told the
    portal is closed."""
    listed = await acme("ListProjects", pb.ListProjectsRequest(), acme.approver)
    assert [p.id for p in listed.projects] == [job.project.id]
    await acme.change_access(ACCESS_STATE_ARCHIVED)  # archived: reads go on
    assert (await acme.board(job.project.id, acme.approver)).project.id == job.project.id
    await acme.close_portal()
    for method, request in (
        ("ListProjects", pb.ListProjectsRequest()),
        ("GetStatusBoard", pb.GetStatusBoardRequest(project_id=job.project.id)),
        ("GetStatusBoard", pb.GetStatusBoardRequest(project_id=str(uuid.uuid4()))),
        ("GetProject", pb.GetProjectRequest(project_id=job.project.id)),
        ("GetProject", pb.GetProjectRequest(project_id=str(uuid.uuid4()))),
    ):
        err = await acme.fails(DENIED, method, request, acme.approver)
        assert "closed" in err.details()
    staff = await acme("ListProjects", pb.ListProjectsRequest(), acme.technician)
    assert job.project.id in [p.id for p in staff.projects]


async def test_clients_and_technicians_cannot_change_anything(acme: Integrator, job: Job):
    for who in (acme.approver, acme.technician):
        await acme.fails(
            DENIED,
            "CreateRoom",
            pb.CreateRoomRequest(project_id=job.project.id, name="Gym", client_visible=True),
            who,
        )
        await acme.fails(
            DENIED,
            "CreateProposal",
            pb.CreateProposalRequest(project_id=job.project.id, title="Mine"),
            who,
        )
        await acme.fails(
            DENIED,
            "UpdateStage",
            pb.UpdateStageRequest(project_id=job.project.id, stage=pb.STAGE_DESIGN),
            who,
        )
    # A client cannot even learn whether an id exists by trying to change it.
    err = await acme.fails(
        DENIED,
        "DeleteRoom",
        pb.DeleteRoomRequest(room_id=str(uuid.uuid4())),
        acme.approver,
    )
    assert "staff" in err.details()
