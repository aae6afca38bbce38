"""What every documents route shares: the three routers (JSON, multipart
uploads, downloads)."""

from __future__ import annotations

from fastapi import APIRouter
from portal.documents.v1 import documents_pb2

from gateway.problems import problem_responses

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
