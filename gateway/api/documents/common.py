"""What every documents route shares: the three routers (JSON, multipart
uploads, downloads), the documents backend as a dependency, and the refusals
the gateway words itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from portal.documents.v1 import documents_pb2, documents_pb2_grpc

from gateway.backends import BackendsDep, Remote
from gateway.problems import Problem, ProblemError, problem_responses, problem_type

D = documents_pb2
CHUNK_SIZE = 64 * 1024
DocumentsRemote = Remote[documents_pb2_grpc.DocumentsServiceStub]

router = APIRouter(tags=["documents"], responses=problem_responses(401, 403, 409))
# Multipart bodies: outside the JSON-only check of the API router (which would
# also read the whole body into memory first).
upload_router = APIRouter(
    prefix="/api/v1",
    tags=["documents"],
    responses=problem_responses(401, 403, 404, 409, 413, 422, 500, 503, 504),
)
download_router = APIRouter(
    prefix="/api/v1",
    tags=["documents"],
    responses=problem_responses(403, 404, 416, 500, 503, 504),
)


def unavailable() -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("unavailable"),
            title="Service unavailable",
            status=503,
            detail="Documents are not available on this portal yet.",
            code="documents_unavailable",
        )
    )


async def documents_remote(backends: BackendsDep) -> DocumentsRemote:
    if backends.documents is None:
        raise unavailable()
    return backends.documents


DocumentsDep = Annotated[DocumentsRemote, Depends(documents_remote)]


def not_found(what: str = "document") -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("not-found"),
            title="Not found",
            status=404,
            detail=f"There is no such {what} here.",
            code="not_found",
        )
    )
