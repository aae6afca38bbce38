"""A change order with every process separate: the client signs the
proposal through the gateway; staff raise and send a change order (changeorders
asks projects for the contract over gRPC); the client's approver approves it;
the approval travels through the outbox, the relay and JetStream to projects,
whose board shows the new contract value, once. The orders themselves are
driven over changeorders' gRPC directly, with signed principals, so this
checks the services and their events apart from the gateway; the gateway's
change-order routes and pages are walked in test_change_orders_portal.py."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2 as bpb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import changeorders_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.e2e.test_projects_portal import build, staff
from tests.e2e.test_walking_skeleton import mails_with
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e


def _ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


async def test_an_approved_change_order_moves_the_board_once(running: Running, gw, mail):
    b = await build(running, gw, mail, "approver")
    client = b.browsers["approver"]
    signed = await client.api(
        "POST",
        f"/api/v1/proposals/{b.sent['id']}/accept",
        {
            "signer_name": "Pat Approver",
            "consent": True,
            "content_sha256": b.sent["content_sha256"],
        },
    )
    assert signed.status_code == 200, signed.text
    total = signed.json()["total"]["amount_minor"]
    pid = b.project["id"]
    tenant = running.info["tenant_id"]
    pm = Principal(
        kind="staff", subject=str(uuid.uuid4()), tenant_id=tenant, roles=frozenset({"owner"})
    )
    approver = next(c for c in b.contacts if c["role"] == "approver")
    contact = Principal(
        kind="client",
        subject=approver["id"],
        tenant_id=tenant,
        roles=frozenset({"approver"}),
        customer_id=b.customer_id,
    )
    deadline = Timestamp()
    deadline.FromDatetime(datetime.now(UTC) + timedelta(days=7))
    handover = {"planned_start": "2027-05-03", "planned_finish": "2027-05-07"}
    await staff(gw, running, "PATCH", f"/api/v1/projects/{pid}/stages/handover", json=handover)
    call = Caller(PrincipalSigner(running.suite.private_key), timeout=20)
    channel = open_channel(running.suite.target("changeorders"))
    try:
        stub = changeorders_pb2_grpc.ChangeOrdersServiceStub(channel)
        draft = await call(
            stub.CreateChangeOrder,
            pb.CreateChangeOrderRequest(
                request_id=str(uuid.uuid4()),
                project_id=pid,
                title="Second subwoofer",
                reason="A bigger room than surveyed",
                changes=[
                    pb.LineChange(
                        kind=pb.LINE_CHANGE_KIND_ADDED,
                        room_key="R1",
                        description="SVS SB-3000",
                        quantity=1,
                        unit_price_minor=129_900,
                        client_visible=True,
                    )
                ],
                approval_deadline=deadline,
                schedule_impact_days=4,
                shift_from_stage="commissioning",
            ),
            pm,
        )
        sent = (
            await call(
                stub.SendChangeOrder,
                pb.SendChangeOrderRequest(change_order_id=draft.change_order.id),
                pm,
            )
        ).change_order
        assert sent.diff.before.total.amount_minor == total

        async def awaiting() -> list[dict]:
            board = (await client.api("GET", f"/api/v1/projects/{pid}/board")).json()
            return [w for w in board["waiting_on"] if w["kind"] == "change_order_to_approve"]

        # The client's board asks for the approval (projects consumes `sent`).
        (item,) = await wait_for(awaiting)
        assert item["title"].startswith(f"{sent.number} Second subwoofer awaits your approval")
        assert item["link"] == f"/projects/{pid}/change-orders/{sent.id}"
        approve = pb.ApproveChangeOrderRequest(
            request_id=str(uuid.uuid4()),
            change_order_id=sent.id,
            revision=sent.revision,
            signer_name="Pat Approver",
            consent=True,
            content_sha256=sent.content_sha256,
        )
        approved = (await call(stub.ApproveChangeOrder, approve, contact)).change_order
        assert approved.status == pb.CHANGE_ORDER_STATUS_APPROVED
    finally:
        await channel.close()

    impact = sent.diff.price_impact.amount_minor

    async def moved():
        board = await staff(gw, running, "GET", f"/api/v1/projects/{pid}/board")
        value = board["budget"]["contract_value"]["amount_minor"]
        return board if value != total else None

    board = await wait_for(moved)
    assert board["budget"]["approved_variations"]["amount_minor"] == impact
    assert board["budget"]["contract_value"]["amount_minor"] == total + impact
    mine = (await client.api("GET", f"/api/v1/projects/{pid}/board")).json()
    assert mine["budget"]["contract_value"]["amount_minor"] == total + impact
    # Approved in the same transaction that moved the value: no longer asked.
    assert [w for w in mine["waiting_on"] if w["kind"] == "change_order_to_approve"] == []
    # ... and that moved the plan: the client's forecast handover, and why.
    assert mine["forecast_handover"] == "2027-05-11"
    assert mine["handover_moved_by"] == sent.number
    assert mine["handover_moved_from"] == "2027-05-07"

    # changeorders' own consumer filed the certificate, client-visible.
    async def certificate():
        listed = await client.api("GET", f"/api/v1/projects/{pid}/documents")
        docs = listed.json()["documents"] if listed.status_code == 200 else []
        return [d for d in docs if d["title"].startswith(f"{sent.number} approved")] or None

    (filed,) = await wait_for(certificate)
    assert filed["title"] == f"{sent.number} approved: Second subwoofer"
    await client.client.aclose()


# -- the whole flow: budget, invoice schedule, work order, both inboxes ---------------------


def _spans(running: Running, service: str) -> list[dict]:
    path = running.trace_file(service)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def _plan(gw, running: Running, pid: str) -> dict:
    return await staff(gw, running, "GET", f"/api/v1/projects/{pid}/payment-plan")


async def test_approval_moves_budget_schedule_work_order_and_inboxes_once_payments_down(
    running: Running, gw, mail
):
    """Payments is stopped while the client approves and started a little
    later: the invoice schedule takes the variation once; projects, bookings
    and notifications act meanwhile; one trace spans them all."""
    b = await build(running, gw, mail, "approver")
    client = b.browsers["approver"]
    signed = await client.api(
        "POST",
        f"/api/v1/proposals/{b.sent['id']}/accept",
        {
            "signer_name": "Pat Approver",
            "consent": True,
            "content_sha256": b.sent["content_sha256"],
        },
    )
    assert signed.status_code == 200, signed.text
    total = signed.json()["total"]["amount_minor"]
    pid = b.project["id"]
    tenant = running.info["tenant_id"]
    pm = Principal(
        kind="staff", subject=str(uuid.uuid4()), tenant_id=tenant, roles=frozenset({"owner"})
    )
    approver = next(c for c in b.contacts if c["role"] == "approver")
    contact = Principal(
        kind="client",
        subject=approver["id"],
        tenant_id=tenant,
        roles=frozenset({"approver"}),
        customer_id=b.customer_id,
    )

    async def deposit_issued():
        plan = await _plan(gw, running, pid)
        return plan if any(m["invoiced"] for m in plan["milestones"]) else None

    before = await wait_for(deposit_issued)
    assert before["contract"]["amount_minor"] == total
    call = Caller(PrincipalSigner(running.suite.private_key), timeout=20)
    install_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=21)
    bookings = open_channel(running.suite.target("bookings"))
    channel = open_channel(running.suite.target("changeorders"))
    try:
        dispatch = bookings_pb2_grpc.BookingsServiceStub(bookings)

        async def work_order():  # bookings learns of the project from projects' event
            try:
                return await call(
                    dispatch.CreateWorkOrder,
                    bpb.CreateWorkOrderRequest(
                        request_id=f"wo-{b.tag}",
                        project_id=pid,
                        title="Install the cinema",
                        room_name=b.room["name"],
                        tasks=["Mount the projector"],
                        starts_at=_ts(install_at),
                        ends_at=_ts(install_at + timedelta(hours=6)),
                    ),
                    pm,
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                return None

        wo = (await wait_for(work_order)).work_order
        stub = changeorders_pb2_grpc.ChangeOrdersServiceStub(channel)
        draft = await call(
            stub.CreateChangeOrder,
            pb.CreateChangeOrderRequest(
                request_id=str(uuid.uuid4()),
                project_id=pid,
                title="Second subwoofer",
                reason="A bigger room than surveyed",
                changes=[
                    pb.LineChange(
                        kind=pb.LINE_CHANGE_KIND_ADDED,
                        room_key="R1",
                        description="SVS SB-3000",
                        quantity=1,
                        unit_price_minor=129_900,
                        client_visible=True,
                    )
                ],
                schedule_impact_days=3,
                shift_from_stage="install",
                approval_deadline=_ts(datetime.now(UTC) + timedelta(days=7)),
            ),
            pm,
        )
        sent = (
            await call(
                stub.SendChangeOrder,
                pb.SendChangeOrderRequest(change_order_id=draft.change_order.id),
                pm,
            )
        ).change_order
        number = sent.number
        # The diff the client reads says what approving does to the payments to come.
        shown = (
            await call(
                stub.GetChangeOrder, pb.GetChangeOrderRequest(change_order_id=sent.id), contact
            )
        ).change_order
        effect = {m.trigger: m for m in shown.payment_effect.milestones}
        was_install = next(m for m in before["milestones"] if m["trigger"] == "install")
        assert effect["install"].before.amount_minor == was_install["amount"]["amount_minor"]
        assert effect["install"].after.amount_minor > effect["install"].before.amount_minor
        running.suite.stop_child("payments")
        try:
            approve = pb.ApproveChangeOrderRequest(
                request_id=str(uuid.uuid4()),
                change_order_id=sent.id,
                revision=sent.revision,
                signer_name="Pat Approver",
                consent=True,
                content_sha256=sent.content_sha256,
            )
            for _ in range(2):  # two clicks approve once
                approved = (await call(stub.ApproveChangeOrder, approve, contact)).change_order
            assert approved.status == pb.CHANGE_ORDER_STATUS_APPROVED
            impact = sent.diff.price_impact.amount_minor

            async def moved():
                board = await staff(gw, running, "GET", f"/api/v1/projects/{pid}/board")
                return board["budget"]["contract_value"]["amount_minor"] == total + impact

            await wait_for(moved)

            async def rescheduled():
                got = await call(
                    dispatch.GetWorkOrder, bpb.GetWorkOrderRequest(work_order_id=wo.id), pm
                )
                return got.work_order if len(got.work_order.tasks) > 1 else None

            changed = await wait_for(rescheduled)
            assert list(changed.tasks) == [
                "Mount the projector",
                f"{number}: install 1 x SVS SB-3000",
            ]
            assert changed.starts_at.ToDatetime(tzinfo=UTC) == install_at + timedelta(days=3)
            assert not changed.conflict
        finally:
            running.suite.start_child("payments")
            running.suite.wait_ready(["payments"])
    finally:
        await channel.close()
        await bookings.close()

    async def billed():
        plan = await _plan(gw, running, pid)
        return plan if plan["contract"]["amount_minor"] == total + impact else None

    after = await wait_for(billed, timeout=30)
    await asyncio.sleep(1.5)  # a second application would land in this window
    settled = await _plan(gw, running, pid)
    assert settled == after
    amounts = {m["trigger"]: m["amount"]["amount_minor"] for m in settled["milestones"]}
    was = {m["trigger"]: m["amount"]["amount_minor"] for m in before["milestones"]}
    assert amounts["acceptance"] == was["acceptance"]  # invoiced: fixed
    assert sum(amounts.values()) == total + impact  # spread over what is left, exactly
    assert amounts["install"] > was["install"] and amounts["handover"] > was["handover"]

    copy = await wait_for(lambda: mails_with(mail, f"{number} approved", to=approver["email"]))
    told = await wait_for(lambda: mails_with(mail, "was approved", to="olivia@acme-av.example"))
    await asyncio.sleep(1.0)
    assert len(await mails_with(mail, f"{number} approved", to=approver["email"])) == len(copy) == 1
    assert any(number in m["subject"] for m in told)
    assert f"{sent.id}/certificate.pdf" in copy[0]["text"]

    # One trace: the approval, its relay, and every consumer's handling of it.
    # Our two clicks are the last two approvals served; the first one published.
    # Spans are exported in batches (every few seconds): wait for both.
    async def approvals():
        served = [s for s in _spans(running, "changeorders") if "ApproveChangeOrder" in s["name"]]
        return served if len(served) >= 2 else None

    trace_id = (await wait_for(approvals, timeout=30))[-2]["context"]["trace_id"]
    subject = "changeorders.change_order.approved"

    def in_trace(service: str) -> list[str]:
        return [s["name"] for s in _spans(running, service) if s["context"]["trace_id"] == trace_id]

    async def complete():
        return all(
            f"{subject} process" in in_trace(s)
            for s in ("projects", "payments", "bookings", "notifications")
        )

    await wait_for(complete, timeout=15)
    assert f"{subject} publish" in in_trace("changeorders")
