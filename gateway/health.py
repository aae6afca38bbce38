"""Liveness for the supervisor: answers on any host and calls nothing."""

from __future__ import annotations

from fastapi import APIRouter

PATH = "/healthz"

router = APIRouter(include_in_schema=False)


@router.get(PATH)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
