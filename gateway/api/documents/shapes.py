"""The JSON shapes of documents, folders, versions and links, and the
translation from the service's messages (staff see more than clients)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from portal.documents.v1 import documents_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Line, Text
from gateway.api.translate import timestamp


class Folder(BaseModel):
    id: str
    project_id: str
    name: str
    position: int


class Folders(BaseModel):
    folders: list[Folder]


class NewFolder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=200)


class Version(BaseModel):
    id: str
    number: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str | None = Field(None, description="Staff only.")
    uploaded_at: datetime | None


class Document(BaseModel):
    id: str
    project_id: str
    folder_id: str | None
    title: str
    description: str
    client_visible: bool
    current: Version | None
    versions: list[Version] = Field(description="Newest first; staff only (empty for clients).")
    created_at: datetime | None
    deleted_at: datetime | None
    visibility_changed_by: str | None = Field(None, description="Staff only.")
    visibility_changed_at: datetime | None = None


class Documents(BaseModel):
    documents: list[Document]


class DocumentChange(BaseModel):
    """Only the fields sent change: `null` or "" empties the description,
    `null` takes the document out of its folder (a title cannot be emptied)."""

    model_config = ConfigDict(extra="forbid")

    title: Line | None = Field(None, min_length=1, max_length=300)
    description: Text | None = Field(None, max_length=4000)
    folder_id: UUID | None = Field(None, description="Move it to this folder of the project.")


class VisibilityChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_visible: bool


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version_id: UUID | None = Field(None, description="Staff only: an older version.")


class DownloadLink(BaseModel):
    url: str = Field(description="Path on this host that serves the file, e.g. /d/<token>.")
    token: str
    expires_at: datetime | None
    filename: str
    content_type: str
    size_bytes: int


def folder_out(folder: documents_pb2.Folder) -> Folder:
    return Folder(
        id=folder.id, project_id=folder.project_id, name=folder.name, position=folder.position
    )


def version_out(version: documents_pb2.DocumentVersion, *, staff: bool) -> Version:
    return Version(
        id=version.id,
        number=version.number,
        filename=version.filename,
        content_type=version.content_type,
        size_bytes=version.size_bytes,
        sha256=version.sha256,
        uploaded_by=(version.uploaded_by or None) if staff else None,
        uploaded_at=timestamp(version, "uploaded_at"),
    )


def document_out(doc: documents_pb2.Document, *, staff: bool) -> Document:
    return Document(
        id=doc.id,
        project_id=doc.project_id,
        folder_id=doc.folder_id or None,
        title=doc.title,
        description=doc.description,
        client_visible=doc.client_visible,
        current=version_out(doc.current, staff=staff) if doc.HasField("current") else None,
        versions=[version_out(v, staff=True) for v in doc.versions] if staff else [],
        created_at=timestamp(doc, "created_at"),
        deleted_at=timestamp(doc, "deleted_at"),
        visibility_changed_by=(doc.visibility_changed_by or None) if staff else None,
        visibility_changed_at=timestamp(doc, "visibility_changed_at") if staff else None,
    )
