"""tests/gateway/project_fakes.FakeProjects against the real projects service:
the calls the gateway tests make, as a client, as staff and as a stranger, get
the same refusals (status, ErrorDetail code and field), and the fake's answers
set no field the real ones do not; a client gets no hidden room or line, no
draft and no internal reason from either, whatever id they name."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from portal.projects.v1 import projects_pb2 as pb

from services.chassis.auth import Principal
from tests.contracts.sides import Refused, Side, agree, outcome, shape
from tests.gateway import project_fakes as F
from tests.projects.conftest import Integrator, Projects, new_integrator


@dataclass
class World:
    """One side with what it holds: a project with a sent proposal and a draft, a
    client-visible room with a hidden line, a hidden room, a stage move with a
    reason and a client note."""

    side: Side | Integrator
    project: str
    sent: str
    draft: str
    client: Principal
    staff: Principal
    stranger: Principal

    async def __call__(self, method: str, request: Message, who: Principal) -> Any:
        return await self.side(method, request, who)


def fake_world(side: Side) -> World:
    tenant = str(uuid.uuid4())

    def client(customer_id: str) -> Principal:
        return Principal(
            kind="client",
            subject=F.CONTACT_ID,
            tenant_id=tenant,
            roles=frozenset({"approver"}),
            customer_id=customer_id,
        )

    staff = Principal(
        kind="staff", subject=F.STAFF_ID, tenant_id=tenant, roles=frozenset({"project_manager"})
    )
    return World(
        side, F.PROJECT_ID, F.SENT_ID, F.DRAFT_ID, client(F.CUSTOMER_ID), staff, client(_id())
    )


def _id() -> str:
    return str(uuid.uuid4())


async def real_world(acme: Integrator, *, accepted: bool = False) -> World:
    project = await acme.project()
    await acme(
        "UpdateProject",
        pb.UpdateProjectRequest(
            project_id=project.id,
            site_address="14 Larch Lane",
            project_manager_id=_id(),
            project_manager_name="Sam Lee",
            project_manager_email="sam@acme.example",
        ),
        acme.pm,
    )
    for stage in (pb.STAGE_DESIGN, pb.STAGE_PROCUREMENT, pb.STAGE_INSTALL):
        await acme(
            "UpdateStage",
            pb.UpdateStageRequest(
                project_id=project.id,
                stage=stage,
                planned_start="2026-03-02",
                planned_finish="2026-04-10",
                client_note="Screen wall framed.",
            ),
            acme.pm,
        )
    await acme(
        "UpdateStage",
        pb.UpdateStageRequest(
            project_id=project.id, stage=pb.STAGE_HANDOVER, planned_finish="2026-04-30"
        ),
        acme.pm,
    )
    for stage in (pb.STAGE_PROCUREMENT, pb.STAGE_INSTALL, pb.STAGE_COMMISSIONING):
        await acme(
            "ChangeProjectStage",
            pb.ChangeProjectStageRequest(
                request_id=_id(),
                project_id=project.id,
                stage=stage,
                reason="INTERNAL: supplier was late",
                client_note="Install has started.",
            ),
            acme.pm,
        )
    cinema = await acme.room(project.id, "Cinema room")
    await acme.line(
        cinema.id, "VPL-XW5000", 1, 599_900, manufacturer="Sony", description="Projector"
    )
    await acme.line(cinema.id, "SECRET-CABLE", 10, 1_000, visible=False)
    rack = await acme.room(project.id, "Staff-only rack room", visible=False)
    await acme.line(rack.id, "Switch", 1, 45_000)
    terms = {"labour_minor": 250_000, "discount_minor": 50_000, "tax_rate_bps": 825}
    sent = await acme.send((await acme.proposal(project.id, **terms)).id)
    if accepted:
        await acme.accept(sent)
        draft = sent  # nothing more can be drafted once one is accepted
    else:
        draft = await acme.proposal(project.id, **terms)
    stranger = acme.client(subject=_id(), customer_id=_id())
    return World(acme, project.id, sent.id, draft.id, acme.approver, acme.pm, stranger)


@dataclass(frozen=True)
class Case:
    name: str
    who: str  # "client", "staff" or "stranger"
    method: str
    request: Callable[[World], Message]
    check: Callable[[Any, World], bool] | None = None  # on both sides' answers


def _board(w: World) -> Message:
    return pb.GetStatusBoardRequest(project_id=w.project)


def _rooms(w: World) -> Message:
    return pb.ListRoomsRequest(project_id=w.project)


def _proposals(w: World) -> Message:
    return pb.ListProposalsRequest(project_id=w.project)


def _all_visible(answer: Any, w: World) -> bool:
    rooms = list(answer.rooms)
    return bool(rooms) and all(
        r.client_visible and all(x.client_visible for x in r.lines) for r in rooms
    )


def _no_reasons(changes: Any) -> bool:
    return bool(changes) and all(not c.reason and not c.changed_by for c in changes)


CASES = [
    Case(
        "a client lists their customer's projects",
        "client",
        "ListProjects",
        lambda w: pb.ListProjectsRequest(),
        lambda a, w: (
            [p.id for p in a.projects] == [w.project]
            and all(not p.visible_contact_ids for p in a.projects)
        ),
    ),
    Case(
        "a stranger lists none",
        "stranger",
        "ListProjects",
        lambda w: pb.ListProjectsRequest(),
        lambda a, w: list(a.projects) == [],
    ),
    Case(
        "a client's board has notes, never reasons",
        "client",
        "GetStatusBoard",
        _board,
        lambda a, w: _no_reasons(a.recent_notes) and all(n.client_note for n in a.recent_notes),
    ),
    Case(
        "staff's board has the reasons",
        "staff",
        "GetStatusBoard",
        _board,
        lambda a, w: any(n.reason for n in a.recent_notes),
    ),
    Case(
        "staff preview the client's board",
        "staff",
        "GetStatusBoard",
        lambda w: pb.GetStatusBoardRequest(project_id=w.project, as_client=True),
        lambda a, w: (
            _no_reasons(a.recent_notes)
            and not a.project.visible_contact_ids
            and not any(n.changed_by for n in a.recent_notes)
        ),
    ),
    Case("a stranger's board", "stranger", "GetStatusBoard", _board),
    Case(
        "an unknown project",
        "client",
        "GetProject",
        lambda w: pb.GetProjectRequest(project_id=F.OTHER_PROJECT_ID),
    ),
    Case(
        "a client's stage history",
        "client",
        "ListStageHistory",
        lambda w: pb.ListStageHistoryRequest(project_id=w.project),
        lambda a, w: _no_reasons(a.changes),
    ),
    Case("a client's rooms are the visible ones", "client", "ListRooms", _rooms, _all_visible),
    Case(
        "staff see hidden rooms and lines",
        "staff",
        "ListRooms",
        _rooms,
        lambda a, w: not _all_visible(a, w),
    ),
    Case("a stranger's rooms", "stranger", "ListRooms", _rooms),
    Case(
        "a client's proposals leave drafts out",
        "client",
        "ListProposals",
        _proposals,
        lambda a, w: [p.id for p in a.proposals] == [w.sent] and not a.proposals[0].rooms,
    ),
    Case(
        "staff's proposals include the draft",
        "staff",
        "ListProposals",
        _proposals,
        lambda a, w: w.draft in [p.id for p in a.proposals],
    ),
    Case(
        "a client opens the sent proposal",
        "client",
        "GetProposal",
        lambda w: pb.GetProposalRequest(proposal_id=w.sent),
        lambda a, w: a.proposal.id == w.sent and bool(a.proposal.rooms),
    ),
    Case(
        "a client names the draft",
        "client",
        "GetProposal",
        lambda w: pb.GetProposalRequest(proposal_id=w.draft),
    ),
    Case(
        "staff open the draft",
        "staff",
        "GetProposal",
        lambda w: pb.GetProposalRequest(proposal_id=w.draft),
        lambda a, w: a.proposal.status == pb.PROPOSAL_STATUS_DRAFT,
    ),
    Case(
        "a stranger names the sent proposal",
        "stranger",
        "GetProposal",
        lambda w: pb.GetProposalRequest(proposal_id=w.sent),
    ),
    Case(
        "a client accepts the draft",
        "client",
        "AcceptProposal",
        lambda w: pb.AcceptProposalRequest(
            request_id=_id(),
            proposal_id=w.draft,
            signer_name="Jane",
            consent=True,
            content_sha256="0" * 64,
            ip="203.0.113.7",
            user_agent="pytest",
        ),
    ),
    Case(
        "a client asks for the draft's PDF",
        "client",
        "GetSignedProposalPdf",
        lambda w: pb.GetSignedProposalPdfRequest(proposal_id=w.draft),
    ),
]

NOT_FOUND = {
    "a stranger's board": "project_id",
    "an unknown project": "project_id",
    "a stranger's rooms": "project_id",
    "a client names the draft": "proposal_id",
    "a stranger names the sent proposal": "proposal_id",
    "a client accepts the draft": "proposal_id",
    "a client asks for the draft's PDF": "proposal_id",
}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_the_fake_answers_as_projects_does(
    case: Case, fake_projects: Side, projects: Projects
) -> None:
    acme = await new_integrator(projects)
    fake, real = fake_world(fake_projects), await real_world(acme)
    got = []
    for w in (fake, real):
        answer = await outcome(w(case.method, case.request(w), getattr(w, case.who)))
        if case.name in NOT_FOUND:
            assert answer == Refused(
                grpc.StatusCode.NOT_FOUND, "not_found", NOT_FOUND[case.name]
            ), answer
        else:
            assert not isinstance(answer, Refused), (case.name, w.side, answer)
            assert case.check is None or case.check(answer, w), (case.name, w.side, answer)
        got.append(answer)
    if case.method == "GetStatusBoard" and not isinstance(got[1], Refused):
        # Budget and acceptance fields come once a proposal is accepted: a second project.
        settled = await real_world(acme, accepted=True)
        also = await settled(case.method, case.request(settled), getattr(settled, case.who))
        assert shape(got[0]) <= shape(got[1]) | shape(also), shape(got[0]) - shape(got[1])
        return
    agree(got[0], got[1], case.name)


async def test_the_fake_refuses_a_stranger_customer_or_contact_as_projects_does(
    fake_projects: Side, projects: Projects
) -> None:
    """Projects asks identity whose customers and contacts these are; the fake
    knows its one customer and contact, and refuses the rest alike."""
    acme = await new_integrator(projects)
    fake, real = fake_world(fake_projects), await real_world(acme)
    made = [
        await outcome(
            w("CreateProject", pb.CreateProjectRequest(name="Loft", customer_id=customer), w.staff)
        )
        for w, customer in ((fake, F.CUSTOMER_ID), (real, acme.customer_id))
    ]
    assert not isinstance(made[1], Refused), made[1]
    agree(made[0], made[1], "staff create a project for their customer")
    answers = []
    for w in (fake, real):
        stranger = await outcome(
            w("CreateProject", pb.CreateProjectRequest(name="Loft", customer_id=_id()), w.staff)
        )
        listing = pb.UpdateProjectRequest(project_id=w.project, visible_contact_ids=[_id()])
        listing.update_mask.paths.append("visible_contact_ids")
        answers.append((stranger, await outcome(w("UpdateProject", listing, w.staff))))
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    expected = (
        Refused(invalid, "invalid_argument", "customer_id"),
        Refused(invalid, "invalid_argument", "visible_contact_ids"),
    )
    assert answers == [expected, expected]
