"""The console's project list and "new project"."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from starlette.responses import Response

from gateway.api.customers import customers_of
from gateway.api.people import CustomerOut
from gateway.api.projects import Project, create, list_projects_page
from gateway.deps import BackendsDep, StaffPage, TenantDep
from gateway.pages import project_views as views
from gateway.pages.console_projects.common import (
    IP,
    MAX_PAGES,
    PAGE_SIZE,
    form_request_id,
    project_url,
)
from gateway.pages.rendering import (
    Form,
    refusal,
    render,
    see_other,
    signed_in_form,
)
from gateway.sessions import SignedIn
from gateway.tenancy import RemoteError

router = APIRouter(include_in_schema=False)


async def _customers(backends: BackendsDep, signed_in: SignedIn) -> list[CustomerOut]:
    listed = await customers_of(backends, signed_in.person, include_deleted=False)
    return sorted(listed, key=lambda c: c.name.lower())


async def _projects(
    backends: BackendsDep, signed_in: SignedIn, *, customer_id: str, page_token: str
) -> tuple[list[Project], str]:
    """A page of the tenant's projects; with a customer, all of theirs (the
    contract has no customer filter, so the pages are read here)."""
    found: list[Project] = []
    token = page_token
    for _ in range(MAX_PAGES if customer_id else 1):
        page = await list_projects_page(
            backends,
            signed_in.person,
            common_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token),
        )
        found += [p for p in page.projects if not customer_id or p.customer_id == customer_id]
        token = page.next_page_token
        if not token:
            break
    return found, token


async def _list_page(
    request: Request,
    signed_in: SignedIn,
    backends: BackendsDep,
    *,
    customer_id: str = "",
    page_token: str = "",
    status: int = 200,
    form: Form | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    customers, (found, next_token) = await asyncio.gather(
        _customers(backends, signed_in),
        _projects(backends, signed_in, customer_id=customer_id, page_token=page_token),
    )
    names = {c.id: c.name for c in customers}
    return render(
        request,
        "console/projects.html",
        signed_in=signed_in,
        surface="console",
        status=status,
        projects=[
            {
                "project": p,
                "customer": names.get(p.customer_id, "—"),
                "stage": views.stage_label(p.stage),
            }
            for p in found
        ],
        customers=[c for c in customers if c.access_state != IP.ACCESS_STATE_DELETED],
        customer_id=customer_id,
        customer_name=names.get(customer_id, ""),
        next_token=next_token if not customer_id else "",
        form=form,
        request_id=str(uuid.uuid4()),
        error=error,
        errors=errors or {},
    )


@router.get("/console/projects")
async def projects_list(
    request: Request,
    signed_in: StaffPage,
    backends: BackendsDep,
    customer_id: str = "",
    page_token: str = "",
) -> Response:
    try:
        customer_id = str(uuid.UUID(customer_id)) if customer_id else ""
    except ValueError:
        customer_id = ""
    return await _list_page(
        request, signed_in, backends, customer_id=customer_id, page_token=page_token[:1024]
    )


@router.post("/console/projects")
async def create_project(
    request: Request, signed_in: StaffPage, tenant: TenantDep, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    errors = {}
    if not form["name"]:
        errors["name"] = "Enter the project's name, e.g. Home cinema & whole-home audio."
    if not form["customer_id"]:
        errors["customer_id"] = "Choose the customer."
    if errors:
        return await _list_page(request, signed_in, backends, status=422, form=form, errors=errors)
    try:
        project = await create(
            backends,
            signed_in.person,
            request_id=form_request_id(form),
            name=form["name"],
            customer_id=form["customer_id"],
            site_address=form["site_address"],
            currency=tenant.currency,
        )
    except RemoteError as exc:
        why = refusal(exc)
        return await _list_page(
            request,
            signed_in,
            backends,
            status=why.status,
            form=form,
            error=why.message,
            errors=why.fields,
        )
    return see_other(
        request, project_url(project.id), flash=f"{project.name} ({project.reference}) is added."
    )
