"""The client's documents: a project's library (folders as filter chips, search
by title), downloads through short-lived links, and `/d/{token}`, where every
download link of the portal is served.

Calls are made as the portal principal; documents alone decides what a client
sees (client-visible, not deleted, current version only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway import files
from gateway.api.documents import create_link, fetch_document
from gateway.api.documents.download import download
from gateway.api.documents.library import documents_of, folders_of
from gateway.api.documents.shapes import Document
from gateway.api.projects import fetch_project
from gateway.deps import BackendsDep, ClientPage, DocumentsDep, SettingsDep, TenantDep
from gateway.pages.projects import list_projects, not_found, page_id, portal_of
from gateway.pages.rendering import render, see_other

router = APIRouter(include_in_schema=False)
MAX_QUERY = 200


def document_item(doc: Document) -> dict:
    """What a list row shows of the API's document: type, size, date."""
    current = doc.current
    return {
        "doc": doc,
        "kind": files.file_kind(
            current.content_type if current else "", current.filename if current else ""
        ),
        "size": files.human_size(current.size_bytes if current else 0),
        "uploaded_at": current.uploaded_at if current else None,
        "request_id": str(uuid.uuid4()),  # a new version's form: a double-click uploads once
        "versions": [{"version": v, "size": files.human_size(v.size_bytes)} for v in doc.versions],
    }


@router.get("/documents")
async def documents_home(
    request: Request, signed_in: ClientPage, backends: BackendsDep
) -> Response:
    """The navigation's "Documents": one project goes straight to its library."""
    found, more = await list_projects(backends, portal_of(signed_in))
    if len(found) == 1 and not more:
        return see_other(request, f"/projects/{found[0].id}/documents")
    return see_other(request, "/projects")


@router.get("/projects/{project_id}/documents")
async def documents_page(
    request: Request,
    project_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    documents: DocumentsDep,
    folder: str = "",
    q: str = "",
) -> Response:
    project_id = page_id(project_id, "project")
    principal = portal_of(signed_in)
    project = await fetch_project(backends, principal, project_id)
    folders = (await folders_of(documents, principal, project_id)).folders
    chosen = next((f for f in folders if f.id == folder), None)
    query = q.strip()[:MAX_QUERY]
    found = await documents_of(
        documents, principal, project_id, folder_id=chosen.id if chosen else "", query=query
    )
    names = {f.id: f.name for f in folders}
    return render(
        request,
        "documents.html",
        signed_in=signed_in,
        surface="portal",
        project=project,
        folders=folders,
        folder=chosen,
        folder_names=names,
        query=query,
        documents=[document_item(d) for d in found.documents],
    )


@router.get("/projects/{project_id}/documents/{document_id}/download")
async def download_document(
    request: Request,
    project_id: str,
    document_id: str,
    signed_in: ClientPage,
    documents: DocumentsDep,
    settings: SettingsDep,
    tenant: TenantDep,
) -> Response:
    """A fresh short-lived link, then the file from it (303 to /d/<token>)."""
    project_id = page_id(project_id, "project")
    principal = portal_of(signed_in)
    doc = await fetch_document(documents, principal, page_id(document_id, "document"))
    if doc.project_id != project_id:
        raise not_found("document")
    sealed = await create_link(
        documents,
        principal,
        secret=settings.csrf_secret,
        tenant_id=tenant.id,
        document_id=doc.id,
    )
    return see_other(request, f"/d/{sealed}")


# Every download link of the portal, /d/<token>: the API's own handler, so a
# link serves the same bytes, headers and ranges from either address.
router.add_api_route("/d/{token}", download, methods=["GET", "HEAD"], include_in_schema=False)
