"""python -m services.documents"""

from __future__ import annotations

from pathlib import Path

import grpc
from portal.documents.v1 import documents_pb2, documents_pb2_grpc

from services.chassis.runtime import Deps, ServiceSpec, main
from services.documents import handlers
from services.documents.blobstore import BlobStore, LocalBlobStore, S3BlobStore
from services.documents.grpc_api import DEADLINE_CEILINGS, DocumentsServicer
from services.documents.service import Vault
from services.documents.settings import DocumentsSettings


def build_store(settings: DocumentsSettings) -> BlobStore:
    if settings.storage == "s3":
        return S3BlobStore.from_settings(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key=settings.s3_access_key_id or None,
            secret_key=settings.s3_secret_access_key or None,
            prefix=settings.s3_prefix,
        )
    return LocalBlobStore(Path(settings.blob_dir))


def build_vault(settings: DocumentsSettings) -> Vault:
    return Vault(
        store=build_store(settings),
        keys=settings.keys(),
        link_secret=settings.link_secret.encode(),
        link_ttl_seconds=settings.link_ttl_seconds,
        max_upload_bytes=settings.max_upload_bytes,
    )


def register(server: grpc.aio.Server, deps: Deps[DocumentsSettings]) -> None:
    documents_pb2_grpc.add_DocumentsServiceServicer_to_server(
        DocumentsServicer(deps.sessions, build_vault(deps.settings)), server
    )


SPEC = ServiceSpec(
    name="documents",
    settings=DocumentsSettings,
    grpc_service_names=[documents_pb2.DESCRIPTOR.services_by_name["DocumentsService"].full_name],
    register_grpc=register,
    subscriptions=lambda deps: handlers.SUBSCRIPTIONS,
    deadline_ceilings=DEADLINE_CEILINGS,
)

if __name__ == "__main__":
    main(SPEC)
