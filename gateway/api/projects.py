"""Projects: list, read, create, move between stages. Staff only (API token)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, get_args
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from portal.projects.v1 import projects_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.idempotency import RequestIdDep
from gateway.api.translate import PageDep, timestamp
from gateway.auth import StaffDep
from gateway.backends import BackendsDep
from gateway.problems import problem_responses

router = APIRouter(
    prefix="/projects", tags=["projects"], responses=problem_responses(401, 403, 409)
)

# In stage order; a test keeps this in step with the proto's Stage enum.
StageName = Literal["design", "procurement", "install", "commissioning", "handover"]
STAGE_NAMES: tuple[str, ...] = get_args(StageName)
_PREFIX = "STAGE_"


def stage_name(value: projects_pb2.Stage.ValueType) -> str:
    return projects_pb2.Stage.Name(value).removeprefix(_PREFIX).lower()


def stage_value(name: str) -> projects_pb2.Stage.ValueType:
    return projects_pb2.Stage.Value(_PREFIX + name.upper())


class Project(BaseModel):
    id: str
    reference: str = Field(description="The human number, e.g. PRJ-0001.")
    name: str
    customer_id: str
    site_address: str
    stage: StageName
    created_at: datetime
    stage_changed_at: datetime | None


class ProjectPage(BaseModel):
    projects: list[Project]
    next_page_token: str = Field(
        description="Pass as page_token for the next page; empty at the end."
    )


class NewProject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    customer_id: UUID
    site_address: str = Field("", max_length=500)


class StageChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: StageName
    reason: str = Field("", max_length=2000, description="Why; needed when moving backwards.")
    client_note: str = Field("", max_length=2000, description="Shown to the client.")


def project_out(p: projects_pb2.Project) -> Project:
    return Project(
        id=p.id,
        reference=p.reference,
        name=p.name,
        customer_id=p.customer_id,
        site_address=p.site_address,
        stage=stage_name(p.stage),  # type: ignore[arg-type]  # validated by the model
        created_at=p.created_at.ToDatetime(tzinfo=UTC),
        stage_changed_at=timestamp(p, "stage_changed_at"),
    )


@router.get("", summary="List projects")
async def list_projects(staff: StaffDep, backends: BackendsDep, page: PageDep) -> ProjectPage:
    projects = backends.projects
    response = await projects.call(
        projects.stub.ListProjects, projects_pb2.ListProjectsRequest(page=page), principal=staff
    )
    return ProjectPage(
        projects=[project_out(p) for p in response.projects],
        next_page_token=response.page.next_page_token,
    )


@router.get("/{project_id}", summary="Get a project")
async def get_project(project_id: UUID, staff: StaffDep, backends: BackendsDep) -> Project:
    projects = backends.projects
    response = await projects.call(
        projects.stub.GetProject,
        projects_pb2.GetProjectRequest(project_id=str(project_id)),
        principal=staff,
    )
    return project_out(response.project)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a project")
async def create_project(
    body: NewProject,
    staff: StaffDep,
    backends: BackendsDep,
    request_id: RequestIdDep,
    request: Request,
    response: Response,
) -> Project:
    projects = backends.projects
    created = await projects.call(
        projects.stub.CreateProject,
        projects_pb2.CreateProjectRequest(
            request_id=request_id,
            name=body.name,
            customer_id=str(body.customer_id),
            site_address=body.site_address,
        ),
        principal=staff,
    )
    response.headers["Location"] = request.app.url_path_for(
        "get_project", project_id=created.project.id
    )
    return project_out(created.project)


@router.post("/{project_id}/stage", summary="Move a project to another stage")
async def change_project_stage(
    project_id: UUID,
    body: StageChange,
    staff: StaffDep,
    backends: BackendsDep,
    request_id: RequestIdDep,
) -> Project:
    projects = backends.projects
    changed = await projects.call(
        projects.stub.ChangeProjectStage,
        projects_pb2.ChangeProjectStageRequest(
            request_id=request_id,
            project_id=str(project_id),
            stage=stage_value(body.stage),
            reason=body.reason,
            client_note=body.client_note,
        ),
        principal=staff,
    )
    return project_out(changed.project)
