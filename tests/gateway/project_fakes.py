"""In-process stand-ins for identity and projects, so the project pages and API
can be rendered and checked with no other process: real gRPC servers on free
ports answering from fixed data, recording who asked what.

They are served through the chassis (tests/grpc_service.py `serve_fake`): the real interceptor
verifies every call's principal and deadline, and the DomainErrors the fakes
raise travel as status + ErrorDetail, as from a real service.

Projects here shows each caller what projects shows them (a client: their
customer's projects, client-visible rooms and lines, no drafts, no internal
reasons, anything else NOT_FOUND): visibility is the service's alone, the
gateway renders. tests/contracts sends the same requests to the fake and to
the real service and compares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2_grpc
from portal.projects.v1 import projects_pb2, projects_pb2_grpc

from services.chassis import errors
from services.chassis.auth import Principal, current_principal
from tests.gateway.identity_fakes import (
    CONTACT_ID as CONTACT_ID,
)
from tests.gateway.identity_fakes import (
    CUSTOMER_ID,
    STAFF_ID,
    FakeIdentity,
)
from tests.gateway.identity_fakes import (
    IP as IP,
)
from tests.gateway.identity_fakes import (
    client_session as client_session,
)
from tests.gateway.identity_fakes import (
    staff_session as staff_session,
)
from tests.grpc_service import serve_fake, service_name

P = projects_pb2
PROJECT_ID = "0b6f9f8e-7a2b-4d5e-9c11-3f1e2d4c5b6a"
OTHER_PROJECT_ID = "1c7a0a9f-8b3c-4e6f-8d22-4a2f3e5d6c7b"
SENT_ID = "3e9c2c1b-0d5e-4081-8f44-6c4b5a7f8e9d"
DRAFT_ID = "4fad3d2c-1e6f-4192-9a55-7d5c6b8a9fae"
ROOM_ID = "5abe4e3d-2f70-42a3-8b66-8e6d7c9babcf"
HIDDEN_ROOM_ID = "6bcf5f4e-3081-43b4-9c77-9f7e8dacbcd0"
LINE_ID = "7cd06a5f-4192-44c5-8d88-a08f9ebdcde1"
HIDDEN_LINE_ID = "8de17b60-52a3-45d6-9e99-b190afcedef2"
NEW_PROJECT_ID = "9ef28c71-0000-4e6f-8d22-4a2f3e5d6c7b"
HASH = "ab" * 32


def usd(minor: int) -> common_pb2.Money:
    return common_pb2.Money(currency="USD", amount_minor=minor)


def project(**extra: Any) -> projects_pb2.Project:
    fields: dict[str, Any] = {
        "id": PROJECT_ID,
        "reference": "PRJ-0007",
        "name": "Cinema & Sons? Home theatre",
        "customer_id": CUSTOMER_ID,
        "site_address": "14 Larch Lane, Westport, CT",
        "stage": P.STAGE_INSTALL,
        "project_manager_id": STAFF_ID,
        "project_manager_name": "Sam Lee",
        "project_manager_email": "sam@acme.example",
    }
    msg = P.Project(**(fields | extra))
    msg.created_at.FromSeconds(1_760_000_000)
    msg.stage_changed_at.FromSeconds(1_763_000_000)
    return msg


def board(prj: projects_pb2.Project | None = None) -> projects_pb2.GetStatusBoardResponse:
    answer = P.GetStatusBoardResponse(
        project=prj or project(),
        stages=[
            P.StageInfo(
                stage=P.STAGE_DESIGN,
                planned_start="2026-01-05",
                planned_finish="2026-01-30",
                actual_start="2026-01-05",
                actual_finish="2026-02-02",
            ),
            P.StageInfo(
                stage=P.STAGE_PROCUREMENT,
                planned_start="2026-02-02",
                planned_finish="2026-03-01",
                actual_start="2026-02-03",
                actual_finish="2026-02-27",
            ),
            P.StageInfo(
                stage=P.STAGE_INSTALL,
                planned_start="2026-03-02",
                planned_finish="2026-04-10",
                actual_start="2026-03-04",
                client_note="Screen wall framed; the projector arrives Tuesday.",
            ),
            P.StageInfo(
                stage=P.STAGE_COMMISSIONING,
                planned_start="2026-04-13",
                planned_finish="2026-04-24",
            ),
            P.StageInfo(stage=P.STAGE_HANDOVER),
        ],
        forecast_handover="2026-04-30",
        recent_notes=[
            P.StageChange(
                from_stage=P.STAGE_PROCUREMENT,
                to_stage=P.STAGE_INSTALL,
                changed_by=STAFF_ID,
                reason="INTERNAL: supplier was late",
                client_note="Install has started. Expect dust in the cinema room.",
            ),
        ],
        waiting_on=[
            P.WaitingItem(
                kind="proposal_to_accept",
                title="Your proposal is ready to accept",
                link=f"/projects/{PROJECT_ID}/proposal",
            ),
            P.WaitingItem(
                kind="change_order_to_approve",
                title="A change order awaits your approval",
                link="//evil.example/phish",
            ),
        ],
        budget=P.Budget(
            accepted_proposal=usd(4_250_000),
            approved_variations=usd(125_050),
            contract_value=usd(4_375_050),
            accepted_proposal_id=SENT_ID,
        ),
    )
    answer.recent_notes[0].changed_at.FromSeconds(1_763_000_000)
    return answer


def rooms() -> list[projects_pb2.Room]:
    return [
        P.Room(
            id=ROOM_ID,
            name="Cinema room",
            client_visible=True,
            lines=[
                P.ProductLine(
                    id=LINE_ID,
                    room_id=ROOM_ID,
                    manufacturer="Sony",
                    model="VPL-XW5000",
                    description="4K laser projector",
                    quantity=1,
                    unit_price=usd(599_900),
                    line_total=usd(599_900),
                    client_visible=True,
                ),
                P.ProductLine(
                    id=HIDDEN_LINE_ID,
                    room_id=ROOM_ID,
                    manufacturer="Generic",
                    model="SECRET-CABLE",
                    description="Internal margin cable",
                    quantity=10,
                    unit_price=usd(1_000),
                    line_total=usd(10_000),
                    client_visible=False,
                ),
            ],
            total=usd(609_900),
        ),
        P.Room(id=HIDDEN_ROOM_ID, name="Staff-only rack room", client_visible=False),
    ]


def proposal(status: int = P.PROPOSAL_STATUS_SENT, **extra: Any) -> projects_pb2.Proposal:
    fields: dict[str, Any] = {
        "id": SENT_ID,
        "project_id": PROJECT_ID,
        "version": 2,
        "status": status,
        "title": "Home theatre proposal",
        "introduction": "Thank you for choosing us.\nHere is what we propose.",
        "rooms": [
            P.ProposalRoom(
                name="Cinema room",
                lines=[
                    P.ProposalLine(
                        description="Sony VPL-XW5000 4K laser projector",
                        quantity=1,
                        unit_price=usd(599_900),
                        line_total=usd(599_900),
                    )
                ],
                other_items=usd(10_000),
                total=usd(609_900),
            )
        ],
        "labour": usd(250_000),
        "discount": usd(50_000),
        "tax_rate_bps": 825,
        "subtotal": usd(809_900),
        "tax": usd(66_817),
        "total": usd(876_717),
        "content_sha256": HASH,
        "consent_text": "By typing my name I accept this proposal & agree to pay.",
    }
    return P.Proposal(**(fields | extra))


def draft() -> projects_pb2.Proposal:
    return proposal(
        P.PROPOSAL_STATUS_DRAFT, id=DRAFT_ID, version=3, title="Secret draft", content_sha256=""
    )


def for_client(msg: Any) -> Any:
    """A copy of `msg` as projects shows it to a client: no contact list on a
    project, no reason or mover on a stage change."""
    shown = type(msg)()
    shown.CopyFrom(msg)
    if isinstance(shown, P.Project):
        del shown.visible_contact_ids[:]
    elif isinstance(shown, P.StageChange):
        shown.reason, shown.changed_by = "", ""
    elif isinstance(shown, P.GetStatusBoardResponse):
        del shown.project.visible_contact_ids[:]
        for note in shown.recent_notes:
            note.reason, note.changed_by = "", ""
    elif isinstance(shown, P.Room):  # a visible room; the total still counts every line
        del shown.lines[:]
        shown.lines.extend(x for x in msg.lines if x.client_visible)
    return shown


@dataclass
class FakeProjects(projects_pb2_grpc.ProjectsServiceServicer):
    projects: list[projects_pb2.Project] = field(default_factory=lambda: [project()])
    proposals: list[projects_pb2.Proposal] = field(default_factory=lambda: [proposal(), draft()])
    calls: list[tuple[str, Any, Principal]] = field(default_factory=list)
    refuse_accept: type[errors.DomainError] | None = None

    def _seen(self, name: str, request: Any, context: Any) -> Principal:
        who = current_principal()  # as the chassis verified it
        self.calls.append((name, request, who))
        return who

    def _find_project(self, project_id: str, who: Principal) -> projects_pb2.Project:
        for p in self.projects:
            if p.id == project_id and (not who.is_client or p.customer_id == who.customer_id):
                return for_client(p) if who.is_client else p
        raise errors.NotFound("no such project", field="project_id")

    def _find_proposal(self, proposal_id: str, who: Principal) -> projects_pb2.Proposal:
        for p in self.proposals:
            if p.id != proposal_id or (who.is_client and p.status == P.PROPOSAL_STATUS_DRAFT):
                continue
            try:
                self._find_project(p.project_id, who)
            except errors.NotFound:
                break
            return p
        raise errors.NotFound("no such proposal", field="proposal_id")

    async def ListProjects(self, request, context):
        who = self._seen("ListProjects", request, context)
        if not who.is_client:
            return P.ListProjectsResponse(projects=self.projects)
        mine = [for_client(p) for p in self.projects if p.customer_id == who.customer_id]
        answer = P.ListProjectsResponse(projects=mine)
        if request.board_if_only_one and len(mine) == 1:  # as projects: the landing's board
            answer.board.CopyFrom(for_client(board(self._find_project(mine[0].id, who))))
        return answer

    async def GetProject(self, request, context):
        who = self._seen("GetProject", request, context)
        return P.GetProjectResponse(project=self._find_project(request.project_id, who))

    async def GetStatusBoard(self, request, context):
        who = self._seen("GetStatusBoard", request, context)
        answer = board(self._find_project(request.project_id, who))
        return for_client(answer) if who.is_client or request.as_client else answer

    async def ListStageHistory(self, request, context):
        who = self._seen("ListStageHistory", request, context)
        self._find_project(request.project_id, who)
        changes = board().recent_notes
        if who.is_client:
            changes = [for_client(c) for c in changes]
        return P.ListStageHistoryResponse(changes=changes)

    async def CreateProject(self, request, context):
        self._seen("CreateProject", request, context)
        if request.customer_id != CUSTOMER_ID:  # as projects, asking identity
            raise errors.InvalidArgument(
                "there is no customer with this id at this integrator", field="customer_id"
            )
        made = P.Project(
            id=NEW_PROJECT_ID,
            reference="PRJ-0008",
            name=request.name,
            customer_id=request.customer_id,
            site_address=request.site_address,
            stage=P.STAGE_DESIGN,
        )
        made.created_at.GetCurrentTime()
        made.stage_changed_at.GetCurrentTime()
        return P.CreateProjectResponse(project=made)

    async def UpdateProject(self, request, context):
        self._seen("UpdateProject", request, context)
        # Only the customer's own contacts may be listed (projects asks identity).
        if any(c != CONTACT_ID for c in request.visible_contact_ids):
            raise errors.InvalidArgument(
                "that is not a contact of the project's customer", field="visible_contact_ids"
            )
        return P.UpdateProjectResponse(project=project(name=request.name))

    async def UpdateStage(self, request, context):
        self._seen("UpdateStage", request, context)
        return P.UpdateStageResponse(stage=P.StageInfo(stage=request.stage))

    async def ListRooms(self, request, context):
        who = self._seen("ListRooms", request, context)
        self._find_project(request.project_id, who)
        if who.is_client:  # a hidden room hides its lines whatever their own flag
            return P.ListRoomsResponse(rooms=[for_client(r) for r in rooms() if r.client_visible])
        return P.ListRoomsResponse(rooms=rooms())

    async def UpdateRoom(self, request, context):
        self._seen("UpdateRoom", request, context)
        return P.UpdateRoomResponse(room=P.Room(id=request.room_id, name=request.name))

    async def AddProductLine(self, request, context):
        self._seen("AddProductLine", request, context)
        return P.AddProductLineResponse(line=P.ProductLine(id=LINE_ID, room_id=request.room_id))

    async def ListProposals(self, request, context):
        who = self._seen("ListProposals", request, context)
        self._find_project(request.project_id, who)
        listed = []
        for p in self.proposals:  # as projects does: without rooms (GetProposal has them)
            if p.project_id != request.project_id:
                continue
            if who.is_client and p.status == P.PROPOSAL_STATUS_DRAFT:
                continue
            summary = P.Proposal()
            summary.CopyFrom(p)
            del summary.rooms[:]
            listed.append(summary)
        return P.ListProposalsResponse(proposals=listed)

    async def GetProposal(self, request, context):
        who = self._seen("GetProposal", request, context)
        return P.GetProposalResponse(proposal=self._find_proposal(request.proposal_id, who))

    async def UpdateProductLine(self, request, context):
        self._seen("UpdateProductLine", request, context)
        return P.UpdateProductLineResponse(line=P.ProductLine(id=request.line_id))

    async def UpdateProposal(self, request, context):
        self._seen("UpdateProposal", request, context)
        return P.UpdateProposalResponse(proposal=draft())

    async def AcceptProposal(self, request, context):
        who = self._seen("AcceptProposal", request, context)
        self._find_proposal(request.proposal_id, who)
        if self.refuse_accept is not None:
            raise self.refuse_accept("the proposal has changed since you opened it")
        accepted = proposal(P.PROPOSAL_STATUS_ACCEPTED)
        accepted.signature.CopyFrom(
            P.Signature(
                signer_name=request.signer_name,
                consent_text=accepted.consent_text,
                content_sha256=request.content_sha256,
                ip=request.ip,
                user_agent=request.user_agent,
            )
        )
        accepted.signature.signed_at.FromSeconds(1_763_100_000)
        self.proposals = [accepted]
        return P.AcceptProposalResponse(proposal=accepted)

    async def GetSignedProposalPdf(self, request, context):
        who = self._seen("GetSignedProposalPdf", request, context)
        self._find_proposal(request.proposal_id, who)
        return P.GetSignedProposalPdfResponse(
            pdf=b"%PDF-1.4 fake", filename="PRJ-0007 proposal v2 (signed).pdf"
        )


@dataclass
class Fakes:
    identity: FakeIdentity
    projects: FakeProjects
    identity_target: str
    projects_target: str


@asynccontextmanager
async def fake_services(public_key: str) -> AsyncIterator[Fakes]:
    """Identity and projects fakes, verifying principals signed by the key
    pair whose public half is `public_key`."""
    identity, projects = FakeIdentity(), FakeProjects()
    async with AsyncExitStack() as stack:
        identity_target = await stack.enter_async_context(
            serve_fake(
                lambda srv: identity_pb2_grpc.add_IdentityServiceServicer_to_server(identity, srv),
                service_name(IP, "IdentityService"),
                public_key,
            )
        )
        projects_target = await stack.enter_async_context(
            serve_fake(
                lambda srv: projects_pb2_grpc.add_ProjectsServiceServicer_to_server(projects, srv),
                service_name(projects_pb2, "ProjectsService"),
                public_key,
            )
        )
        yield Fakes(identity, projects, identity_target, projects_target)
