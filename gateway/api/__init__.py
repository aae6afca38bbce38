"""The JSON API, /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api import emails, projects, tenant
from gateway.problems import problem_responses

router = APIRouter(prefix="/api/v1", responses=problem_responses(404, 422, 500, 503, 504))
router.include_router(tenant.router)
router.include_router(projects.router)
router.include_router(emails.router)
