"""ProjectsService over gRPC: translate, call the service layer, translate back."""

from __future__ import annotations

from datetime import UTC

from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2 as pb
from portal.projects.v1 import projects_pb2_grpc

from services.chassis import fieldmask
from services.chassis.auth import current_principal
from services.projects import domain, domain_proposals, domain_rooms, domain_stages, service
from services.projects.grpc_api.convert import (
    board_pb,
    line_pb,
    project_pb,
    proposal_pb,
    room_pb,
    stage_change_pb,
    stage_info_pb,
)

__all__ = ["ProjectsServicer"]


class ProjectsServicer(projects_pb2_grpc.ProjectsServiceServicer):
    def __init__(self, sessions, *, customers: service.Customers, tenants: service.Tenants) -> None:
        self._sessions = sessions
        self._customers = customers  # identity, asked about a project's customer
        self._tenants = tenants  # identity, asked the integrator's time zone

    # --- projects ------------------------------------------------------------------

    async def ListProjects(self, request, context):
        principal = current_principal()
        projects, next_token, board = await service.list_projects_and_board(
            sessions=self._sessions,
            principal=principal,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
            board_if_only_one=request.board_if_only_one,
        )
        answer = pb.ListProjectsResponse(
            projects=[project_pb(p, for_client=principal.is_client) for p in projects],
            page=common_pb2.PageResponse(next_page_token=next_token),
        )
        if board is not None:
            answer.board.CopyFrom(board_pb(board))
        return answer

    async def GetProject(self, request, context):
        principal = current_principal()
        project = await service.get_project(
            sessions=self._sessions, principal=principal, project_id=request.project_id
        )
        return pb.GetProjectResponse(project=project_pb(project, for_client=principal.is_client))

    async def CreateProject(self, request, context):
        project = await service.create_project(
            sessions=self._sessions,
            customers=self._customers,
            tenants=self._tenants,
            principal=current_principal(),
            request_id=request.request_id,
            name=request.name,
            customer_id=request.customer_id,
            site_address=request.site_address,
            currency=request.currency,
        )
        return pb.CreateProjectResponse(project=project_pb(project))

    async def ChangeProjectStage(self, request, context):
        project = await service.change_project_stage(
            sessions=self._sessions,
            tenants=self._tenants,
            principal=current_principal(),
            request_id=request.request_id,
            project_id=request.project_id,
            stage=request.stage,
            reason=request.reason,
            client_note=request.client_note,
        )
        return pb.ChangeProjectStageResponse(project=project_pb(project))

    async def UpdateProject(self, request, context):
        project = await service.update_project(
            sessions=self._sessions,
            customers=self._customers,
            principal=current_principal(),
            project_id=request.project_id,
            changes=fieldmask.changes(request, allowed=domain.PROJECT_FIELDS),
        )
        return pb.UpdateProjectResponse(project=project_pb(project))

    # --- stages and the status board -------------------------------------------------

    async def UpdateStage(self, request, context):
        row = await service.update_stage(
            sessions=self._sessions,
            principal=current_principal(),
            project_id=request.project_id,
            stage=request.stage,
            changes=fieldmask.changes(request, allowed=domain_stages.STAGE_FIELDS),
            note_written_at=(
                request.note_written_at.ToDatetime(tzinfo=UTC)
                if request.HasField("note_written_at")
                else None
            ),
        )
        return pb.UpdateStageResponse(stage=stage_info_pb(row))

    async def ListStageHistory(self, request, context):
        changes = await service.list_stage_history(
            sessions=self._sessions, principal=current_principal(), project_id=request.project_id
        )
        return pb.ListStageHistoryResponse(changes=[stage_change_pb(c) for c in changes])

    async def GetStatusBoard(self, request, context):
        principal = current_principal()
        board = await service.get_status_board(
            sessions=self._sessions,
            principal=principal,
            project_id=request.project_id,
            as_client=request.as_client,
        )
        return board_pb(board)

    # --- rooms and product lines -----------------------------------------------------

    async def ListRooms(self, request, context):
        rooms = await service.list_rooms(
            sessions=self._sessions, principal=current_principal(), project_id=request.project_id
        )
        return pb.ListRoomsResponse(rooms=[room_pb(r) for r in rooms])

    async def CreateRoom(self, request, context):
        room = await service.create_room(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            project_id=request.project_id,
            name=request.name,
            client_visible=request.client_visible,
        )
        return pb.CreateRoomResponse(room=room_pb(room))

    async def UpdateRoom(self, request, context):
        room = await service.update_room(
            sessions=self._sessions,
            principal=current_principal(),
            room_id=request.room_id,
            changes=fieldmask.changes(request, allowed=domain_rooms.ROOM_FIELDS),
        )
        return pb.UpdateRoomResponse(room=room_pb(room))

    async def DeleteRoom(self, request, context):
        await service.delete_room(
            sessions=self._sessions, principal=current_principal(), room_id=request.room_id
        )
        return pb.DeleteRoomResponse()

    async def AddProductLine(self, request, context):
        line = await service.add_product_line(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            room_id=request.room_id,
            manufacturer=request.manufacturer,
            model=request.model,
            description=request.description,
            quantity=request.quantity,
            unit_price_minor=request.unit_price_minor,
            client_visible=request.client_visible,
        )
        return pb.AddProductLineResponse(line=line_pb(line))

    async def UpdateProductLine(self, request, context):
        line = await service.update_product_line(
            sessions=self._sessions,
            principal=current_principal(),
            line_id=request.line_id,
            changes=fieldmask.changes(request, allowed=domain_rooms.LINE_FIELDS),
        )
        return pb.UpdateProductLineResponse(line=line_pb(line))

    async def RemoveProductLine(self, request, context):
        await service.remove_product_line(
            sessions=self._sessions, principal=current_principal(), line_id=request.line_id
        )
        return pb.RemoveProductLineResponse()

    # --- proposals -------------------------------------------------------------------

    async def CreateProposal(self, request, context):
        view = await service.create_proposal(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            project_id=request.project_id,
            title=request.title,
            introduction=request.introduction,
            labour_minor=request.labour_minor,
            discount_minor=request.discount_minor,
            tax_rate_bps=request.tax_rate_bps,
        )
        return pb.CreateProposalResponse(proposal=proposal_pb(view))

    async def UpdateProposal(self, request, context):
        view = await service.update_proposal(
            sessions=self._sessions,
            principal=current_principal(),
            proposal_id=request.proposal_id,
            changes=fieldmask.changes(request, allowed=domain_proposals.TERMS_FIELDS),
            refresh_lines=request.refresh_lines,
        )
        return pb.UpdateProposalResponse(proposal=proposal_pb(view))

    async def ListProposals(self, request, context):
        views = await service.list_proposals(
            sessions=self._sessions, principal=current_principal(), project_id=request.project_id
        )
        return pb.ListProposalsResponse(proposals=[proposal_pb(v) for v in views])

    async def GetProposal(self, request, context):
        view = await service.get_proposal(
            sessions=self._sessions, principal=current_principal(), proposal_id=request.proposal_id
        )
        return pb.GetProposalResponse(proposal=proposal_pb(view))

    async def SendProposal(self, request, context):
        view = await service.send_proposal(
            sessions=self._sessions, principal=current_principal(), proposal_id=request.proposal_id
        )
        return pb.SendProposalResponse(proposal=proposal_pb(view))

    async def AcceptProposal(self, request, context):
        view = await service.accept_proposal(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            proposal_id=request.proposal_id,
            signer_name=request.signer_name,
            consent=request.consent,
            content_sha256=request.content_sha256,
            ip=request.ip,
            user_agent=request.user_agent,
            signer_email=request.signer_email,
            client_name=request.client_name,
            letterhead=request.letterhead,
        )
        return pb.AcceptProposalResponse(proposal=proposal_pb(view))

    async def GetSignedProposalPdf(self, request, context):
        signed = await service.get_signed_proposal_pdf(
            sessions=self._sessions,
            principal=current_principal(),
            proposal_id=request.proposal_id,
            letterhead=request.letterhead,
        )
        return pb.GetSignedProposalPdfResponse(pdf=signed.pdf, filename=signed.filename)
