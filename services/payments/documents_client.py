"""Payments files invoice and receipt PDFs client-visible in the project's
Invoices folder, made once per project (services/chassis/documents_filing.py
does the filing; the folder is payments' own)."""

from __future__ import annotations

import uuid

from services.chassis.documents_filing import DocumentsFiler, Filing
from services.chassis.runtime import Remote

FOLDER = "Invoices"
FILING = Filing(
    service="payments",
    folder=FOLDER,
    folder_namespace=uuid.UUID("c4f1e2d3-8a7b-4e6f-9d0c-2b3a4e5f6071"),
)


class DocumentsClient(DocumentsFiler):
    def __init__(self, documents: Remote) -> None:
        super().__init__(documents, FILING)
