"""Approvals beyond what changeorders admits at once are refused before they
start (RESOURCE_EXHAUSTED, code `overloaded`, a retry-after: the gateway's 503
+ Retry-After), and a refused approval changes nothing: the order is still
sent, nothing is published, and the same approval goes through once there is
room."""

from __future__ import annotations

from contextlib import AsyncExitStack

import grpc
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import events_pb2

from services.chassis.grpc_client import error_detail
from tests.changeorders.conftest import Site, subwoofer


async def test_an_approval_with_no_room_is_refused_and_changes_nothing(site: Site):
    sent = await site.sent(subwoofer())
    request = site.approval(sent)
    approvals = site.svc.approvals
    async with AsyncExitStack() as held:
        while not approvals._slots.locked():  # every slot taken by approvals "in flight"
            await held.enter_async_context(approvals.admit("approvals"))
        refused_before = approvals.refused
        err = await site.fails(
            grpc.StatusCode.RESOURCE_EXHAUSTED, "ApproveChangeOrder", request, site.approver
        )
        detail = error_detail(err)
        assert detail.code == "overloaded" and detail.retry_after_seconds >= 1
        assert approvals.refused == refused_before + 1

        order = await site.get(sent.id, site.pm)
        assert order.status == pb.CHANGE_ORDER_STATUS_SENT
        assert not order.HasField("signature")
        assert await site.svc.events(site.tenant_id, events_pb2.ChangeOrderApproved) == []

    # Room again: the very same request (same request id) approves, once.
    approved = await site("ApproveChangeOrder", request, site.approver)
    assert approved.change_order.status == pb.CHANGE_ORDER_STATUS_APPROVED
    assert len(await site.svc.events(site.tenant_id, events_pb2.ChangeOrderApproved)) == 1
