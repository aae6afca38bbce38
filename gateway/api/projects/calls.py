"""One call function per projects operation, returning the API's model: the
JSON routes and the pages (client and console) both call these, so a request
is built in one place and a page renders what the API answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2

from gateway.api.projects.shapes import (
    Project,
    ProjectPage,
    StageHistory,
    StageInfo,
    StageMove,
    StatusBoard,
    board_out,
    known_stage,
    project_out,
    stage_info_out,
    stage_name,
    stage_value,
)
from gateway.api.translate import masked, timestamp
from gateway.backends import Backends
from services.chassis.auth import Principal

P = projects_pb2


@dataclass(frozen=True)
class Landing:
    projects: list[Project]
    more: bool
    board: StatusBoard | None


async def list_projects_page(
    backends: Backends, principal: Principal, page: common_pb2.PageRequest
) -> ProjectPage:
    """Staff: every project; a client: their customer's (projects decides)."""
    projects = backends.projects
    answer = await projects.call(
        projects.stub.ListProjects, P.ListProjectsRequest(page=page), principal=principal
    )
    return ProjectPage(
        projects=[project_out(p) for p in answer.projects],
        next_page_token=answer.page.next_page_token,
    )


async def landing_of(backends: Backends, principal: Principal, page_size: int) -> Landing:
    """A returning client's first screen in one call: their first projects and,
    when they have exactly one, its status board (projects answers both)."""
    projects = backends.projects
    answer = await projects.call(
        projects.stub.ListProjects,
        P.ListProjectsRequest(
            page=common_pb2.PageRequest(page_size=page_size), board_if_only_one=True
        ),
        principal=principal,
    )
    return Landing(
        projects=[project_out(p) for p in answer.projects],
        more=bool(answer.page.next_page_token),
        board=board_out(answer.board) if answer.HasField("board") else None,
    )


async def fetch_project(
    backends: Backends, principal: Principal, project_id: UUID | str
) -> Project:
    projects = backends.projects
    answer = await projects.call(
        projects.stub.GetProject,
        P.GetProjectRequest(project_id=str(project_id)),
        principal=principal,
    )
    return project_out(answer.project)


async def fetch_board(
    backends: Backends, principal: Principal, project_id: UUID | str, *, as_client: bool = False
) -> StatusBoard:
    """`as_client`: staff asking for the board as the project's customer sees
    it (the console's preview); projects decides what that is."""
    projects = backends.projects
    answer = await projects.call(
        projects.stub.GetStatusBoard,
        P.GetStatusBoardRequest(project_id=str(project_id), as_client=as_client),
        principal=principal,
    )
    return board_out(answer)


async def fetch_stage_history(
    backends: Backends, principal: Principal, project_id: UUID | str
) -> StageHistory:
    projects = backends.projects
    answer = await projects.call(
        projects.stub.ListStageHistory,
        P.ListStageHistoryRequest(project_id=str(project_id)),
        principal=principal,
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


async def create_project(
    backends: Backends,
    principal: Principal,
    *,
    request_id: str,
    name: str,
    customer_id: UUID | str,
    site_address: str,
    currency: str,
) -> Project:
    projects = backends.projects
    created = await projects.call(
        projects.stub.CreateProject,
        P.CreateProjectRequest(
            request_id=request_id,
            name=name,
            customer_id=str(customer_id),
            site_address=site_address,
            currency=currency,
        ),
        principal=principal,
    )
    return project_out(created.project)


async def change_project(
    backends: Backends, principal: Principal, project_id: UUID | str, changes: Mapping[str, Any]
) -> Project:
    """UpdateProject with `changes` as its field mask: the API's PATCH and the
    console's details form both call this, once, with no read before."""
    projects = backends.projects
    request = masked(P.UpdateProjectRequest(project_id=str(project_id)), changes)
    answer = await projects.call(projects.stub.UpdateProject, request, principal=principal)
    return project_out(answer.project)


async def move_stage(
    backends: Backends,
    principal: Principal,
    project_id: UUID | str,
    *,
    request_id: str,
    stage: str,
    reason: str,
    client_note: str,
) -> Project:
    """ChangeProjectStage; projects asks for a reason when it goes backwards."""
    projects = backends.projects
    changed = await projects.call(
        projects.stub.ChangeProjectStage,
        P.ChangeProjectStageRequest(
            request_id=request_id,
            project_id=str(project_id),
            stage=stage_value(stage),
            reason=reason,
            client_note=client_note,
        ),
        principal=principal,
    )
    return project_out(changed.project)


async def change_stage(
    backends: Backends,
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
