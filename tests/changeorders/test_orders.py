"""Drafting, sending and reading change orders through changeorders' gRPC
surface, against the real projects: the baseline is the accepted proposal,
the price impact is computed, the client sees what was sent and nothing
internal, and approved orders become the next order's baseline."""

from __future__ import annotations

import asyncio

from google.protobuf.field_mask_pb2 import FieldMask
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import events_pb2
from portal.projects.v1 import projects_pb2 as ppb

from services.changeorders.domain_orders import SignedContent, sha256_hex
from tests.changeorders.conftest import (
    DENIED,
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    QUANTITY,
    REMOVED,
    Site,
    new_site,
    next_week,
    subwoofer,
)

DRAFT, SENT = pb.CHANGE_ORDER_STATUS_DRAFT, pb.CHANGE_ORDER_STATUS_SENT
VIEWED, APPROVED = pb.CHANGE_ORDER_STATUS_VIEWED, pb.CHANGE_ORDER_STATUS_APPROVED


async def test_a_draft_is_priced_against_the_accepted_proposal(site: Site):
    order = await site.draft(subwoofer())
    assert (order.number, order.revision, order.status) == ("CO-001", 1, DRAFT)
    # Proposal: 2 x 899.00 + 4 x 24.99 + 450.00 + 600.00 labour = 2,947.96; 20 % tax.
    d = order.diff
    assert d.before.subtotal.amount_minor == 294_796
    assert d.before.total.amount_minor == site.proposal.total.amount_minor == 353_755
    assert d.signed_total.amount_minor == 353_755
    assert d.after.subtotal.amount_minor == 294_796 + 129_900
    assert d.price_impact.amount_minor == d.after.total.amount_minor - d.before.total.amount_minor
    assert d.price_impact.amount_minor == 155_880  # 1,299.00 + 259.80 tax
    assert d.tax_impact.amount_minor == 25_980
    assert [r.key for r in order.baseline] == ["R1", "R2"]
    assert [x.key for x in order.baseline[0].lines] == ["R1.1", "R1.2"]
    assert not order.baseline[0].lines[1].client_visible
    (added,) = [x for r in d.rooms for x in r.lines if x.kind == pb.LINE_CHANGE_KIND_ADDED]
    assert added.line_key == "CO-001.1"


async def test_numbers_count_per_project(site: Site, changeorders):
    first, second = await site.draft(), await site.draft()
    other = await (await new_site(changeorders)).draft()
    assert (first.number, second.number, other.number) == ("CO-001", "CO-002", "CO-001")


async def test_the_client_sees_nothing_until_it_is_sent(site: Site):
    order = await site.draft()
    request = pb.GetChangeOrderRequest(change_order_id=order.id)
    await site.fails(NOT_FOUND, "GetChangeOrder", request, site.approver)
    listed = await site(
        "ListChangeOrders", pb.ListChangeOrdersRequest(project_id=site.project.id), site.approver
    )
    assert list(listed.change_orders) == []


async def test_sent_the_client_reads_the_frozen_content_with_internal_lines_folded(site: Site):
    cables_up = pb.LineChange(kind=QUANTITY, line_key="R1.2", quantity=6)
    switch_out = pb.LineChange(kind=REMOVED, line_key="R2.1")
    sent = await site.sent(subwoofer(), cables_up, switch_out)
    assert sent.status == SENT and len(sent.content_sha256) == 64

    seen = await site.get(sent.id, site.approver)
    assert seen.content_sha256 == sent.content_sha256
    assert list(seen.changes) == [] and list(seen.baseline) == []
    rooms = {r.name: r for r in seen.diff.rooms}
    assert set(rooms) == {"Living room", "Other items"}  # the rack is not named
    living = rooms["Living room"]
    assert [x.line_key for x in living.lines] == ["R1.1", "CO-001.1"]  # cables not itemised
    assert (living.other_items_before.amount_minor, living.other_items_after.amount_minor) == (
        4 * 2_499,
        6 * 2_499,
    )
    other = rooms["Other items"]
    assert (other.total_before.amount_minor, other.total_after.amount_minor) == (45_000, 0)
    # The client's rooms add up to what they are asked to approve.
    assert (
        sum(r.total_after.amount_minor for r in seen.diff.rooms)
        == seen.diff.after.items.amount_minor
    )
    assert seen.diff.price_impact == sent.diff.price_impact

    # The hash is of exactly the stored content.
    rows = await site.svc.sql(
        site.tenant_id,
        "SELECT content_json, content_sha256 FROM change_order_revision WHERE change_order_id = :i",
        i=sent.id,
    )
    ((content_json, stored),) = rows
    assert sha256_hex(content_json) == stored == sent.content_sha256
    assert SignedContent.from_json(content_json).canonical_json() == content_json


async def test_opening_it_marks_it_viewed_once(site: Site):
    sent = await site.sent()
    first = await site.get(sent.id, site.approver, mark_viewed=True)
    again = await site.get(sent.id, site.approver, mark_viewed=True)
    assert first.status == again.status == VIEWED
    assert first.viewed_at == again.viewed_at
    viewed = await site.svc.events(site.tenant_id, events_pb2.ChangeOrderViewed)
    assert [e.change_order_id for e in viewed] == [sent.id]
    # Staff reading it, or viewing the portal as the client, leave no trace.
    other = await site.sent()
    await site.get(other.id, site.pm, mark_viewed=True)
    as_client = site.side.client(read_only=True, viewing_as=True, subject=site.pm.subject)
    assert (await site.get(other.id, as_client, mark_viewed=True)).status == SENT


async def test_sending_publishes_and_needs_a_deadline(site: Site):
    sent = await site.sent()
    (event,) = await site.svc.events(site.tenant_id, events_pb2.ChangeOrderSent)
    assert (event.change_order_id, event.number, event.revision) == (sent.id, "CO-001", 1)
    assert event.price_impact == sent.diff.price_impact
    assert event.project_reference == site.project.reference

    order = await site.draft()
    await site(
        "UpdateChangeOrder",
        pb.UpdateChangeOrderRequest(
            change_order_id=order.id, update_mask=FieldMask(paths=["approval_deadline"])
        ),
        site.pm,
    )
    err = await site.fails(
        INVALID, "SendChangeOrder", pb.SendChangeOrderRequest(change_order_id=order.id), site.pm
    )
    assert "deadline" in err.details()


async def test_only_a_draft_changes_and_is_sent(site: Site):
    sent = await site.sent()
    update = pb.UpdateChangeOrderRequest(change_order_id=sent.id, title="Cheaper subwoofer")
    err = await site.fails(PRECONDITION, "UpdateChangeOrder", update, site.pm)
    assert "revise" in err.details()
    send = pb.SendChangeOrderRequest(change_order_id=sent.id)
    await site.fails(PRECONDITION, "SendChangeOrder", send, site.pm)


async def test_an_approved_order_is_the_next_orders_baseline(site: Site):
    first = await site.sent(subwoofer())
    await site.approve(first)
    second = await site.draft(pb.LineChange(kind=REMOVED, line_key="CO-001.1"))
    assert second.diff.before.total.amount_minor == first.diff.after.total.amount_minor
    assert second.diff.signed_total.amount_minor == site.proposal.total.amount_minor
    assert second.diff.price_impact.amount_minor == -first.diff.price_impact.amount_minor


async def test_a_line_the_contract_does_not_have_is_refused_by_name(site: Site):
    request = pb.CreateChangeOrderRequest(
        request_id="co-missing-line",
        project_id=site.project.id,
        title="Remove",
        reason="Not needed",
        changes=[pb.LineChange(kind=REMOVED, line_key="R9.9")],
    )
    err = await site.fails(INVALID, "CreateChangeOrder", request, site.pm)
    assert "R9.9" in err.details()


async def test_a_project_without_an_accepted_proposal_has_no_change_orders(site: Site):
    bare = await site.side.project("Garage")
    request = pb.CreateChangeOrderRequest(
        project_id=bare.id, title="x", reason="y", changes=[subwoofer()]
    )
    err = await site.fails(PRECONDITION, "CreateChangeOrder", request, site.pm)
    assert "accepted" in err.details()


async def test_create_is_idempotent_on_its_request_id(site: Site):
    deadline = next_week()
    first = await site.draft(request_id="co-create-1", deadline=deadline)
    again = await site.draft(request_id="co-create-1", deadline=deadline)
    assert again.id == first.id
    await site.fails(
        INVALID,
        "CreateChangeOrder",
        pb.CreateChangeOrderRequest(
            request_id="co-create-1",
            project_id=site.project.id,
            title="Another",
            reason="Different",
            changes=[subwoofer()],
        ),
        site.pm,
    )


async def test_stage_dates_before_and_after(site: Site):
    await site.side(
        "UpdateStage",
        ppb.UpdateStageRequest(
            project_id=site.project.id,
            stage=ppb.STAGE_INSTALL,
            planned_start="2031-03-02",
            planned_finish="2031-03-06",
        ),
        site.pm,
    )
    sent = await site.sent(schedule_impact_days=3, shift_from_stage="install")
    stages = {s.stage: s for s in sent.schedule.stages}
    assert sent.schedule.impact_days == 3
    assert (stages["install"].planned_start_before, stages["install"].planned_start_after) == (
        "2031-03-02",
        "2031-03-05",
    )
    assert stages["install"].planned_finish_after == "2031-03-09"
    assert stages["design"].planned_start_after == stages["design"].planned_start_before


async def test_the_same_create_sent_twice_at_once_makes_one_order(site: Site):
    deadline = next_week()
    orders = await asyncio.gather(
        *(site.draft(request_id="co-create-race", deadline=deadline) for _ in range(4))
    )
    assert len({o.id for o in orders}) == 1
    rows = await site.svc.sql(
        site.tenant_id, "SELECT count(*) FROM change_order WHERE project_id = :p", p=site.project.id
    )
    assert rows == [(1,)]


async def test_staff_read_the_contract_a_new_order_would_change(site: Site):
    ask = pb.GetContractRequest(project_id=site.project.id)
    before = await site("GetContract", ask, site.pm)
    assert [r.key for r in before.rooms] == ["R1", "R2"]
    assert [x.key for x in before.rooms[0].lines] == ["R1.1", "R1.2"]
    assert before.totals.total.amount_minor == site.proposal.total.amount_minor
    first = await site.sent(subwoofer())
    await site.approve(first)
    after = await site("GetContract", ask, site.pm)
    assert after.totals.total.amount_minor == first.diff.after.total.amount_minor
    assert "CO-001.1" in {x.key for r in after.rooms for x in r.lines}
    # The client reads orders, never the contract with its internal lines.
    await site.fails(DENIED, "GetContract", ask, site.approver)
    bare = await site.side.project("Loft")
    err = await site.fails(
        PRECONDITION, "GetContract", pb.GetContractRequest(project_id=bare.id), site.pm
    )
    assert "accepted" in err.details()
