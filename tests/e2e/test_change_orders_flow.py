"""A change order with every process separate: the client signs the
proposal through the gateway; staff raise and send a change order (changeorders
asks projects for the contract over gRPC); the client's approver approves it;
the approval travels through the outbox, the relay and JetStream to projects,
whose board shows the new contract value, once. (The gateway has no
change-order routes yet, so the orders are driven over gRPC as it will.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import changeorders_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.e2e.test_projects_portal import build, staff
from tests.suite import Running, wait_for

pytestmark = pytest.mark.e2e


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
    await client.client.aclose()
