"""Preparing issue 12's approvals (bench/changeorders.py): per project of the
demo customer, over gRPC as the demo seed does (deploy/seed_cinema.py,
deploy/seed_change_orders.py), a room with a line, a proposal sent and
accepted by Jane (payments makes the plan from the acceptance), an install
work order, and a change order adding a line with a 3-day shift from install,
sent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2 as bpb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.changeorders.v1 import changeorders_pb2 as cpb
from portal.changeorders.v1 import changeorders_pb2_grpc
from portal.projects.v1 import projects_pb2 as ppb
from portal.projects.v1 import projects_pb2_grpc

from bench.events import _dsn, _tenant_conn
from bench.pages import CLIENT_EMAIL
from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel

PREP_PARALLEL = 6


def _ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


# -- preparing the orders ------------------------------------------------------------


async def _one(call: Caller, stubs: dict, staff: Principal, jane: Principal, i: int) -> dict:
    projects, bookings, orders = stubs["projects"], stubs["bookings"], stubs["changeorders"]
    project = (
        await call(
            projects.CreateProject,
            ppb.CreateProjectRequest(
                request_id=str(uuid.uuid4()),
                name=f"Bench CO {i:03d}",
                customer_id=jane.customer_id,
                site_address=f"{i} Bench Rd",
            ),
            staff,
        )
    ).project
    room = (
        await call(
            projects.CreateRoom,
            ppb.CreateRoomRequest(
                request_id=str(uuid.uuid4()),
                project_id=project.id,
                name="Cinema",
                client_visible=True,
            ),
            staff,
        )
    ).room
    await call(
        projects.AddProductLine,
        ppb.AddProductLineRequest(
            request_id=str(uuid.uuid4()),
            room_id=room.id,
            manufacturer="Sony",
            model="VPL-XW7000ES",
            description="4K laser projector",
            quantity=1,
            unit_price_minor=2_799_900,
            client_visible=True,
        ),
        staff,
    )
    proposal = (
        await call(
            projects.CreateProposal,
            ppb.CreateProposalRequest(
                request_id=str(uuid.uuid4()),
                project_id=project.id,
                title="Home cinema",
                labour_minor=500_000,
                tax_rate_bps=635,
            ),
            staff,
        )
    ).proposal
    proposal = (
        await call(projects.SendProposal, ppb.SendProposalRequest(proposal_id=proposal.id), staff)
    ).proposal
    await call(
        projects.AcceptProposal,
        ppb.AcceptProposalRequest(
            request_id=str(uuid.uuid4()),
            proposal_id=proposal.id,
            signer_name="Jane Harrison",
            consent=True,
            content_sha256=proposal.content_sha256,
            ip="127.0.0.1",
            user_agent="bench",
            signer_email=CLIENT_EMAIL,
        ),
        jane,
    )
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30 + i % 40)
    for _ in range(100):  # bookings learns of the project from projects' event
        try:
            await call(
                bookings.CreateWorkOrder,
                bpb.CreateWorkOrderRequest(
                    request_id=str(uuid.uuid4()),
                    project_id=project.id,
                    title="Install the cinema",
                    room_name="Cinema",
                    tasks=["Mount the projector"],
                    starts_at=_ts(start),
                    ends_at=_ts(start + timedelta(hours=6)),
                ),
                staff,
            )
            break
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.2)
    draft = await call(
        orders.CreateChangeOrder,
        cpb.CreateChangeOrderRequest(
            request_id=str(uuid.uuid4()),
            project_id=project.id,
            title="Second subwoofer",
            reason="A bigger room than surveyed",
            schedule_impact_days=3,
            shift_from_stage="install",
            approval_deadline=_ts(datetime.now(UTC) + timedelta(days=7)),
            changes=[
                cpb.LineChange(
                    kind=cpb.LINE_CHANGE_KIND_ADDED,
                    room_key="R1",
                    description="SVS SB-3000",
                    quantity=1,
                    unit_price_minor=129_900,
                    client_visible=True,
                )
            ],
        ),
        staff,
    )
    sent = (
        await call(
            orders.SendChangeOrder,
            cpb.SendChangeOrderRequest(change_order_id=draft.change_order.id),
            staff,
        )
    ).change_order
    return {
        "id": sent.id,
        "project_id": project.id,
        "revision": sent.revision,
        "content_sha256": sent.content_sha256,
    }


async def prepare(suite, info: dict, jane_id: str, count: int) -> list[dict]:
    tenant = info["tenant_id"]
    staff = Principal(
        kind="staff", subject=str(uuid.uuid4()), tenant_id=tenant, roles=frozenset({"owner"})
    )
    jane = Principal(
        kind="client",
        subject=jane_id,
        tenant_id=tenant,
        customer_id=info["demo_customer_id"],
        roles=frozenset({"approver"}),
    )
    call = Caller(PrincipalSigner(suite.private_key), timeout=30)
    channels = {n: open_channel(suite.target(n)) for n in ("projects", "bookings", "changeorders")}
    stubs = {
        "projects": projects_pb2_grpc.ProjectsServiceStub(channels["projects"]),
        "bookings": bookings_pb2_grpc.BookingsServiceStub(channels["bookings"]),
        "changeorders": changeorders_pb2_grpc.ChangeOrdersServiceStub(channels["changeorders"]),
    }
    gate = asyncio.Semaphore(PREP_PARALLEL)

    async def one(i: int) -> dict:
        async with gate:
            return await _one(call, stubs, staff, jane, i)

    try:
        made = await asyncio.gather(*(one(i) for i in range(count)))
    finally:
        for ch in channels.values():
            await ch.close()
    # Payments must hold every plan before the approvals (else its handler retries).
    conn = await _tenant_conn(_dsn(suite.database_urls["payments"]), tenant)
    try:
        ids = [m["project_id"] for m in made]
        for _ in range(600):
            have = await conn.fetchval(
                "SELECT count(*) FROM contract WHERE project_id::text = ANY($1::text[])", ids
            )
            if have == len(ids):
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return made
