"""What every documents route shares: the three routers (JSON, multipart
uploads, downloads), and the refusals
the gateway words itself."""

from __future__ import annotations

from fastapi import APIRouter
from portal.documents.v1 import documents_pb2

from gateway.problems import Problem, ProblemError, problem_responses, problem_type

D = documents_pb2
CHUNK_SIZE = 64 * 1024

router = APIRouter(tags=["documents"], responses=problem_responses(401, 403, 409))
# Multipart bodies: outside the JSON-only check of the API router (which would
# also read the whole body into memory first).
upload_router = APIRouter(
    prefix="/api/v1",
    tags=["documents"],
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422, 500, 503, 504),
)
download_router = APIRouter(
    prefix="/api/v1",
    tags=["documents"],
    responses=problem_responses(403, 404, 416, 500, 503, 504),
)


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
