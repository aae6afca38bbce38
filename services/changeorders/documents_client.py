"""Changeorders files an approved order's certificate client-visible in the
project's Change orders folder, made once per project
(services/chassis/documents_filing.py does the filing; the folder is
changeorders' own)."""

from __future__ import annotations

import uuid

from services.chassis.documents_filing import DocumentsFiler, Filing
from services.chassis.runtime import Remote

FOLDER = "Change orders"
FILING = Filing(
    service="changeorders",
    folder=FOLDER,
    folder_namespace=uuid.UUID("5a0e7c3b-2d91-4f48-b6e2-8c1d4a9f0e37"),
)


class DocumentsClient(DocumentsFiler):
    def __init__(self, documents: Remote) -> None:
        super().__init__(documents, FILING)
