"""Documents' use cases, one async function each; nothing but the unit of work commits."""

from services.documents.service.common import DocumentView, Vault
from services.documents.service.downloads import (
    DownloadLink,
    OpenBlob,
    create_download_link,
    read_blob,
)
from services.documents.service.keys import RotationReport, rotate_keys
from services.documents.service.library import (
    create_folder,
    delete_document,
    get_document,
    list_documents,
    list_folders,
    on_project_created,
    restore_document,
    set_visibility,
    update_document,
)
from services.documents.service.limits import get_upload_limit, set_upload_limit
from services.documents.service.uploads import UploadHeader, upload

__all__ = [
    "DocumentView",
    "DownloadLink",
    "OpenBlob",
    "RotationReport",
    "UploadHeader",
    "Vault",
    "create_download_link",
    "create_folder",
    "delete_document",
    "get_document",
    "get_upload_limit",
    "list_documents",
    "list_folders",
    "on_project_created",
    "read_blob",
    "restore_document",
    "rotate_keys",
    "set_upload_limit",
    "set_visibility",
    "update_document",
    "upload",
]
