"""What projects refuses before its database could: a customer identity does
not know in this tenant, a contact who is not the customer's, an idempotency
key spent on another request, a stage move whose dates would break the stage
table's check, and text no field can hold. Each answer is INVALID_ARGUMENT
naming the field, never INTERNAL."""

from __future__ import annotations

import uuid

import grpc
from portal.identity.v1 import identity_pb2 as ipb
from portal.projects.v1 import events_pb2
from portal.projects.v1 import projects_pb2 as pb

from services.chassis.grpc_client import error_detail
from tests.projects.conftest import INVALID, Integrator, Job, new_integrator


def _id() -> str:
    return str(uuid.uuid4())


def refusal(err: grpc.aio.AioRpcError) -> tuple[str, str]:
    detail = error_detail(err)
    return detail.code, detail.field_violations[0].field


def new_project(
    acme: Integrator, customer_id: str, name: str = "Cinema"
) -> pb.CreateProjectRequest:
    return pb.CreateProjectRequest(request_id=_id(), name=name, customer_id=customer_id)


async def test_a_project_is_only_for_a_customer_of_this_integrator(acme: Integrator, projects):
    globex = await new_integrator(projects)
    for customer_id in (_id(), globex.customer_id):
        err = await acme.fails(INVALID, "CreateProject", new_project(acme, customer_id), acme.pm)
        assert refusal(err) == ("invalid_argument", "customer_id")
        assert "no customer with this id" in err.details()
    gone = await acme.new_customer()
    await projects.identity(
        "ChangeCustomerAccess",
        ipb.ChangeCustomerAccessRequest(customer_id=gone.id, to=ipb.ACCESS_STATE_DELETED),
        acme.pm,
    )
    err = await acme.fails(INVALID, "CreateProject", new_project(acme, gone.id), acme.pm)
    assert refusal(err) == ("invalid_argument", "customer_id") and "deleted" in err.details()
    # Nothing was made, so nothing tells notifications about a customer it cannot find.
    assert await acme.svc.events(acme.tenant_id, events_pb2.ProjectCreated) == []
    made = await acme.project()
    assert made.customer_id == acme.customer_id


async def test_only_the_customers_own_contacts_can_be_listed_on_a_project(acme: Integrator):
    project = await acme.project()
    neighbour = await acme.new_customer()

    def listing(*contact_ids: str) -> pb.UpdateProjectRequest:
        request = pb.UpdateProjectRequest(project_id=project.id, visible_contact_ids=contact_ids)
        request.update_mask.paths.append("visible_contact_ids")
        return request

    stranger = neighbour.contacts[0].id
    for contacts in ((stranger,), (acme.approver_id, stranger), (_id(),)):
        err = await acme.fails(INVALID, "UpdateProject", listing(*contacts), acme.pm)
        assert refusal(err) == ("invalid_argument", "visible_contact_ids")
    done = await acme("UpdateProject", listing(acme.approver_id), acme.pm)
    assert list(done.project.visible_contact_ids) == [acme.approver_id]
    cleared = await acme("UpdateProject", listing(), acme.pm)  # everyone again: no question
    assert list(cleared.project.visible_contact_ids) == []


async def test_a_key_spent_on_another_project_or_another_body_is_refused(
    acme: Integrator, job: Job
):
    other = await acme.project("Kitchen audio")
    other_room = await acme.room(other.id, "Kitchen")
    key = _id()

    def stage_move(project_id: str, note: str = "") -> pb.ChangeProjectStageRequest:
        return pb.ChangeProjectStageRequest(
            request_id=key, project_id=project_id, stage=pb.STAGE_INSTALL, client_note=note
        )

    await acme("ChangeProjectStage", stage_move(job.project.id), acme.pm)
    again = await acme("ChangeProjectStage", stage_move(job.project.id), acme.pm)  # a retry
    assert again.project.stage == pb.STAGE_INSTALL
    for reused in (stage_move(other.id), stage_move(job.project.id, "Different words")):
        err = await acme.fails(INVALID, "ChangeProjectStage", reused, acme.pm)
        assert refusal(err) == ("idempotency_key_reused", "request_id")
    unmoved = await acme("GetProject", pb.GetProjectRequest(project_id=other.id), acme.pm)
    assert unmoved.project.stage == pb.STAGE_DESIGN  # not answered as if it had moved

    room_key, line_key, proposal_key, project_key = _id(), _id(), _id(), _id()
    first_and_reused = [
        (
            "CreateRoom",
            pb.CreateRoomRequest(request_id=room_key, project_id=job.project.id, name="Den"),
            pb.CreateRoomRequest(request_id=room_key, project_id=other.id, name="Den"),
        ),
        (
            "AddProductLine",
            pb.AddProductLineRequest(
                request_id=line_key, room_id=job.living.id, model="Sub", quantity=1
            ),
            pb.AddProductLineRequest(
                request_id=line_key, room_id=other_room.id, model="Sub", quantity=1
            ),
        ),
        (
            "CreateProposal",
            pb.CreateProposalRequest(request_id=proposal_key, project_id=job.project.id, title="A"),
            pb.CreateProposalRequest(request_id=proposal_key, project_id=other.id, title="A"),
        ),
        (
            "CreateProject",
            pb.CreateProjectRequest(
                request_id=project_key, name="Loft", customer_id=acme.customer_id
            ),
            pb.CreateProjectRequest(
                request_id=project_key, name="Garage", customer_id=acme.customer_id
            ),
        ),
    ]
    for method, first, reused in first_and_reused:
        made = await acme(method, first, acme.pm)
        assert await acme(method, first, acme.pm) == made, method  # the retry: the same answer
        err = await acme.fails(INVALID, method, reused, acme.pm)
        assert refusal(err) == ("idempotency_key_reused", "request_id"), method
        assert "already used for a different request" in err.details()


async def test_a_move_that_would_start_a_stage_after_its_recorded_finish_is_refused(
    acme: Integrator,
):
    project = await acme.project()
    finished_only = pb.UpdateStageRequest(
        project_id=project.id, stage=pb.STAGE_INSTALL, actual_finish="2026-01-10"
    )
    await acme("UpdateStage", finished_only, acme.pm)
    move = pb.ChangeProjectStageRequest(
        request_id=_id(), project_id=project.id, stage=pb.STAGE_INSTALL
    )
    err = await acme.fails(INVALID, "ChangeProjectStage", move, acme.pm)
    assert refusal(err) == ("invalid_argument", "actual_finish")
    assert "Install has an actual finish (2026-01-10) but no start" in err.details()
    started = pb.UpdateStageRequest(
        project_id=project.id, stage=pb.STAGE_INSTALL, actual_start="2026-01-05"
    )
    started.update_mask.paths.append("actual_start")
    await acme("UpdateStage", started, acme.pm)
    moved = await acme("ChangeProjectStage", move, acme.pm)  # the same key: never spent
    assert moved.project.stage == pb.STAGE_INSTALL


async def test_text_fields_refuse_what_they_cannot_hold_and_name_the_field(
    acme: Integrator, job: Job
):
    refused = [
        ("CreateProject", new_project(acme, acme.customer_id, "Cinema\r\nBcc: x@evil"), "name"),
        (
            "CreateProject",
            pb.CreateProjectRequest(request_id="k" * 101, name="A", customer_id=acme.customer_id),
            "request_id",
        ),
        (
            "UpdateProject",
            pb.UpdateProjectRequest(project_id=job.project.id, name="A", site_address="1\x00 Rd"),
            "site_address",
        ),
        ("UpdateRoom", pb.UpdateRoomRequest(room_id=job.living.id, name="Den\tTV"), "name"),
        (
            "AddProductLine",
            pb.AddProductLineRequest(room_id=job.living.id, model="X\x1b[2J", quantity=1),
            "model",
        ),
        (
            "ChangeProjectStage",
            pb.ChangeProjectStageRequest(
                project_id=job.project.id, stage=pb.STAGE_INSTALL, client_note="Hi\x07"
            ),
            "client_note",
        ),
        (
            "CreateProposal",
            pb.CreateProposalRequest(project_id=job.project.id, title="Offer\nTwo"),
            "title",
        ),
    ]
    for method, request, field in refused:
        err = await acme.fails(INVALID, method, request, acme.pm)
        assert error_detail(err).field_violations[0].field == field, (method, err.details())
    # Several lines where several belong: newlines (CR LF read as one) and tabs kept.
    line = await acme(
        "AddProductLine",
        pb.AddProductLineRequest(
            room_id=job.living.id, model="Arc", description="Soundbar\r\n\tDolby Atmos", quantity=1
        ),
        acme.pm,
    )
    assert line.line.description == "Soundbar\n\tDolby Atmos"
