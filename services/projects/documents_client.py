"""Projects files the signed copy of a proposal in the project's documents
(services/chassis/documents_filing.py does the filing): what is its own is
the folder, used when someone made it and never made here, and the words."""

from __future__ import annotations

from services.chassis.documents_filing import DocumentsFiler, Filing
from services.chassis.runtime import Remote

FOLDER = "Proposals"
FILING = Filing(service="projects", folder=FOLDER)
DESCRIPTION = "Signed by the client in the portal; the signature record is on the last page."


class DocumentsClient(DocumentsFiler):
    def __init__(self, documents: Remote) -> None:
        super().__init__(documents, FILING)

    async def store_signed_copy(
        self,
        *,
        tenant_id: str,
        project_id: str,
        title: str,
        filename: str,
        data: bytes,
        request_id: str,
    ) -> None:
        """Client-visible, in the Proposals folder; the request id makes a retry a no-op."""
        await self.file(
            tenant_id=tenant_id,
            project_id=project_id,
            title=title,
            description=DESCRIPTION,
            filename=filename,
            data=data,
            request_id=request_id,
        )
