"""Updates carry a field mask (AIP-134): only the named fields change, under the
row lock, so edits of different fields made at the same time all land."""

from __future__ import annotations

import asyncio

from google.protobuf.field_mask_pb2 import FieldMask
from portal.projects.v1 import events_pb2
from portal.projects.v1 import projects_pb2 as pb

from services.chassis.grpc_client import error_detail
from tests.projects.conftest import INVALID, Integrator, Job


def mask(*paths: str) -> FieldMask:
    return FieldMask(paths=paths)


async def get(acme: Integrator, project_id: str) -> pb.Project:
    return (await acme("GetProject", pb.GetProjectRequest(project_id=project_id), acme.pm)).project


async def test_concurrent_updates_of_different_fields_all_land(acme: Integrator):
    project = await acme.project()
    for round_ in range(5):
        await asyncio.gather(
            acme(
                "UpdateProject",
                pb.UpdateProjectRequest(
                    project_id=project.id, name=f"Cinema {round_}", update_mask=mask("name")
                ),
                acme.pm,
            ),
            acme(
                "UpdateProject",
                pb.UpdateProjectRequest(
                    project_id=project.id,
                    site_address=f"{round_} Elm St",
                    update_mask=mask("site_address"),
                ),
                acme.pm,
            ),
            acme(
                "UpdateProject",
                pb.UpdateProjectRequest(
                    project_id=project.id,
                    service_contract=round_ % 2 == 0,
                    update_mask=mask("service_contract"),
                ),
                acme.pm,
            ),
        )
        now = await get(acme, project.id)
        assert (now.name, now.site_address, now.service_contract) == (
            f"Cinema {round_}",
            f"{round_} Elm St",
            round_ % 2 == 0,
        )


async def test_an_unknown_mask_path_is_invalid_and_named(acme: Integrator, job: Job):
    stage = mask("stage")  # a real field, but not one these updates change
    for method, request in [
        ("UpdateProject", pb.UpdateProjectRequest(project_id=job.project.id, update_mask=stage)),
        ("UpdateRoom", pb.UpdateRoomRequest(room_id=job.living.id, update_mask=stage)),
        (
            "UpdateProductLine",
            pb.UpdateProductLineRequest(line_id=job.cables.id, update_mask=stage),
        ),
        (
            "UpdateStage",
            pb.UpdateStageRequest(project_id=job.project.id, stage=2, update_mask=stage),
        ),
    ]:
        err = await acme.fails(INVALID, method, request, acme.pm)
        assert error_detail(err).field_violations[0].field == "update_mask", method
        assert "'stage'" in err.details(), method
    draft = await acme.proposal(job.project.id)
    err = await acme.fails(
        INVALID,
        "UpdateProposal",
        pb.UpdateProposalRequest(proposal_id=draft.id, update_mask=mask("refresh_lines")),
        acme.pm,
    )
    assert "'refresh_lines'" in err.details()


async def test_without_a_mask_only_the_fields_set_change(acme: Integrator):
    project = await acme.project()
    await acme(
        "UpdateProject",
        pb.UpdateProjectRequest(
            project_id=project.id, site_address="1 Elm St", service_contract=True
        ),
        acme.pm,
    )
    # No mask: the empty name and the false flag are "not set", so they stay.
    changed = (
        await acme(
            "UpdateProject",
            pb.UpdateProjectRequest(project_id=project.id, site_address="2 Oak Ave"),
            acme.pm,
        )
    ).project
    assert (changed.name, changed.site_address, changed.service_contract) == (
        "Home cinema",
        "2 Oak Ave",
        True,
    )


async def test_a_masked_default_clears_and_a_star_replaces_whole(acme: Integrator):
    project = await acme.project()
    await acme(
        "UpdateProject",
        pb.UpdateProjectRequest(
            project_id=project.id, site_address="1 Elm St", service_contract=True
        ),
        acme.pm,
    )
    cleared = (
        await acme(
            "UpdateProject",
            pb.UpdateProjectRequest(project_id=project.id, update_mask=mask("service_contract")),
            acme.pm,
        )
    ).project
    assert (cleared.site_address, cleared.service_contract) == ("1 Elm St", False)
    # "*" is the whole record: a missing name is refused, naming the field.
    err = await acme.fails(
        INVALID,
        "UpdateProject",
        pb.UpdateProjectRequest(project_id=project.id, update_mask=mask("*")),
        acme.pm,
    )
    assert error_detail(err).field_violations[0].field == "name"
    whole = (
        await acme(
            "UpdateProject",
            pb.UpdateProjectRequest(project_id=project.id, name="Cinema", update_mask=mask("*")),
            acme.pm,
        )
    ).project
    assert (whole.name, whole.site_address) == ("Cinema", "")


async def test_a_line_and_a_proposal_change_only_what_the_mask_names(acme: Integrator, job: Job):
    hidden = (
        await acme(
            "UpdateProductLine",
            pb.UpdateProductLineRequest(
                line_id=job.soundbar.id, update_mask=mask("client_visible")
            ),
            acme.pm,
        )
    ).line
    assert (hidden.model, hidden.quantity, hidden.client_visible) == (
        job.soundbar.model,
        job.soundbar.quantity,
        False,
    )
    draft = await acme.proposal(job.project.id, discount_minor=1_000)
    assert draft.discount.amount_minor == 1_000
    undiscounted = (
        await acme(
            "UpdateProposal",
            pb.UpdateProposalRequest(proposal_id=draft.id, update_mask=mask("discount_minor")),
            acme.pm,
        )
    ).proposal
    assert (undiscounted.title, undiscounted.discount.amount_minor) == (draft.title, 0)
    assert undiscounted.total.amount_minor > draft.total.amount_minor


async def test_setting_or_ending_a_service_contract_is_announced_once_each(acme: Integrator):
    project = await acme.project()

    async def contract(value: bool) -> None:
        await acme(
            "UpdateProject",
            pb.UpdateProjectRequest(
                project_id=project.id, service_contract=value, update_mask=mask("service_contract")
            ),
            acme.pm,
        )

    await contract(True)
    await contract(True)  # no change: nothing to say
    await contract(False)
    told = [
        (e.customer_id, e.service_contract)
        for e in await acme.svc.events(acme.tenant_id, events_pb2.ProjectServiceContractChanged)
        if e.project_id == project.id
    ]
    # Bookings keeps a copy: who may book service visits.
    assert told == [(project.customer_id, True), (project.customer_id, False)]
