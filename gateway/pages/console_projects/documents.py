"""A project's documents in the console: upload (multipart, read as it
streams: the CSRF field is checked before the file, which comes last),
show to the client or hide, new versions, rename and move, delete and restore,
the version history with downloads of old versions, and folders.

Every document in a URL must belong to the project in the same URL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from portal.documents.v1 import documents_pb2
from starlette.responses import Response

from gateway import csrf, files
from gateway.api.documents import (
    D,
    Incoming,
    change_document,
    create_link,
    fetch_document,
    open_upload,
    upload_limits,
)
from gateway.api.documents.library import (
    add_folder,
    delete,
    documents_of,
    folders_of,
    restore,
    set_client_visible,
)
from gateway.api.projects import fetch_project
from gateway.backends import DocumentsRemote, RemoteError
from gateway.body_limits import BodyTooLarge, discard_rest
from gateway.deps import BackendsDep, DocumentsDep, SettingsDep, StaffPage, TenantDep
from gateway.pages.console_projects.common import act, form_request_id
from gateway.pages.documents import document_item
from gateway.pages.projects import not_found, page_id
from gateway.pages.rendering import FlashKind, Form, refusal, render, see_other, signed_in_form
from gateway.sessions import SignedIn
from services.chassis.auth import Principal

router = APIRouter(include_in_schema=False)


def documents_url(project_id: str, anchor: str = "") -> str:
    return f"/console/projects/{project_id}/documents" + (f"#{anchor}" if anchor else "")


async def _document_of(
    documents: DocumentsRemote, signed_in: SignedIn, project_id: str, document_id: str
) -> documents_pb2.Document:
    doc = await fetch_document(documents, signed_in.person, page_id(document_id, "document"))
    if doc.project_id != project_id:
        raise not_found("document")
    return doc


async def _upload_form(
    request: Request, signed_in: SignedIn, documents: DocumentsRemote
) -> tuple[Form, Incoming]:
    """The upload's text fields, its CSRF token checked; the file not read yet."""
    incoming = await open_upload(request, documents, signed_in.person)
    form = Form(incoming.fields)
    settings = request.app.state.settings
    csrf.check_session_token(settings.csrf_secret, signed_in.token, form.get(csrf.FORM_FIELD))
    return form, incoming


async def _uploading(
    request: Request, back: str, attempt: Awaitable[tuple[str, str, FlashKind]]
) -> Response:
    """Run the upload and go where it says; a refusal (the service's, or the size
    limit, even before the body is read) goes back to `back` saying why. The
    rest of a refused form is read and dropped first (the caller is signed-in
    staff): a browser shows no answer before it has sent the whole form."""
    try:
        then, message, kind = await attempt
    except RemoteError as exc:
        then, message, kind = back, refusal(exc).message, "error"
    except BodyTooLarge as exc:  # stopped at the limit: nothing of it is kept
        then, message, kind = back, exc.error.problem.detail, "error"
    await discard_rest(request)
    return see_other(request, then, flash=message, kind=kind)


@router.get("/console/projects/{project_id}/documents")
async def documents_page(
    request: Request,
    project_id: str,
    signed_in: StaffPage,
    backends: BackendsDep,
    documents: DocumentsDep,
) -> Response:
    project_id = page_id(project_id, "project")
    project = await fetch_project(backends, signed_in.person, project_id)
    folders = (await folders_of(documents, signed_in.person, project_id)).folders
    found = await documents_of(documents, signed_in.person, project_id, include_deleted=True)
    limits = await upload_limits(documents, signed_in.person)
    live = [document_item(d) for d in found.documents if d.deleted_at is None]
    deleted = [document_item(d) for d in found.documents if d.deleted_at is not None]
    return render(
        request,
        "console/documents.html",
        signed_in=signed_in,
        surface="console",
        project=project,
        folders=folders,
        folder_names={f.id: f.name for f in folders},
        documents=live,
        deleted=deleted,
        upload_limit=files.limit_size(limits.max_upload_bytes),
        request_id=str(uuid.uuid4()),
    )


@router.post("/console/projects/{project_id}/documents")
async def upload_document(
    request: Request, project_id: str, signed_in: StaffPage, documents: DocumentsDep
) -> Response:
    project_id = page_id(project_id, "project")
    back = documents_url(project_id, "upload")

    async def attempt() -> tuple[str, str, FlashKind]:
        form, incoming = await _upload_form(request, signed_in, documents)
        if incoming.file is None:
            return back, "Choose a file to upload.", "error"
        folder_id = form["folder_id"]
        header = D.UploadHeader(
            request_id=form_request_id(form),
            project_id=project_id,
            folder_id=folder_id if _is_uuid(folder_id) else "",
            title=form["title"],
            description=form.text("description"),
            client_visible=form.has("client_visible"),
        )
        doc = await incoming.send(documents, signed_in.person, header, new_version=False)
        return documents_url(project_id, f"doc-{doc.id}"), f"{doc.title} is uploaded.", "success"

    return await _uploading(request, back, attempt())


@router.post("/console/projects/{project_id}/documents/{document_id}/versions")
async def upload_version(
    request: Request,
    project_id: str,
    document_id: str,
    signed_in: StaffPage,
    documents: DocumentsDep,
) -> Response:
    project_id = page_id(project_id, "project")
    document_id = page_id(document_id, "document")
    back = documents_url(project_id, f"doc-{document_id}")

    async def attempt() -> tuple[str, str, FlashKind]:
        form, incoming = await _upload_form(request, signed_in, documents)
        doc = await _document_of(documents, signed_in, project_id, document_id)
        if incoming.file is None:
            return back, "Choose the new version's file.", "error"
        header = D.UploadHeader(request_id=form_request_id(form), document_id=doc.id)
        await incoming.send(documents, signed_in.person, header, new_version=True)
        return back, f"A new version of {doc.title} is uploaded.", "success"

    return await _uploading(request, back, attempt())


# -- the forms on a document row ----------------------------------------------------------

# The call to make, the anchor to go back to, and what to say once it is done;
# ValueError with a sentence for the person when the form does not make sense.
DocumentAction = Callable[
    [DocumentsRemote, Principal, Form, documents_pb2.Document], tuple[Awaitable[Any], str, str]
]


def _button(action: DocumentAction) -> Callable[..., Awaitable[Response]]:
    """A document row's form: read it, find the document in this project,
    make the call, go back to its anchor saying what happened (or why not)."""

    async def press(
        request: Request,
        project_id: str,
        document_id: str,
        signed_in: StaffPage,
        documents: DocumentsDep,
    ) -> Response:
        form = await signed_in_form(request, signed_in)
        project_id = page_id(project_id, "project")
        doc = await _document_of(documents, signed_in, project_id, document_id)
        try:
            call, anchor, done = action(documents, signed_in.person, form, doc)
        except ValueError as exc:
            back = documents_url(project_id, f"doc-{doc.id}")
            return see_other(request, back, flash=str(exc), kind="error")
        return await act(request, call, then=documents_url(project_id, anchor), done=done)

    return press


def _edit(
    documents: DocumentsRemote, person: Principal, form: Form, doc: documents_pb2.Document
) -> tuple[Awaitable[Any], str, str]:
    """Rename, describe, move: the form holds all three, so all three are in the mask."""
    if not form["title"]:
        raise ValueError("Enter the document's title.")
    folder_id = form["folder_id"]
    changes = {
        "title": form["title"],
        "description": form.text("description"),
        "folder_id": folder_id if _is_uuid(folder_id) else "",  # "No folder"
    }
    call = change_document(documents, person, doc.id, changes)
    return call, f"doc-{doc.id}", f"{form['title']} is saved."


def _show_or_hide(
    documents: DocumentsRemote, person: Principal, form: Form, doc: documents_pb2.Document
) -> tuple[Awaitable[Any], str, str]:
    show = form["client_visible"] == "1"
    done = (
        f"The client now sees {doc.title}." if show else f"{doc.title} is hidden from the client."
    )
    return set_client_visible(documents, person, doc.id, show), f"doc-{doc.id}", done


def _delete(
    documents: DocumentsRemote, person: Principal, _: Form, doc: documents_pb2.Document
) -> tuple[Awaitable[Any], str, str]:
    done = f"{doc.title} is deleted. It can be restored below."
    return delete(documents, person, doc.id), "deleted", done


def _restore(
    documents: DocumentsRemote, person: Principal, _: Form, doc: documents_pb2.Document
) -> tuple[Awaitable[Any], str, str]:
    return restore(documents, person, doc.id), f"doc-{doc.id}", f"{doc.title} is restored."


FORMS = [("", _edit), ("/visibility", _show_or_hide), ("/delete", _delete), ("/restore", _restore)]
for path, action in FORMS:
    router.add_api_route(
        f"/console/projects/{{project_id}}/documents/{{document_id}}{path}",
        _button(action),
        methods=["POST"],
    )


@router.post("/console/projects/{project_id}/folders")
async def new_folder(
    request: Request, project_id: str, signed_in: StaffPage, documents: DocumentsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    back = documents_url(project_id, "folders")
    if not form["name"]:
        return see_other(request, back, flash="Enter the folder's name.", kind="error")
    call = add_folder(
        documents,
        signed_in.person,
        project_id,
        request_id=form_request_id(form),
        name=form["name"],
    )
    return await act(request, call, then=back, done=f"The folder {form['name']} is added.")


@router.get("/console/projects/{project_id}/documents/{document_id}/download")
async def download_document(
    request: Request,
    project_id: str,
    document_id: str,
    signed_in: StaffPage,
    documents: DocumentsDep,
    settings: SettingsDep,
    tenant: TenantDep,
    version_id: str = "",
) -> Response:
    project_id = page_id(project_id, "project")
    doc = await _document_of(documents, signed_in, project_id, document_id)
    if version_id and not any(v.id == version_id for v in doc.versions):
        raise not_found("version")
    sealed = await create_link(
        documents,
        signed_in.person,
        secret=settings.csrf_secret,
        tenant_id=tenant.id,
        document_id=doc.id,
        version_id=version_id,
    )
    return see_other(request, f"/d/{sealed}")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
