"""The demo project's content: a home cinema mid-install with realistic AV
products, stage dates and notes, and a proposal the client signed. Seeded
through projects' public contract; skipped parts that already exist."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from portal.projects.v1 import projects_pb2 as ppb

from services.chassis.auth import Principal
from services.chassis.grpc_client import Caller

NS = uuid.UUID("0c6de0a4-77b5-4d0e-9a47-3e2b1f6a5c21")

# (room, client-visible, [(manufacturer, model, description, qty, unit price in cents, visible)])
ROOMS = [
    (
        "Cinema",
        True,
        [
            ("Sony", "VPL-XW7000ES", "4K SXRD laser projector, 3,200 lumens", 1, 2799900, True),
            (
                "Stewart Filmscreen",
                "StudioTek 130 G4",
                '135" 16:9 fixed-frame screen',
                1,
                685000,
                True,
            ),
            (
                "Anthem",
                "AVM 70",
                "15.4-channel 8K processor with ARC Genesis room correction",
                1,
                449900,
                True,
            ),
            ("Anthem", "MCA 525 Gen 2", "5-channel power amplifier, 225 W/ch", 2, 349900, True),
            ("KEF", "Ci5160RL-THX", "THX Ultra in-wall LCR speaker", 3, 300000, True),
            ("KEF", "Ci200RR-THX", "THX in-ceiling surround speaker", 4, 110000, True),
            ("JL Audio", "Fathom f112v2", '12" powered subwoofer', 2, 360000, True),
            (
                "GIK Acoustics",
                "244 Bass Trap",
                "Broadband absorption panel, fabric-wrapped",
                12,
                12000,
                True,
            ),
            ("Kinetic Seating", "Lincoln 2-row", "Power recliners, 2 rows of 3", 1, 1450000, True),
        ],
    ),
    (
        "Equipment rack",
        True,
        [
            ("Middle Atlantic", "BGR-4127", "41U ventilated equipment rack", 1, 120000, True),
            ("Panamax", "M4315-PRO", "Power conditioner with surge protection", 1, 90000, True),
            ("Control4", "CORE 5", "Smart-home controller", 1, 160000, True),
            ("Various", "Cabling", "HDMI fibre, speaker cable, terminations", 1, 185000, False),
        ],
    ),
    (
        "Kitchen & living",
        True,
        [
            ("Sonos", "Amp", "Streaming amplifier for ceiling speakers", 2, 69900, True),
            ("Sonance", "VP66R", "In-ceiling speaker pair", 2, 65000, True),
            ("Control4", "Halo Touch", "Voice remote", 2, 70000, True),
        ],
    ),
]
LABOUR_MINOR = 850000
DISCOUNT_MINOR = 100000
TAX_RATE_BPS = 635  # Connecticut sales tax
STAGE_PLAN = [  # (stage, start offset days, finish offset days, note, note offset days)
    # Each note dated when the team would have written it, as a real project's
    # news reads: design signed off, everything delivered, then this week's.
    (ppb.STAGE_DESIGN, -70, -50, "Room design and acoustic model approved.", -50),
    (ppb.STAGE_PROCUREMENT, -49, -25, "All equipment delivered to our warehouse.", -25),
    (
        ppb.STAGE_INSTALL,
        -24,
        10,
        "Pre-wire done; screen and speakers go in this week. Projector mount on Thursday.",
        -2,
    ),
    (ppb.STAGE_COMMISSIONING, 11, 18, "", 0),
    (ppb.STAGE_HANDOVER, 19, 21, "", 0),
]
NOTE_HOUR = time(15, 0, tzinfo=UTC)  # mid-morning on the demo integrator's clock (New York)


def rid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


async def seed_cinema(
    *,
    call: Caller,
    projects,
    staff: Principal,
    approver: Principal,
    project_id: str,
    today: date,
    signed_copy: dict[str, Any],
) -> None:
    """`signed_copy`: what the signer's gateway would add to the acceptance (the
    integrator's letterhead, the signer's email and customer)."""
    await call(
        projects.UpdateProject,
        ppb.UpdateProjectRequest(
            project_id=project_id,
            name="Home cinema & whole-home audio",
            site_address="14 Larch Lane, Westport, CT 06880",
            project_manager_name="Sam Ortiz",
            project_manager_email="sam@acme-av.example",
            service_contract=True,
        ),
        staff,
    )
    await plan_stages(call=call, projects=projects, staff=staff, project_id=project_id, today=today)
    rooms = (
        await call(projects.ListRooms, ppb.ListRoomsRequest(project_id=project_id), staff)
    ).rooms
    if not rooms:
        for room_name, visible, lines in ROOMS:
            room = (
                await call(
                    projects.CreateRoom,
                    ppb.CreateRoomRequest(
                        request_id=rid(f"room-{room_name}"),
                        project_id=project_id,
                        name=room_name,
                        client_visible=visible,
                    ),
                    staff,
                )
            ).room
            for make, model, description, qty, price, line_visible in lines:
                await call(
                    projects.AddProductLine,
                    ppb.AddProductLineRequest(
                        request_id=rid(f"line-{room_name}-{model}"),
                        room_id=room.id,
                        manufacturer=make,
                        model=model,
                        description=description,
                        quantity=qty,
                        unit_price_minor=price,
                        client_visible=line_visible,
                    ),
                    staff,
                )
    proposals = (
        await call(projects.ListProposals, ppb.ListProposalsRequest(project_id=project_id), staff)
    ).proposals
    if proposals:
        return
    # Version 1 went out; the client asked for a second row of seats... then
    # signed version 2.
    v1 = (
        await call(
            projects.CreateProposal,
            ppb.CreateProposalRequest(
                request_id=rid("proposal-1"),
                project_id=project_id,
                title="Home cinema and whole-home audio",
                introduction="Thank you for the walkthrough. Here is the system we designed.",
                labour_minor=LABOUR_MINOR - 50000,
                discount_minor=0,
                tax_rate_bps=TAX_RATE_BPS,
            ),
            staff,
        )
    ).proposal
    await call(projects.SendProposal, ppb.SendProposalRequest(proposal_id=v1.id), staff)
    v2 = (
        await call(
            projects.CreateProposal,
            ppb.CreateProposalRequest(
                request_id=rid("proposal-2"),
                project_id=project_id,
                title="Home cinema and whole-home audio (revised)",
                introduction="Revised after our call: second row of seating, loyalty discount.",
                labour_minor=LABOUR_MINOR,
                discount_minor=DISCOUNT_MINOR,
                tax_rate_bps=TAX_RATE_BPS,
            ),
            staff,
        )
    ).proposal
    v2 = (
        await call(projects.SendProposal, ppb.SendProposalRequest(proposal_id=v2.id), staff)
    ).proposal
    await call(
        projects.AcceptProposal,
        ppb.AcceptProposalRequest(
            request_id=rid("accept-2"),
            proposal_id=v2.id,
            signer_name="Jane Harrison",
            consent=True,
            content_sha256=v2.content_sha256,
            ip="203.0.113.24",
            user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Safari/604.1",
            **signed_copy,
        ),
        approver,
    )


def _written(today: date, days: int) -> Timestamp:
    """When a note was written: `days` from `today`, mid-morning."""
    at = Timestamp()
    at.FromDatetime(datetime.combine(today + timedelta(days=days), NOTE_HOUR))
    return at


async def plan_stages(
    *, call: Caller, projects, staff: Principal, project_id: str, today: date
) -> None:
    """The stage plan's dates and notes, relative to `today`, before the seed
    moves the project on: a move keeps the actual dates recorded here."""
    for stage, start, finish, note, written in STAGE_PLAN:
        past = finish < 0
        await call(
            projects.UpdateStage,
            ppb.UpdateStageRequest(
                project_id=project_id,
                stage=stage,
                planned_start=(today + timedelta(days=start)).isoformat(),
                planned_finish=(today + timedelta(days=finish)).isoformat(),
                actual_start=(today + timedelta(days=start)).isoformat() if start < 0 else "",
                actual_finish=(today + timedelta(days=finish)).isoformat() if past else "",
                client_note=note,
                note_written_at=_written(today, written) if note else None,
            ),
            staff,
        )
