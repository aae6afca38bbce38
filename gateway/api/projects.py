"""Projects, their stages and the status board.

Reading (list, get, board) is for staff and for client contacts alike: the
caller's principal goes to projects, which shows a client only their own
customer's projects and answers NOT_FOUND for anything else. Changing is staff
only (API token or staff session)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from portal.projects.v1 import projects_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.idempotency import RequestIdDep
from gateway.api.translate import (
    MoneyOut,
    PageDep,
    calendar_date,
    masked,
    money_out,
    timestamp,
)
from gateway.auth import CallerDep, StaffDep
from gateway.backends import BackendsDep
from gateway.problems import problem_responses
from gateway.tenancy import TenantDep
from services.chassis import enums
from services.chassis.auth import Principal

router = APIRouter(
    prefix="/projects", tags=["projects"], responses=problem_responses(401, 403, 409)
)
P = projects_pb2

# In stage order; a test keeps this in step with the proto's Stage enum.
StageName = Literal["design", "procurement", "install", "commissioning", "handover"]
STAGE_NAMES: tuple[str, ...] = get_args(StageName)


def stage_name(value: projects_pb2.Stage.ValueType) -> str:
    return enums.short_name(P.Stage, value)


def stage_value(name: str) -> projects_pb2.Stage.ValueType:
    return enums.value(P.Stage, name)


def known_stage(value: projects_pb2.Stage.ValueType) -> Any:
    """The stage's name, or None for UNSPECIFIED (e.g. where a history starts)."""
    name = enums.known_name(P.Stage, value)
    return name if name in STAGE_NAMES else None


# -- shapes ---------------------------------------------------------------------------


class Project(BaseModel):
    id: str
    reference: str = Field(description="The human number, e.g. PRJ-0001.")
    name: str
    customer_id: str
    site_address: str
    stage: StageName
    created_at: datetime
    stage_changed_at: datetime | None
    project_manager_id: str = Field(description="A staff user's id; empty if none.")
    project_manager_name: str
    project_manager_email: str
    visible_contact_ids: list[str] = Field(
        description="The customer's contacts who see the project; empty means all of them."
    )
    service_contract: bool


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


class ProjectChange(BaseModel):
    """Only the fields sent change; `null` clears one."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    site_address: str | None = Field(None, max_length=500)
    project_manager_id: UUID | None = None
    project_manager_name: str | None = Field(None, max_length=200)
    project_manager_email: str | None = Field(None, max_length=320)
    visible_contact_ids: list[UUID] | None = Field(
        None, max_length=100, description="Empty: every contact of the customer sees it."
    )
    service_contract: bool | None = None


class StageChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: StageName
    reason: str = Field("", max_length=2000, description="Why; needed when moving backwards.")
    client_note: str = Field("", max_length=2000, description="Shown to the client.")


class StageInfo(BaseModel):
    stage: StageName
    planned_start: date | None
    planned_finish: date | None
    actual_start: date | None
    actual_finish: date | None
    client_note: str = Field(description="Shown to the client on the status board.")
    note_updated_at: datetime | None


class StageUpdate(BaseModel):
    """Dates are the tenant's calendar dates. Only the fields sent change;
    `null` clears one."""

    model_config = ConfigDict(extra="forbid")

    planned_start: date | None = None
    planned_finish: date | None = None
    actual_start: date | None = None
    actual_finish: date | None = None
    client_note: str | None = Field(None, max_length=2000)


class StageMove(BaseModel):
    from_stage: StageName | None
    to_stage: StageName
    changed_by: str
    reason: str
    client_note: str
    changed_at: datetime | None


class StageHistory(BaseModel):
    changes: list[StageMove]


class ClientNote(BaseModel):
    stage: StageName | None = Field(description="The stage the project moved to.")
    note: str
    at: datetime | None


class WaitingItem(BaseModel):
    kind: str = Field(description='e.g. "proposal_to_accept", "change_order_to_approve".')
    title: str
    link: str = Field(description="A portal path, e.g. /projects/<id>/proposal.")
    since: datetime | None


class Budget(BaseModel):
    accepted_proposal: MoneyOut | None
    approved_variations: MoneyOut | None
    contract_value: MoneyOut | None
    accepted_proposal_id: str


class StatusBoard(BaseModel):
    project: Project
    stages: list[StageInfo] = Field(description="All five, in order.")
    forecast_handover: date | None
    recent_notes: list[ClientNote] = Field(description="The latest notes from the team.")
    waiting_on: list[WaitingItem] = Field(description="What the client is expected to do.")
    budget: Budget


# -- translation ----------------------------------------------------------------------


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
        project_manager_id=p.project_manager_id,
        project_manager_name=p.project_manager_name,
        project_manager_email=p.project_manager_email,
        visible_contact_ids=list(p.visible_contact_ids),
        service_contract=p.service_contract,
    )


def stage_info_out(s: projects_pb2.StageInfo) -> StageInfo:
    return StageInfo(
        stage=stage_name(s.stage),  # type: ignore[arg-type]
        planned_start=calendar_date(s.planned_start),
        planned_finish=calendar_date(s.planned_finish),
        actual_start=calendar_date(s.actual_start),
        actual_finish=calendar_date(s.actual_finish),
        client_note=s.client_note,
        note_updated_at=timestamp(s, "note_updated_at"),
    )


def board_out(b: projects_pb2.GetStatusBoardResponse) -> StatusBoard:
    budget = b.budget
    return StatusBoard(
        project=project_out(b.project),
        stages=[stage_info_out(s) for s in b.stages if known_stage(s.stage)],
        forecast_handover=calendar_date(b.forecast_handover),
        # The API shows the note, not the reason (projects blanks it for a client anyway).
        recent_notes=[
            ClientNote(
                stage=known_stage(n.to_stage),
                note=n.client_note,
                at=timestamp(n, "changed_at"),
            )
            for n in b.recent_notes
        ],
        waiting_on=[
            WaitingItem(kind=w.kind, title=w.title, link=w.link, since=timestamp(w, "since"))
            for w in b.waiting_on
        ],
        budget=Budget(
            accepted_proposal=money_out(budget, "accepted_proposal"),
            approved_variations=money_out(budget, "approved_variations"),
            contract_value=money_out(budget, "contract_value"),
            accepted_proposal_id=budget.accepted_proposal_id,
        ),
    )


# -- calls ----------------------------------------------------------------------------


async def fetch_project(
    backends: BackendsDep, principal: Principal, project_id: UUID | str
) -> projects_pb2.Project:
    projects = backends.projects
    answer = await projects.call(
        projects.stub.GetProject,
        P.GetProjectRequest(project_id=str(project_id)),
        principal=principal,
    )
    return answer.project


async def fetch_board(
    backends: BackendsDep, principal: Principal, project_id: UUID | str
) -> projects_pb2.GetStatusBoardResponse:
    projects = backends.projects
    return await projects.call(
        projects.stub.GetStatusBoard,
        P.GetStatusBoardRequest(project_id=str(project_id)),
        principal=principal,
    )


async def change_project(
    backends: BackendsDep, principal: Principal, project_id: UUID | str, changes: Mapping[str, Any]
) -> Project:
    """UpdateProject with `changes` as its field mask: the API's PATCH and the
    console's details form both call this, once, with no read before."""
    projects = backends.projects
    request = masked(P.UpdateProjectRequest(project_id=str(project_id)), changes)
    answer = await projects.call(projects.stub.UpdateProject, request, principal=principal)
    return project_out(answer.project)


async def change_stage(
    backends: BackendsDep,
    principal: Principal,
    project_id: UUID | str,
    stage: str,
    changes: Mapping[str, Any],
) -> StageInfo:
    """UpdateStage with `changes` (dates, client_note) as its field mask."""
    projects = backends.projects
    request = P.UpdateStageRequest(project_id=str(project_id), stage=stage_value(stage))
    answer = await projects.call(
        projects.stub.UpdateStage, masked(request, changes), principal=principal
    )
    return stage_info_out(answer.stage)


# -- routes ---------------------------------------------------------------------------


@router.get("", summary="List projects (staff: all; a client: their own)")
async def list_projects(caller: CallerDep, backends: BackendsDep, page: PageDep) -> ProjectPage:
    projects = backends.projects
    response = await projects.call(
        projects.stub.ListProjects, P.ListProjectsRequest(page=page), principal=caller
    )
    return ProjectPage(
        projects=[project_out(p) for p in response.projects],
        next_page_token=response.page.next_page_token,
    )


@router.get("/{project_id}", summary="Get a project")
async def get_project(project_id: UUID, caller: CallerDep, backends: BackendsDep) -> Project:
    return project_out(await fetch_project(backends, caller, project_id))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a project")
async def create_project(
    body: NewProject,
    tenant: TenantDep,
    staff: StaffDep,
    backends: BackendsDep,
    request_id: RequestIdDep,
    request: Request,
    response: Response,
) -> Project:
    projects = backends.projects
    created = await projects.call(
        projects.stub.CreateProject,
        P.CreateProjectRequest(
            request_id=request_id,
            name=body.name,
            customer_id=str(body.customer_id),
            site_address=body.site_address,
            currency=tenant.currency,
        ),
        principal=staff,
    )
    response.headers["Location"] = request.app.url_path_for(
        "get_project", project_id=created.project.id
    )
    return project_out(created.project)


@router.patch("/{project_id}", summary="Change a project's details")
async def update_project(
    project_id: UUID, body: ProjectChange, staff: StaffDep, backends: BackendsDep
) -> Project:
    return await change_project(backends, staff, project_id, body.model_dump(exclude_unset=True))


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
        P.ChangeProjectStageRequest(
            request_id=request_id,
            project_id=str(project_id),
            stage=stage_value(body.stage),
            reason=body.reason,
            client_note=body.client_note,
        ),
        principal=staff,
    )
    return project_out(changed.project)


@router.patch(
    "/{project_id}/stages/{stage}", summary="Set a stage's planned and actual dates and its note"
)
async def update_stage(
    project_id: UUID, stage: StageName, body: StageUpdate, staff: StaffDep, backends: BackendsDep
) -> StageInfo:
    changes = body.model_dump(exclude_unset=True)
    return await change_stage(backends, staff, project_id, stage, changes)


@router.get("/{project_id}/stage-history", summary="Every stage move: who, when, why")
async def stage_history(project_id: UUID, staff: StaffDep, backends: BackendsDep) -> StageHistory:
    projects = backends.projects
    answer = await projects.call(
        projects.stub.ListStageHistory,
        P.ListStageHistoryRequest(project_id=str(project_id)),
        principal=staff,
    )
    return StageHistory(
        changes=[
            StageMove(
                from_stage=known_stage(c.from_stage),
                to_stage=stage_name(c.to_stage),  # type: ignore[arg-type]
                changed_by=c.changed_by,
                reason=c.reason,
                client_note=c.client_note,
                changed_at=timestamp(c, "changed_at"),
            )
            for c in answer.changes
        ]
    )


@router.get("/{project_id}/board", summary="The status board: stages, forecast, notes, budget")
async def status_board(project_id: UUID, caller: CallerDep, backends: BackendsDep) -> StatusBoard:
    return board_out(await fetch_board(backends, caller, project_id))
