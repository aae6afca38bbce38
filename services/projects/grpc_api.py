"""ProjectsService over gRPC: translate, call service.py, translate back."""

from __future__ import annotations

from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2 as pb
from portal.projects.v1 import projects_pb2_grpc

from services.chassis.auth import current_principal
from services.projects import service
from services.projects.models import Project


def project_pb(p: Project) -> pb.Project:
    msg = pb.Project(
        id=str(p.id),
        reference=p.reference,
        name=p.name,
        customer_id=str(p.customer_id),
        site_address=p.site_address,
        stage=p.stage,
    )
    msg.created_at.FromDatetime(p.created_at)
    msg.stage_changed_at.FromDatetime(p.stage_changed_at)
    return msg


class ProjectsServicer(projects_pb2_grpc.ProjectsServiceServicer):
    def __init__(self, sessions) -> None:
        self._sessions = sessions

    async def ListProjects(self, request, context):
        projects, next_token = await service.list_projects(
            sessions=self._sessions,
            principal=current_principal(),
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return pb.ListProjectsResponse(
            projects=[project_pb(p) for p in projects],
            page=common_pb2.PageResponse(next_page_token=next_token),
        )

    async def GetProject(self, request, context):
        project = await service.get_project(
            sessions=self._sessions, principal=current_principal(), project_id=request.project_id
        )
        return pb.GetProjectResponse(project=project_pb(project))

    async def CreateProject(self, request, context):
        project = await service.create_project(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            name=request.name,
            customer_id=request.customer_id,
            site_address=request.site_address,
        )
        return pb.CreateProjectResponse(project=project_pb(project))

    async def ChangeProjectStage(self, request, context):
        project = await service.change_project_stage(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            project_id=request.project_id,
            stage=request.stage,
            reason=request.reason,
            client_note=request.client_note,
        )
        return pb.ChangeProjectStageResponse(project=project_pb(project))
