"""The demo project's change order: "Second subwoofer", sent and waiting on
the demo client, so `make run` shows the diff, the push-back and the
signature. It adds two days from commissioning on, so approving it moves the
board's forecast handover two days, "(moved from ... by change order CO-001)". Seeded
through changeorders' public contract; a second run finds
it (the create is idempotent on its request id) and sends nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import changeorders_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel

NS = uuid.UUID("5b8e2f0a-1c4d-4e6b-8f3a-9d7c2e1b0a64")
TITLE = "Second subwoofer"
# The cinema is the proposal's first room (R1); its subwoofers are R1.7 and its
# bass traps R1.8 (deploy/seed_cinema.py's order).
CHANGES = [
    pb.LineChange(
        kind=pb.LINE_CHANGE_KIND_ADDED,
        room_key="R1",
        description='JL Audio Fathom f112v2 12" powered subwoofer, rear of the room',
        quantity=1,
        unit_price_minor=360_000,
        client_visible=True,
        note="Evens out the bass in the second row, where the survey found a null",
    ),
    pb.LineChange(
        kind=pb.LINE_CHANGE_KIND_QUANTITY,
        line_key="R1.8",
        quantity=16,
        note="Four more traps to tame the extra low end",
    ),
    pb.LineChange(
        kind=pb.LINE_CHANGE_KIND_ADDED,
        room_key="R1",
        description="Subwoofer placement, wiring and room-correction calibration",
        quantity=4,
        unit_price_minor=15_000,
        labour=True,
        client_visible=True,
    ),
]


async def seed_demo_change_orders(
    *, changeorders_target: str, private_key: str, tenant_id: str, project_id: str
) -> str:
    """The order's id; created and sent the first time only."""
    call = Caller(PrincipalSigner(private_key))
    staff = Principal(kind="service", subject="seed", tenant_id=tenant_id)
    deadline = Timestamp()
    deadline.FromDatetime(datetime.now(UTC) + timedelta(days=10))
    async with open_channel(changeorders_target) as channel:
        stub = changeorders_pb2_grpc.ChangeOrdersServiceStub(channel)
        # Seeded before: found by its title (the deadline in a retried create
        # would differ, and a reused request id must name the same request).
        listed = await call(
            stub.ListChangeOrders, pb.ListChangeOrdersRequest(project_id=project_id), staff
        )
        for existing in listed.change_orders:
            if existing.title == TITLE:
                return existing.id
        order = (
            await call(
                stub.CreateChangeOrder,
                pb.CreateChangeOrderRequest(
                    request_id=str(uuid.uuid5(NS, f"{tenant_id}:second-subwoofer")),
                    project_id=project_id,
                    title=TITLE,
                    reason=(
                        "At the acoustic survey the back row measured 9 dB down at 40 Hz. "
                        "A rear subwoofer and four more bass traps fix it; calibration "
                        "takes two more days at commissioning."
                    ),
                    changes=CHANGES,
                    schedule_impact_days=2,
                    shift_from_stage="commissioning",
                    approval_deadline=deadline,
                ),
                staff,
            )
        ).change_order
        if order.status == pb.CHANGE_ORDER_STATUS_DRAFT:
            order = (
                await call(
                    stub.SendChangeOrder,
                    pb.SendChangeOrderRequest(change_order_id=order.id),
                    staff,
                )
            ).change_order
    return order.id
