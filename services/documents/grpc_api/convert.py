"""Rows -> protobuf messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from portal.documents.v1 import documents_pb2 as pb
from sqlalchemy import Row

from services.documents.models import DocumentVersion, Folder
from services.documents.service import DocumentView


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


def folder_pb(folder: Folder | Row[Any]) -> pb.Folder:
    return pb.Folder(
        id=str(folder.id),
        project_id=str(folder.project_id),
        name=folder.name,
        position=folder.position,
    )


def version_pb(v: DocumentVersion | Row[Any], *, for_client: bool = False) -> pb.DocumentVersion:
    return pb.DocumentVersion(
        id=str(v.id),
        number=v.number,
        filename=v.filename,
        content_type=v.content_type,
        size_bytes=v.size_bytes,
        sha256=v.sha256,
        uploaded_by="" if for_client else v.uploaded_by,  # staff ids stay with staff
        uploaded_at=ts(v.uploaded_at),
    )


def document_pb(dv: DocumentView) -> pb.Document:
    d = dv.document
    return pb.Document(
        id=str(d.id),
        project_id=str(d.project_id),
        folder_id=str(d.folder_id) if d.folder_id else "",
        title=d.title,
        description=d.description,
        client_visible=d.client_visible,
        current=version_pb(dv.current, for_client=dv.for_client) if dv.current else None,
        versions=[version_pb(v) for v in dv.versions],
        created_at=ts(d.created_at),
        deleted_at=ts(d.deleted_at),
        visibility_changed_by="" if dv.for_client else d.visibility_changed_by,
        visibility_changed_at=None if dv.for_client else ts(d.visibility_changed_at),
    )
