"""Projects, their stages and the status board.

Reading (list, get, board) is for staff and for client contacts alike: the
caller's principal goes to projects, which shows a client only their own
customer's projects and answers NOT_FOUND for anything else. Changing is staff
only (API token or staff session). The shapes live in `shapes`, the calls the
pages share in `calls`; this module holds the routes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from gateway.api.projects.calls import (
    change_project,
    change_stage,
    fetch_board,
    fetch_project,
    fetch_stage_history,
    landing_of,
    list_projects_page,
    move_stage,
)
from gateway.api.projects.calls import (
    create_project as create,
)
from gateway.api.projects.shapes import (
    STAGE_NAMES,
    Budget,
    ClientNote,
    NewProject,
    Project,
    ProjectChange,
    ProjectPage,
    StageChange,
    StageHistory,
    StageInfo,
    StageMove,
    StageName,
    StageUpdate,
    StatusBoard,
    WaitingItem,
    board_out,
    known_stage,
    project_out,
    stage_info_out,
    stage_name,
    stage_value,
)
from gateway.deps import (
    BackendsDep,
    CallerDep,
    PageSize,
    PageToken,
    RequestIdDep,
    StaffDep,
    TenantDep,
    page_of,
)
from gateway.problems import problem_responses

__all__ = [
    "STAGE_NAMES",
    "Budget",
    "ClientNote",
    "Project",
    "ProjectPage",
    "StageChange",
    "StageInfo",
    "StageMove",
    "StageName",
    "StatusBoard",
    "WaitingItem",
    "board_out",
    "change_project",
    "change_stage",
    "create",
    "fetch_board",
    "fetch_project",
    "fetch_stage_history",
    "known_stage",
    "landing_of",
    "list_projects_page",
    "move_stage",
    "project_out",
    "router",
    "stage_info_out",
    "stage_name",
    "stage_value",
]

router = APIRouter(
    prefix="/projects", tags=["projects"], responses=problem_responses(401, 403, 409)
)


@router.get("", summary="List projects (staff: all; a client: their own)")
async def list_projects(
    request: Request, caller: CallerDep, page_size: PageSize = None, page_token: PageToken = ""
) -> ProjectPage:
    # The backends from the request and the page inline, not dependencies: the hottest API call.
    page = page_of(page_size, page_token)
    return await list_projects_page(request.state.backends, caller, page)


@router.get("/{project_id}", summary="Get a project")
async def get_project(project_id: UUID, caller: CallerDep, backends: BackendsDep) -> Project:
    return await fetch_project(backends, caller, project_id)


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
    created = await create(
        backends,
        staff,
        request_id=request_id,
        name=body.name,
        customer_id=body.customer_id,
        site_address=body.site_address,
        currency=tenant.currency,
    )
    response.headers["Location"] = request.app.url_path_for("get_project", project_id=created.id)
    return created


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
    return await move_stage(
        backends,
        staff,
        project_id,
        request_id=request_id,
        stage=body.stage,
        reason=body.reason,
        client_note=body.client_note,
    )


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
    return await fetch_stage_history(backends, staff, project_id)


@router.get("/{project_id}/board", summary="The status board: stages, forecast, notes, budget")
async def status_board(
    project_id: UUID,
    caller: CallerDep,
    backends: BackendsDep,
    as_client: Annotated[
        bool,
        Query(description="Staff: the board exactly as the client sees it. Clients get theirs."),
    ] = False,
) -> StatusBoard:
    return await fetch_board(backends, caller, project_id, as_client=as_client)
