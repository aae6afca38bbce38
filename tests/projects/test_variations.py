"""Approved change orders move the contract value on the board, once each:
projects' own handler of changeorders' ChangeOrderApproved, as the consumer
runs it, on real PostgreSQL."""

from __future__ import annotations

import uuid

from portal.changeorders.v1 import changeorders_pb2
from portal.changeorders.v1 import events_pb2 as changeorder_events
from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2 as pb

from services.projects import handlers
from tests.projects.conftest import Integrator, Job, _NoArchive


async def accepted(acme: Integrator, job: Job) -> pb.Proposal:
    draft = await acme.proposal(job.project.id, tax_rate_bps=2_000)
    return await acme.accept(await acme.send(draft.id))


def approved(job: Job, number: str, amount_minor: int, order_id: str | None = None):
    return changeorder_events.ChangeOrderApproved(
        change_order_id=order_id or str(uuid.uuid4()),
        project_id=job.project.id,
        customer_id=job.project.customer_id,
        number=number,
        revision=1,
        price_impact=common_pb2.Money(currency="USD", amount_minor=amount_minor),
    )


async def deliver(acme: Integrator, event) -> None:
    await acme.svc.deliver(
        handlers.subscriptions(documents=_NoArchive(), tenants=acme.svc.tenants),
        event,
        tenant_id=acme.tenant_id,
        aggregate_id=event.change_order_id,
    )


async def test_an_approved_change_order_is_a_variation_once_however_often_it_arrives(
    acme: Integrator, job: Job
):
    proposal = await accepted(acme, job)
    extra = approved(job, "CO-001", 155_880)
    for _ in range(3):  # delivered again and again: the same order
        await deliver(acme, extra)
    await deliver(acme, approved(job, "CO-002", -54_000))  # a credit
    board = await acme.board(job.project.id, acme.pm)
    assert board.budget.approved_variations.amount_minor == 155_880 - 54_000
    assert board.budget.contract_value.amount_minor == proposal.total.amount_minor + 101_880
    rows = await acme.svc.sql(
        acme.tenant_id,
        "SELECT reference, amount_minor FROM variation WHERE project_id = :p ORDER BY reference",
        p=job.project.id,
    )
    assert rows == [("CO-001", 155_880), ("CO-002", -54_000)]
    client_board = await acme.board(job.project.id, acme.approver)
    assert client_board.budget.contract_value == board.budget.contract_value


async def test_staff_and_services_are_told_which_lines_the_client_sees(acme: Integrator, job: Job):
    proposal = await accepted(acme, job)
    staff = await acme.get_proposal(proposal.id, acme.pm)
    living, rack = staff.rooms
    assert (living.client_visible, rack.client_visible) == (True, False)
    assert [line.client_visible for line in living.lines] == [True, False]
    client = await acme.get_proposal(proposal.id, acme.approver)
    assert all(r.client_visible and all(x.client_visible for x in r.lines) for r in client.rooms)


async def test_an_approved_schedule_impact_moves_the_plan_once_however_often_it_arrives(
    acme: Integrator, job: Job
):
    pid = job.project.id
    for stage, start, finish in [
        (pb.STAGE_INSTALL, "2027-03-01", "2027-03-10"),
        (pb.STAGE_COMMISSIONING, "2027-03-11", "2027-03-14"),
        (pb.STAGE_HANDOVER, "2027-03-15", "2027-03-16"),
    ]:
        request = pb.UpdateStageRequest(
            project_id=pid, stage=stage, planned_start=start, planned_finish=finish
        )
        await acme("UpdateStage", request, acme.pm)
    event = approved(job, "CO-007", 12_000)
    event.schedule_impact_days, event.shift_from_stage = 3, "commissioning"
    event.stage_moves.extend(
        [
            changeorders_pb2.StageMove(
                stage="commissioning",
                planned_start_before="2027-03-11",
                planned_finish_before="2027-03-14",
                planned_start_after="2027-03-14",
                planned_finish_after="2027-03-17",
            ),
            # Drafted before staff re-planned handover: moved from today's plan.
            changeorders_pb2.StageMove(
                stage="handover",
                planned_start_before="2027-03-01",
                planned_finish_before="2027-03-02",
                planned_start_after="2027-03-04",
                planned_finish_after="2027-03-05",
            ),
        ]
    )
    for _ in range(3):
        await deliver(acme, event)
    board = await acme.board(pid, acme.approver)
    planned = {s.stage: (s.planned_start, s.planned_finish) for s in board.stages}
    assert planned[pb.STAGE_INSTALL] == ("2027-03-01", "2027-03-10")
    assert planned[pb.STAGE_COMMISSIONING] == ("2027-03-14", "2027-03-17")
    assert planned[pb.STAGE_HANDOVER] == ("2027-03-18", "2027-03-19")
    assert board.forecast_handover == "2027-03-19"
    assert (board.handover_moved_by, board.handover_moved_from) == ("CO-007", "2027-03-16")
    # Staff re-plan handover by hand: the board no longer blames the order.
    request = pb.UpdateStageRequest(
        project_id=pid,
        stage=pb.STAGE_HANDOVER,
        planned_start="2027-03-20",
        planned_finish="2027-03-21",
    )
    await acme("UpdateStage", request, acme.pm)
    board = await acme.board(pid, acme.approver)
    assert board.forecast_handover == "2027-03-21"
    assert board.handover_moved_by == ""
