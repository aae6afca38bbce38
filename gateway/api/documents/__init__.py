"""Documents: each project's folders and files, their client visibility, and the
bytes (uploads streamed to the documents service, downloads streamed back).

Reading is for staff and clients; changing is staff only. `library` holds
the JSON routes of folders and documents, `upload` the multipart uploads and
the upload limit, `download` the links and the streamed files; `shapes` the
JSON models. Without GATEWAY_DOCUMENTS_TARGET every route here answers 503."""

from __future__ import annotations

# Importing the modules registers their routes: library's first (download
# imports it), then download's, then upload's, the order the OpenAPI lists.
from gateway.api.documents import download as download
from gateway.api.documents import library as library
from gateway.api.documents import upload as upload
from gateway.api.documents.common import CHUNK_SIZE, D, download_router, router, upload_router
from gateway.api.documents.download import create_link, serve_download
from gateway.api.documents.library import (
    change_document,
    fetch_document,
    fetch_documents,
    fetch_folders,
)
from gateway.api.documents.upload import Incoming, open_upload, upload_limits

__all__ = [
    "CHUNK_SIZE",
    "D",
    "Incoming",
    "change_document",
    "create_link",
    "download_router",
    "fetch_document",
    "fetch_documents",
    "fetch_folders",
    "open_upload",
    "router",
    "serve_download",
    "upload_limits",
    "upload_router",
]
